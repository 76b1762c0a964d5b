"""`safeguard timeline`: a case's chronology on screen, or as JSON."""

from __future__ import annotations

from safeguarding import documents_json

from .. import output
from ..context import unlock
from ..output import JsonOption
from ..settings import CaseArgument, school_settings


def timeline(case: CaseArgument, json: JsonOption = False) -> None:
    """Show a case's chronology, day by day.

    Its header, entries by day, actions and checkpoint.

    Every view is recorded in the vault's access log ('safeguard audit').
    """
    from safeguarding import access

    settings, kinds = school_settings()
    unlocked = unlock()
    try:
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
