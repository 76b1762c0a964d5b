"""`safeguard advice`: record the advice given (the LADO, the County, the police)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..casework import (
    AtOption,
    CaseArgument,
    EditorOption,
    JsonOption,
    TextFileOption,
    ask_name,
    name_needed,
    read_text,
)
from ..entering import entering


def advice(
    case: CaseArgument,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="WHO",
            help="Who gave the advice, e.g. the LADO (asked for on a terminal).",
        ),
    ] = None,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Record the advice given, e.g. by the LADO or the County."""
    from safeguarding.entries import Advice

    name_needed(source, "--from", "WHO")
    with entering(case, at, text_file, json, Advice) as this:
        source = ask_name(source, "Who gave the advice? (name, e.g. J. Okafor, LADO)")
        draft = Advice(source=source, text=read_text("The advice", text_file, editor))
        this.add(
            draft,
            "the advice",
            lambda w: f"Recorded the advice as entry {w.number} of {w.reference}.",
        )
