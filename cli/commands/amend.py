"""`safeguard amend`: correct an entry; the original stays as it was."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import credentials, output
from ..casework import (
    AtOption,
    CaseArgument,
    EditorOption,
    JsonOption,
    TextFileOption,
    number,
    read_text,
)
from ..entering import entering


def amend(
    case: CaseArgument,
    entry_text: Annotated[
        str,
        typer.Argument(
            metavar="ENTRY",
            help="The entry's number in the case, as its timeline shows it (1 is the disclosure).",
            show_default=False,
        ),
    ],
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Correct an entry; the original stays as it was.

    The correction is a new entry. On a terminal, the entry is shown before the correction is
    asked for.
    """
    from safeguarding.entries import Amendment

    from .. import views

    entry = number(entry_text, "an entry number", "the entry's number from the timeline, e.g. 3")
    # An entry the case does not have, or one that cannot be amended, is refused here.
    early = Amendment(target=entry)
    with entering(case, at, text_file, json, early) as this:
        file = this.book.read(case)
        original = file.numbered(entry)
        if text_file is None and credentials.is_interactive():
            output.err.print(views.entry_preview(file, original))
        draft = early.written(read_text(f"The correction to entry {entry}", text_file, editor))
        this.add(
            draft,
            f"the correction of entry {entry}",
            lambda w: (
                f"Recorded the correction of entry {entry} as entry {w.number} of {w.reference}."
            ),
            amends=original.id,
            amends_number=entry,
        )
