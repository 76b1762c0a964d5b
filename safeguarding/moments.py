"""Times and dates as people type them (`--at`, `--due`), turned into aware datetimes and dates.

A time without a zone is local time.  Nothing here reads the clock itself: callers pass `now`,
so a test (or the demo) can fix it.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time, timedelta

from safeguarding.errors import AmbiguousTime, UsageError

FORMATS_HINT = (
    "use e.g. 2026-11-20 14:30, 20/11/2026 14:30, yesterday 16:00 or 2026-11-20 (local time)"
)
DATE_HINT = "use e.g. 2026-11-27 or 27/11/2026"
#: Stored times have a four-digit year (clock.STORED_FORMAT).
EARLIEST_YEAR = 1000

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
    too_far = UsageError(f"{text!r} is too far in the past or future", hint=FORMATS_HINT)
    try:
        if moment.tzinfo is None:
            moment = _local(moment, text, now)  # with the offset in force then
        stored = moment.astimezone(UTC)  # with a four-digit year
        stored.astimezone()  # shown in local time
    except (ValueError, OverflowError, OSError):
        # The first or last days of the calendar (0001-01-01) have no time in every zone.
        raise too_far from None
    if stored.year < EARLIEST_YEAR:
        raise too_far
    if moment > now:
        raise UsageError(
            f"{text!r} is in the future; an entry records what has already happened",
            hint=future_hint,
        )
    return moment


def _local(wall: datetime, text: str, now: datetime) -> datetime:
    """A local wall-clock time as an instant.  Refused if the clocks skipped it; if they went
    back through it, the one that is past, or `AmbiguousTime` if both are."""
    first = wall.replace(fold=0).astimezone()
    second = wall.replace(fold=1).astimezone()
    if first == second:
        return first
    shown = [m for m in (first, second) if m.replace(tzinfo=None) == wall.replace(fold=0)]
    if not shown:
        raise _skipped(wall, text, first, second)
    past = [m for m in shown if m <= now]
    if len(past) == 1 or not past:  # none: in the future either way, refused as such
        return (past or shown)[0]
    raise AmbiguousTime(
        f"{text!r} happened twice: the clocks went back that night, from "
        f"{first.tzname()} to {second.tzname()}",
        hint=f"add the offset: {_written(first)}{_offset(first)} for the first "
        f"({first.tzname()}), or {_offset(second)} for the second ({second.tzname()})",
        choices=(
            (f"{_written(first)}{_offset(first)}", f"the first, {first.tzname()}"),
            (f"{_written(second)}{_offset(second)}", f"the second, {second.tzname()}"),
        ),
    )


def _skipped(wall: datetime, text: str, before: datetime, after: datetime) -> UsageError:
    jump = (after.utcoffset() or timedelta(0)) - (before.utcoffset() or timedelta(0))
    minutes = int(jump.total_seconds()) // 60
    forward = "an hour" if minutes == 60 else f"{minutes} minutes"
    return UsageError(
        f"{text!r} is a time that did not happen: the clocks went forward {forward} that night, "
        f"from {before.tzname()} to {after.tzname()}",
        hint=f"give the time the clocks showed ({_written(wall + jump)} {after.tzname()} is "
        f"{_written(wall)} {before.tzname()}), or add its offset ({_written(wall)}"
        f"{_offset(before)})",
    )


def _written(wall: datetime) -> str:
    """A wall-clock time as it would be typed: to the minute, unless it has seconds."""
    naive = wall.replace(tzinfo=None, fold=0)
    spec = "minutes" if naive.second == naive.microsecond == 0 else "auto"
    return naive.isoformat(sep=" ", timespec=spec)


def _offset(moment: datetime) -> str:
    """The UTC offset as it is typed after a time: +01:00, +00:00, -05:30."""
    minutes = int((moment.utcoffset() or timedelta(0)).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def check_local_zone(now: datetime) -> None:
    """Refuse a local time zone that cannot be used (TZ=UTC+99: an offset of a day or more)."""
    try:
        now.astimezone()
    except (ValueError, OverflowError, OSError):
        zone = os.environ.get("TZ")
        named = f" (TZ={zone})" if zone else ""
        raise UsageError(
            f"the local time zone{named} cannot be used: its offset is a day or more",
            hint="set TZ to a zone such as Europe/London, or unset it to use the system's",
        ) from None


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


def parse_day(text: str) -> date:
    """A day, and only a day: an ISO date or a day-first one ("27/11/2026"), with no time of
    day, in a year from 1000.  UsageError otherwise."""
    cleaned = " ".join(text.split())
    try:
        day_first = _day_first(cleaned)
        if day_first is not None:
            day = day_first.date()
            timed = day_first != datetime.combine(day, time(0, 0)) or " " in cleaned
        else:
            timed = len(cleaned) != 10
            day = datetime.fromisoformat(cleaned).date() if timed else date.fromisoformat(cleaned)
    except ValueError:
        raise UsageError(f"{text!r} is not a date", hint=DATE_HINT) from None
    if timed:
        raise UsageError(f"{text!r} has a time of day; give the day only", hint=DATE_HINT)
    if day.year < EARLIEST_YEAR:
        raise UsageError(f"{text!r} is too far in the past", hint=DATE_HINT)
    return day


def local_date(moment: datetime) -> date:
    return moment.astimezone().date()


def local_text(moment: datetime) -> str:
    """A time for people: local, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
