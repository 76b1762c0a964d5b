"""Times and dates as people type them (`--at`, `--due`), turned into aware datetimes and dates.

A time without a zone is local time.  Nothing here reads the clock itself: callers pass `now`,
so a test (or the demo) can fix it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from safeguarding.errors import UsageError

FORMATS_HINT = "use e.g. 2026-11-20 14:30, 2026-11-20T14:30 or 2026-11-20 (local time)"
FUTURE_HINT = "to plan something, use 'safeguard action add CASE --due DATE'"


def parse_at(text: str, now: datetime, *, future_hint: str = FUTURE_HINT) -> datetime:
    """An event's time: ISO date or date-time, local if no zone; never in the future.

    `future_hint` is what to do instead of a future time (an action's own command says how
    its --at and --due differ, rather than suggest itself)."""
    cleaned = text.strip()
    try:
        if len(cleaned) == 10:
            moment = datetime.combine(date.fromisoformat(cleaned), time(0, 0))
        else:
            moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise UsageError(f"{text!r} is not a date or time", hint=FORMATS_HINT) from None
    try:
        if moment.tzinfo is None:
            moment = moment.astimezone()  # local time, with the offset in force on that day
        moment.astimezone(UTC).astimezone()  # stored in UTC, shown in local time
    except (ValueError, OverflowError, OSError):
        # The first or last days of the calendar (0001-01-01) have no time in every zone.
        raise UsageError(f"{text!r} is too far in the past or future", hint=FORMATS_HINT) from None
    if moment > now:
        raise UsageError(
            f"{text!r} is in the future; an entry records what has already happened",
            hint=future_hint,
        )
    return moment


def parse_due(text: str) -> date:
    """An action's due date (a date; a time of day is ignored)."""
    cleaned = text.strip()
    try:
        return (
            date.fromisoformat(cleaned)
            if len(cleaned) == 10
            else datetime.fromisoformat(cleaned).date()
        )
    except ValueError:
        raise UsageError(f"{text!r} is not a date", hint="use e.g. 2026-11-27") from None


def local_date(moment: datetime) -> date:
    return moment.astimezone().date()


def local_text(moment: datetime) -> str:
    """A time for people: local, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
