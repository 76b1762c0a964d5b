"""`safeguard amend`: correct an entry; the original stays as it was."""

from __future__ import annotations

from typing import Annotated

import typer

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
        str, typer.Argument(metavar="ENTRY", help="The entry to correct.", show_default=False)
    ],
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Correct an entry; the original stays as it was.

    The correction is a new entry.
    """
    from safeguarding.entries import Amendment

    entry = number(entry_text, "an entry number", "the entry's number from the timeline, e.g. 8")
    early = Amendment(target=entry)
    with entering(case, at, text_file, json, early) as this:
        draft = early.written(read_text(f"The correction to entry {entry}", text_file, editor))
        saved = f"the correction of entry {entry}"
        this.add(
            draft,
            saved,
            lambda w: f"Recorded the correction of entry {entry} as entry {w.entry}.",
            amends=entry,
        )
