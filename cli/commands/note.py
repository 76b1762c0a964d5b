"""`safeguard note`: add a note to a case."""

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


def note(
    case: CaseArgument,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Add a note to a case."""
    from safeguarding.entries import Note

    with entering(case, at, text_file, json, Note) as this:
        draft = Note(text=read_text("The note", text_file, editor))
        this.add(
            draft, "the note", lambda w: f"Recorded the note as entry {w.number} of {w.reference}."
        )
