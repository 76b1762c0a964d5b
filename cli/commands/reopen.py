"""`safeguard reopen`: reopen a closed case, giving the reason."""

from __future__ import annotations

from ..casework import (
    AtOption,
    CaseArgument,
    EditorOption,
    JsonOption,
    TextFileOption,
    read_text,
)
from ..entering import entering


def reopen(
    case: CaseArgument,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Reopen a closed case, giving the reason.

    The text is the reason."""
    from safeguarding.entries import Reopening

    early = Reopening()
    with entering(case, at, text_file, json, early) as this:
        need = "say why the case is being reopened"
        draft = early.written(read_text("Why it is being reopened", text_file, editor, need=need))
        this.add(draft, "the reopening", lambda w: f"Reopened {w.reference}.")
