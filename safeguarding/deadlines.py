"""Working days: what a deadline of "N working days" means for a school.

Weekends, the bank holidays of the school's country and its own closure days (both from the
config) are not working days.  A deadline is the end of its day: "within one working day" of a
Monday disclosure is by the end of Tuesday.  The `holidays` package is imported only when a
year's bank holidays are first worked out (then kept in the user's cache folder), or a place
named in the config is checked: it loads every country's calendar, which `--help` must never
pay for.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Container
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

ONE_DAY = timedelta(days=1)
SATURDAY = 5

#: Where a school is unless its config says otherwise: England's bank holidays.
DEFAULT_COUNTRY, DEFAULT_SUBDIVISION = "GB", "ENG"


class UnknownPlace(ValueError):
    """A country, or a subdivision of it, whose bank holidays are not known; `known`: the
    country's subdivisions."""

    def __init__(self, what: str, value: str | None, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown {what} {value!r}")
        self.what, self.value, self.known = what, value, known


@dataclass(frozen=True)
class ClosedDays:
    """The days a school is closed besides weekends: its own closure days, and its country's
    bank holidays (its subdivision's too: Scotland's 2 January, say), substitute days included.

    Only `in` is asked of it; each year's bank holidays are worked out once, when a day in that
    year is first looked up.
    """

    school: frozenset[date] = frozenset()
    country: str = DEFAULT_COUNTRY
    subdivision: str | None = DEFAULT_SUBDIVISION
    _years: dict[int, frozenset[date]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Deadlines already worked out, by their start and length: a list of many cases asks for
    # the same few again and again.
    _deadlines: dict[tuple[date, int], date] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        return day in self.school or day in self.bank_holidays(day.year)

    def bank_holidays(self, year: int) -> frozenset[date]:
        found = self._years.get(year)
        if found is None:
            key = f"{self.country}/{self.subdivision or ''}/{year}"
            found = _remembered(key)
            if found is None:
                found = frozenset(self._calendar(year))
                _remember(key, found)
            self._years[year] = found
        return found

    @classmethod
    def checked(cls, school: frozenset[date], country: str, subdivision: str | None) -> ClosedDays:
        """The closed days of a place the `holidays` package knows (`UnknownPlace` if it does
        not know the country, or the subdivision within it).  The United Kingdom with no
        subdivision means England, as no place at all does: few English schools would expect
        to lose Easter Monday by naming their country."""
        import holidays

        try:
            whole = holidays.country_holidays(country)
        except NotImplementedError:
            raise UnknownPlace("country", country, ()) from None
        if subdivision is None and whole.country == DEFAULT_COUNTRY:
            subdivision = DEFAULT_SUBDIVISION
        closed = cls(school, country, subdivision)
        try:
            closed._calendar(None)
        except NotImplementedError:
            raise UnknownPlace("subdivision", subdivision, tuple(whole.subdivisions)) from None
        return closed

    def _calendar(self, year: int | None) -> Collection[date]:
        import holidays

        return holidays.country_holidays(self.country, subdiv=self.subdivision, years=year)


def is_working_day(day: date, closures: Container[date] = ()) -> bool:
    return day.weekday() < SATURDAY and day not in closures


def add_working_days(start: date, days: int, closures: Container[date] = ()) -> date:
    """The day by whose end something must happen, `days` working days after `start`.

    With 0 it is `start` itself, or the next working day if `start` is not one.
    """
    if days < 0:
        raise ValueError("a deadline cannot be a negative number of working days")
    if isinstance(closures, ClosedDays):
        known = closures._deadlines.get((start, days))
        if known is None:
            known = closures._deadlines[start, days] = _counted(start, days, closures)
        return known
    return _counted(start, days, closures)


def _counted(start: date, days: int, closures: Container[date]) -> date:
    day = start
    while not is_working_day(day, closures) and days == 0:
        day += ONE_DAY
    counted = 0
    while counted < days:
        day += ONE_DAY
        if is_working_day(day, closures):
            counted += 1
    return day


def working_days_between(start: date, end: date, closures: Container[date] = ()) -> int:
    """Working days after `start` up to and including `end`; negative if `end` is earlier."""
    if end < start:
        return -working_days_between(end, start, closures)
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        if is_working_day(day, closures):
            count += 1
    return count


#: The school day a concern's age counts, in local time: from 08:00 to 18:00 on working days.
SCHOOL_DAY = (time(8), time(18))


def working_hours_between(start: datetime, end: datetime, closures: Container[date] = ()) -> float:
    """Hours of the school day (`SCHOOL_DAY`, on working days, local time) from `start` to
    `end`: a concern reported on Friday at 16:00 has waited 3 hours at 09:00 on Monday."""
    start, end = start.astimezone(), end.astimezone()
    total, day = timedelta(0), start.date()
    while day <= end.date():
        if is_working_day(day, closures):
            opens = datetime.combine(day, SCHOOL_DAY[0]).astimezone()
            closes = datetime.combine(day, SCHOOL_DAY[1]).astimezone()
            span = min(end, closes) - max(start, opens)
            if span > timedelta(0):
                total += span
        day += ONE_DAY
    return total.total_seconds() / 3600


def describe(due: date, today: date, closures: Container[date] = ()) -> str:
    """'today', 'in 2 working days', '3 working days overdue' and so on."""
    if due == today:
        return "due today"
    if due > today:
        left = working_days_between(today, due, closures)
        if left == 0:
            return "due on the next working day"
        return f"in {left} working day{'s' if left != 1 else ''}"
    late = working_days_between(due, today, closures)
    late = max(late, 1)
    return f"{late} working day{'s' if late != 1 else ''} overdue"


def deadline_text(days: int | None) -> str:
    """A category's referral deadline as the README writes it: 'the same working day',
    '1 working day', '3 working days', or '—' for none."""
    if days is None:
        return "—"
    if days == 0:
        return "the same working day"
    return f"{days} working day{'s' if days != 1 else ''}"


# Each year's bank holidays, kept in the user's cache folder: importing `holidays` and working
# a year out costs about a quarter of a second, on every command that shows a deadline.  The
# file is named after the package's version, so an update (new or moved holidays) starts anew.
# It holds public dates only; a cache that cannot be read or written is simply not used.


def _cache_file() -> Path | None:
    import platformdirs

    version = _holidays_version()
    if version is None:
        return None
    return Path(platformdirs.user_cache_dir("safeguard")) / f"bank-holidays-{version}.json"


def _holidays_version() -> str | None:
    """The installed `holidays` package's version, from the name of its metadata folder beside
    it (loading importlib.metadata would cost a third of what the cache saves); from
    importlib.metadata where the package is installed some other way."""
    from importlib.util import find_spec

    spec = find_spec("holidays")
    if spec is None or spec.origin is None:
        return None
    for folder in Path(spec.origin).parent.parent.glob("holidays-*.dist-info"):
        return folder.name.removeprefix("holidays-").removesuffix(".dist-info")
    from importlib import metadata

    try:
        return metadata.version("holidays")
    except metadata.PackageNotFoundError:
        return None


def _read_cache(path: Path) -> dict[str, list[str]]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _remembered(key: str) -> frozenset[date] | None:
    path = _cache_file()
    if path is None:
        return None
    days = _read_cache(path).get(key)
    if not isinstance(days, list):
        return None
    try:
        return frozenset(date.fromisoformat(str(day)) for day in days)
    except ValueError:
        return None


def _remember(key: str, days: frozenset[date]) -> None:
    path = _cache_file()
    if path is None:
        return
    known = _read_cache(path)
    known[key] = sorted(day.isoformat() for day in days)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        scratch.write_text(json.dumps(known, sort_keys=True), encoding="utf-8")
        os.replace(scratch, path)
    except OSError:
        return
