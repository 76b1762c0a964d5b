"""How long a case is kept: each category's retention rule, data in the categories file, and
the date a rule gives a case from its anchor dates.

A rule keeps a case until the latest of its periods ends, each a number of years from an
anchor: the subject's date of birth (`birth`), their normal retirement age (`retirement`:
their date of birth and the file's `retirement_age`), the disclosure that opened the case
(`disclosure`), or the case's closing (`closure`).  Then the case is reviewed (`review`) or
erased (`erase`).  A category may give another rule for an outcome (a malicious allegation is
removed once closed).

A date is never guessed.  A case still open has no date from a rule counted from its closing.
Until a date of birth is recorded, a period counted from it is left out and the case is
dated by its other periods, or, if it has none, by the disclosure in the date of birth's place
(the subject was born before it, so the real date is no later); either way it is then reviewed,
never erased.  Nothing here reads storage or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from safeguarding.errors import UsageError

BIRTH, RETIREMENT, DISCLOSURE, CLOSURE = "birth", "retirement", "disclosure", "closure"
ANCHORS = (BIRTH, RETIREMENT, DISCLOSURE, CLOSURE)
REVIEW, ERASE = "review", "erase"
ACTIONS = (REVIEW, ERASE)
#: Normal retirement age unless the categories file says otherwise: the State Pension age in
#: England from 2028.
DEFAULT_RETIREMENT_AGE = 67
_ANCHOR_WORDS = {
    BIRTH: "the date of birth",
    RETIREMENT: "retirement age",
    DISCLOSURE: "the disclosure",
    CLOSURE: "the case's closing",
}


@dataclass(frozen=True)
class Period:
    """`years` from an anchor date."""

    anchor: str
    years: int = 0

    def describe(self, retirement_age: int) -> str:
        if self.anchor == RETIREMENT:
            start = f"retirement age ({retirement_age})"
            return start if not self.years else f"{_years(self.years)} after {start}"
        if not self.years:
            return f"until {_ANCHOR_WORDS[self.anchor]}"
        return f"{_years(self.years)} from {_ANCHOR_WORDS[self.anchor]}"


@dataclass(frozen=True)
class Rule:
    """Keep until the latest of `periods` ends, then `then` (review or erase)."""

    periods: tuple[Period, ...]
    then: str

    def describe(self, retirement_age: int) -> str:
        parts = [p.describe(retirement_age) for p in self.periods]
        kept = parts[0] if len(parts) == 1 else "the longer of " + " or ".join(parts)
        return f"{kept}, then {self.then}"


@dataclass(frozen=True)
class Retention:
    """A category's rule, and the rules for particular outcomes of it."""

    rule: Rule
    outcomes: Mapping[str, Rule] = field(default_factory=dict)

    def for_outcome(self, outcome: str | None) -> Rule:
        return self.outcomes.get(outcome or "", self.rule)

    @property
    def counts_from_birth(self) -> bool:
        """Whether any of its rules counts from a date of birth (or retirement age)."""
        rules = (self.rule, *self.outcomes.values())
        return any(p.anchor in (BIRTH, RETIREMENT) for r in rules for p in r.periods)


@dataclass(frozen=True)
class Anchors:
    """A case's dates a rule counts from: its disclosure, its closing (None: open) and its
    subject's date of birth (None: not recorded)."""

    disclosure: date
    closure: date | None = None
    birth: date | None = None


@dataclass(frozen=True)
class Due:
    """When a rule says a case is reviewed or erased (`on` None: not yet known, the case being
    open) and what then.  `rule` and `note` (what the date could not count) are put into
    words only when asked for: a list of ten thousand cases asks for the dates alone."""

    on: date | None
    then: str
    source: Rule = field(repr=False)
    retirement_age: int = field(repr=False)
    #: None: every period counted; () the case is open; else the periods counted without a
    #: date of birth (empty counted, in its place, from the disclosure).
    counted: tuple[Period, ...] | None = field(default=None, repr=False)
    open: bool = field(default=False, repr=False)

    @property
    def rule(self) -> str:
        return self.source.describe(self.retirement_age)

    @property
    def note(self) -> str | None:
        if self.open:
            return "kept while the case is open"
        if self.counted is None:
            return None
        if self.counted:
            counted = " or ".join(p.describe(self.retirement_age) for p in self.counted)
            on = self.on.isoformat() if self.on else "?"
            return f"date of birth not recorded: reviewed from {on} ({counted})"
        on = self.on.isoformat() if self.on else "?"
        return (
            f"date of birth not recorded: reviewed from {on} at the latest (counted from the "
            "disclosure)"
        )


