"""Times and dates as people type them (`--at`, `--due`), turned into aware datetimes and dates.

A time without a zone is local time.  Nothing here reads the clock itself: callers pass `now`,
so a test (or the demo) can fix it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from safeguarding.errors import UsageError

FORMATS_HINT = (
    "use e.g. 2026-11-20 14:30, 20/11/2026 14:30, yesterday 16:00 or 2026-11-20 (local time)"
)
DATE_HINT = "use e.g. 2026-11-27 or 27/11/2026"

#: A date as written in England, day first ("20/11/2026"), with a time or not; ASCII digits.
_DAY_FIRST = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?:[ T]([0-9]{1,2}):([0-9]{2}))?")
#: "today" or "yesterday", with a time or not.
_RELATIVE = re.compile(r"(today|yesterday)(?: ([0-9]{1,2}):([0-9]{2}))?", re.IGNORECASE)


def _day_first(text: str) -> datetime | None:
    """`text` as a day-first date (and time), None if it is not written so; ValueError if it is
    but names no such day ("31/02/2026")."""
    found = _DAY_FIRST.fullmatch(text)
    if found is None:
        return None
    day, month, year, hour, minute = found.groups()
    moment = datetime(int(year), int(month), int(day))
    return moment.replace(hour=int(hour), minute=int(minute)) if hour is not None else moment


def _relative(text: str, now: datetime) -> datetime | None:
    found = _RELATIVE.fullmatch(text)
    if found is None:
        return None
    word, hour, minute = found.groups()
    day = now.astimezone().date() - timedelta(days=1 if word.lower() == "yesterday" else 0)
    at = time(int(hour), int(minute)) if hour is not None else time(0, 0)
    return datetime.combine(day, at)


FUTURE_HINT = "to plan something, use 'safeguard action add CASE --due DATE'"


def parse_at(text: str, now: datetime, *, future_hint: str = FUTURE_HINT) -> datetime:
    """An event's time: an ISO date or date-time, a day-first date ("20/11/2026 14:30"), or
    "today"/"yesterday" with a time; local if no zone; never in the future.

    `future_hint` is what to do instead of a future time (an action's own command says how
    its --at and --due differ, rather than suggest itself)."""
    cleaned = " ".join(text.split())
    try:
        moment = _day_first(cleaned) or _relative(cleaned, now)
        if moment is None and len(cleaned) == 10:
            moment = datetime.combine(date.fromisoformat(cleaned), time(0, 0))
        elif moment is None:
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
    cleaned = " ".join(text.split())
    try:
        day_first = _day_first(cleaned)
        if day_first is not None:
            return day_first.date()
        return (
            date.fromisoformat(cleaned)
            if len(cleaned) == 10
            else datetime.fromisoformat(cleaned).date()
        )
    except ValueError:
        raise UsageError(f"{text!r} is not a date", hint=DATE_HINT) from None


def local_date(moment: datetime) -> date:
    return moment.astimezone().date()


def local_text(moment: datetime) -> str:
    """A time for people: local, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
