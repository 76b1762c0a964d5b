"""`safeguard timeline`: a case's chronology on screen, or as JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

from safeguarding import documents_json, documents_retention

from .. import heap, output
from ..context import unlock
from ..output import JsonOption
from ..settings import CaseArgument, school_settings

if TYPE_CHECKING:
    from safeguarding.erasure import Recorded


def timeline(case: CaseArgument, json: JsonOption = False) -> None:
    """Show a case's chronology, day by day.

    Its header, entries by day, actions and checkpoint.

    Every view is recorded in the vault's access log ('safeguard audit'). An erased case
    shows who erased it, when and why: its entries can no longer be read.
    """
    from safeguarding import access, erasure

    with heap.no_cycle_collection():  # many objects, all kept to the end
        settings, kinds = school_settings()
        unlocked = unlock()
        try:
            erased = erasure.erasure_of(unlocked, case)
            if erased is not None:
                _erased(erased, json)
                return
            view = access.view(
                unlocked,
                case,
                categories=kinds,
                school=settings.school_name,
                closures=settings.closure_days,
            )
        finally:
            unlocked.close()
        if json:
            output.emit_json(documents_json.case(view))
            return
        from safeguarding import timeline_rich  # Rich's tables load only for the screen

        output.out.print(timeline_rich.render(view))


def _erased(found: Recorded, json: bool) -> None:
    """An erased case's timeline: its erasure alone."""
    if json:
        output.emit_json(documents_retention.erased(found))
        return
    from rich.markup import escape

    from safeguarding import moments

    entries = "1 entry" if found.entries == 1 else f"{found.entries} entries"
    output.out.print(
        f"{found.reference} was erased on {moments.local_text(found.at)} by {escape(found.by)} "
        f"(entry {found.entry}){' while it was open' if found.forced else ''}.\n"
        f"Why: {escape(found.reason)}\n"
        f"Its keys were destroyed: its {entries} stay in the chronology, signed, and can no "
        "longer be read by anyone.",
        soft_wrap=True,
    )