def add_years(day: date, years: int) -> date:
    """`day` `years` later; 29 February becomes 1 March in a year without one (a record is
    never due a day early)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def _start(period: Period, anchors: Anchors, retirement_age: int) -> date | None:
    if period.anchor == DISCLOSURE:
        return anchors.disclosure
    if period.anchor == CLOSURE:
        return anchors.closure
    if anchors.birth is None:
        return None
    if period.anchor == RETIREMENT:
        return add_years(anchors.birth, retirement_age)
    return anchors.birth


def due(rule: Rule, anchors: Anchors, retirement_age: int = DEFAULT_RETIREMENT_AGE) -> Due:
    """The date `rule` gives a case with these `anchors`."""
    if anchors.closure is None and any(p.anchor == CLOSURE for p in rule.periods):
        return Due(None, rule.then, rule, retirement_age, open=True)
    known = [
        (period, start)
        for period in rule.periods
        if (start := _start(period, anchors, retirement_age)) is not None
    ]
    if len(known) == len(rule.periods):
        return Due(_latest(known), rule.then, rule, retirement_age)
    if known:
        counted = tuple(p for p, _ in known)
        return Due(_latest(known), REVIEW, rule, retirement_age, counted)
    # Counted from the disclosure in the birth's place: the subject was born before it.
    instead = Anchors(anchors.disclosure, anchors.closure, anchors.disclosure)
    every = [(period, _start(period, instead, retirement_age)) for period in rule.periods]
    return Due(
        _latest([(p, d) for p, d in every if d is not None]), REVIEW, rule, retirement_age, ()
    )


def _latest(known: list[tuple[Period, date]]) -> date:
    return max(add_years(start, period.years) for period, start in known)


def _years(n: int) -> str:
    return "1 year" if n == 1 else f"{n} years"


# Read from the categories file -------------------------------------------------------------


def retirement_age(data: Mapping[str, Any], source: str) -> int:
    """The file's `[retention] retirement_age` (default `DEFAULT_RETIREMENT_AGE`)."""
    table = data.get("retention", {})
    if not isinstance(table, dict):
        raise UsageError(f"{source}: [retention] must be a table")
    age = table.get("retirement_age", DEFAULT_RETIREMENT_AGE)
    if isinstance(age, bool) or not isinstance(age, int) or not 50 <= age <= 80:
        raise UsageError(f"{source}: 'retirement_age' must be a whole number from 50 to 80")
    return age


def parse(item: Any, where: str, outcomes: tuple[str, ...]) -> Retention | None:
    """A category's `retention` table (None if it has none); `outcomes`: those it allows."""
    if item is None:
        return None
    if not isinstance(item, dict):
        raise UsageError(f"{where}: 'retention' must be a table")
    by_outcome = item.get("outcome", {})
    if not isinstance(by_outcome, dict):
        raise UsageError(f"{where}: 'retention.outcome' must be a table of outcomes")
    special = {}
    for outcome, rule in by_outcome.items():
        if outcome not in outcomes:
            raise UsageError(
                f"{where}: 'retention.outcome.{outcome}' is not one of its outcomes "
                f"({', '.join(outcomes)})"
            )
        special[outcome] = _rule(rule, f"{where}, retention.outcome.{outcome}")
    return Retention(_rule(item, f"{where}, retention"), special)


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise UsageError(f"{where} must be a table")
    then = item.get("then")
    if then not in ACTIONS:
        raise UsageError(f"{where}: 'then' must be 'review' or 'erase'")
    keep = item.get("keep")
    if not isinstance(keep, list) or not keep:
        raise UsageError(f"{where}: 'keep' must be a list of periods, such as [{{ from = ... }}]")
    periods = []
    for period in keep:
        anchor = period.get("from") if isinstance(period, dict) else None
        if anchor not in ANCHORS:
            raise UsageError(f"{where}: each period's 'from' must be one of: {', '.join(ANCHORS)}")
        years = period.get("years", 0)
        if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 150:
            raise UsageError(f"{where}: 'years' must be a whole number from 0 to 150")
        if set(period) - {"from", "years"}:
            raise UsageError(f"{where}: a period holds only 'from' and 'years'")
        periods.append(Period(anchor, years))
    return Rule(tuple(periods), then)
