"""Working days: what a deadline of "N working days" means for a school.

Weekends and the school's closure days (from the config) are not working days.  A deadline is
the end of its day: "within one working day" of a Monday disclosure is by the end of Tuesday.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)
SATURDAY = 5


def is_working_day(day: date, closures: Collection[date] = ()) -> bool:
    return day.weekday() < SATURDAY and day not in closures


def add_working_days(start: date, days: int, closures: Collection[date] = ()) -> date:
    """The day by whose end something must happen, `days` working days after `start`.

    With 0 it is `start` itself, or the next working day if `start` is not one.
    """
    if days < 0:
        raise ValueError("a deadline cannot be a negative number of working days")
    day = start
    while not is_working_day(day, closures) and days == 0:
        day += ONE_DAY
    counted = 0
    while counted < days:
        day += ONE_DAY
        if is_working_day(day, closures):
            counted += 1
    return day


def working_days_between(start: date, end: date, closures: Collection[date] = ()) -> int:
    """Working days after `start` up to and including `end`; negative if `end` is earlier."""
    if end < start:
        return -working_days_between(end, start, closures)
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        if is_working_day(day, closures):
            count += 1
    return count


def describe(due: date, today: date, closures: Collection[date] = ()) -> str:
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
