"""`safeguard close`: close a case with its outcome."""

from __future__ import annotations

from typing import Annotated

import typer

from ..casework import (
    AtOption,
    CaseArgument,
    EditorOption,
    JsonOption,
    TextFileOption,
    read_text,
)
from ..entering import entering


def close(
    case: CaseArgument,
    outcome: Annotated[
        str,
        typer.Option(
            metavar="OUTCOME",
            help="Allegations about adults: substantiated, unsubstantiated, unfounded, false, "
            "malicious. Other cases: resolved, no-further-action, referred-on.",
        ),
    ],
    force: Annotated[
        bool,
        typer.Option("--force", help="Close although actions are open; the text says why."),
    ] = False,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Close a case with its outcome.

    It needs a referral or a recorded decision not to refer, and no open actions (or --force).
    """
    from safeguarding.entries import Closure

    # Closing needs a referral or a decision, and no open actions unless forced: checked first.
    early = Closure(outcome=outcome, force=force)
    with entering(case, at, text_file, json, early) as this:
        label, need = "Why it is being closed", "say why the case is being closed"
        if this.state.open_actions:
            label += ", and why the open actions are left"
            need += " and why its open actions are left"
        draft = early.written(read_text(label, text_file, editor, need=need))
        this.add(draft, f"the closure ({outcome})", lambda w: f"Closed {w.reference}: {outcome}.")
