"""Which backups a retention policy keeps: restic's `forget` rules (as of restic 0.16), over
backup times only.

Pure functions on datetimes: nothing here touches a file, so a policy can be tested on its own.
Buckets (day, ISO week, month, year) are taken in UTC, the time zone of backup names, where
restic takes the local time of each snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from safeguarding.errors import UsageError

#: ASCII digits only (\d would take "٣"), and few enough that the span stays in the calendar.
_DURATION = re.compile(r"([0-9]{1,5})([ymwdh])")


@dataclass(frozen=True)
class Duration:
    """A span as restic writes it (``2y5m7d3h``); months and years follow the calendar."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        compact = text.strip().lower()
        parts = _DURATION.findall(compact)
        if not compact or "".join(n + u for n, u in parts) != compact:
            raise UsageError(
                f"{text!r} is not a duration",
                hint="write it like 36h, 7d, 2w, 6m (months) or 1y; parts combine, e.g. 1d12h",
            )
        amounts = {"y": 0, "m": 0, "w": 0, "d": 0, "h": 0}
        for number, unit in parts:
            amounts[unit] += int(number)
        return cls(amounts["y"], amounts["m"], amounts["d"] + 7 * amounts["w"], amounts["h"])

    def before(self, moment: datetime) -> datetime:
        """`moment` minus this span (a month back from 31 March is the last day of February)."""
        month_index = moment.year * 12 + moment.month - 1 - self.months - 12 * self.years
        year, month = divmod(month_index, 12)
        earliest = datetime.min.replace(tzinfo=moment.tzinfo)
        if year < 1:  # a span reaching back beyond the calendar covers all of it
            return earliest
        day = moment.day
        while True:
            try:
                shifted = moment.replace(year=year, month=month + 1, day=day)
                break
            except ValueError:
                day -= 1
        try:
            return shifted - timedelta(days=self.days, hours=self.hours)
        except OverflowError:
            return earliest

    def __str__(self) -> str:
        parts = [(self.years, "y"), (self.months, "m"), (self.days, "d"), (self.hours, "h")]
        return "".join(f"{n}{u}" for n, u in parts if n) or "0h"


@dataclass(frozen=True)
class Policy:
    """How many of the newest backups to keep per period; 0 means the rule is off."""

    last: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0
    within: Duration | None = None

    def __post_init__(self) -> None:
        for name in ("last", "daily", "weekly", "monthly", "yearly"):
            if getattr(self, name) < 0:
                raise UsageError(f"--keep-{name} cannot be negative")

    @property
    def empty(self) -> bool:
        counts = (self.last, self.daily, self.weekly, self.monthly, self.yearly)
        return not any(counts) and not self.within_on

    @property
    def within_on(self) -> bool:
        """`--keep-within 0h` keeps nothing, so (as in restic) it is no rule at all."""
        return self.within is not None and self.within != Duration()


_BUCKETS: dict[str, Callable[[datetime], object]] = {
    "daily": lambda t: (t.year, t.month, t.day),
    "weekly": lambda t: t.isocalendar()[:2],
    "monthly": lambda t: (t.year, t.month),
    "yearly": lambda t: t.year,
}


def kept(times: Sequence[datetime], policy: Policy) -> dict[int, list[str]]:
    """For each index of `times` the policy keeps, the rules that keep it.

    As restic does: going from the newest backup to the oldest, each ``--keep-daily N`` rule
    keeps the first backup it meets in each of N different days (so of two backups on one day,
    only the later), and so on for the other periods; a rule that has not used up its N when it
    reaches the oldest backup keeps that one too ("oldest"), so a young folder keeps its
    history.  ``--keep-within D`` keeps every backup strictly after the newest backup's time
    minus D.  A backup kept by any rule is kept.
    """
    order = sorted(range(len(times)), key=lambda i: times[i], reverse=True)
    reasons: dict[int, list[str]] = {}
    if not order:
        return reasons
    remaining = {name: getattr(policy, name) for name in ("last", *_BUCKETS)}
    last_bucket: dict[str, object] = {}
    cutoff = policy.within.before(times[order[0]]) if policy.within_on and policy.within else None
    oldest = order[-1]
    for index in order:
        moment = times[index]
        if remaining["last"] > 0:
            remaining["last"] -= 1
            reasons.setdefault(index, []).append("last")
        for name, bucket_of in _BUCKETS.items():
            if remaining[name] <= 0:
                continue
            bucket = bucket_of(moment)
            if name in last_bucket and last_bucket[name] == bucket:
                if index == oldest:
                    reasons.setdefault(index, []).append(f"oldest {name}")
                continue
            last_bucket[name] = bucket
            remaining[name] -= 1
            reasons.setdefault(index, []).append(name)
        if cutoff is not None and moment > cutoff:
            reasons.setdefault(index, []).append(f"within {policy.within}")
    return reasons
