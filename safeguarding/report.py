"""The governors' report: what a period of safeguarding looked like, in counts and times.

Figures only, never a name or a recorded word: each count of 1 or 2 is held as `FEWER` from the
start, so no rendering can show it.  Every case counts: a restricted case the reader cannot open
counts by what the chronology holds in clear (its disclosure's, closures' and reopenings' times);
only its category, subjects and referrals stay out, and the report says how many.  Making the
report is a vault-level entry, shown by `safeguard audit`.  Nothing here prints or writes a file.
"""

from __future__ import annotations

import calendar
import statistics
from collections import Counter
from collections.abc import Callable, Container
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from safeguarding import (
    casefile,
    chronology,
    clock,
    deadlines,
    flow,
    moments,
    storage,
    suppression,
)
from safeguarding.casefile import CaseFile
from safeguarding.casestate import CaseState
from safeguarding.categories import ALLEGATION_OUTCOMES, Categories
from safeguarding.db import Case, Db
from safeguarding.report_period import Period as Period
from safeguarding.report_period import period as period
from safeguarding.restricted import same_name
from safeguarding.vocabulary import Kind, Route

if TYPE_CHECKING:
    from safeguarding.vault import Unlocked

#: How a count of 1 or 2 is shown, so that no child in a small school can be picked out.
FEWER = suppression.FEWER
#: How a count that is not small is shown where it would let a small one be worked out.
WITHHELD = suppression.WITHHELD
SUPPRESSION_NOTICE = (
    "No names appear in this report. A count of 1 or 2 is shown as “fewer than 3”, so that "
    "no one can be identified from it."
)
#: A count as the report shows it: 0, 3 or more, or `FEWER`.
Shown = int | str
#: The KCSIE bands for resolving an allegation, in months.
BANDS = (1, 3, 12)
MONTHS_SHOWN = 12


def shown(count: int) -> Shown:
    """`count`, or `FEWER` for 1 or 2."""
    return FEWER if 0 < count < 3 else count


@dataclass(frozen=True)
class Concerns:
    opened: Shown
    closed: Shown
    open_at_end: Shown
    by_category: list[tuple[str, str, Shown]]  # title, policy section, cases
    by_section: list[tuple[str, Shown]]
    by_role: list[tuple[str, Shown]]


@dataclass(frozen=True)
class Timeliness:
    with_deadline: Shown  # cases whose category sets a referral deadline
    on_time: Shown  # referred, or decided not to, by the deadline
    late: Shown
    outstanding: Shown  # neither yet
    referred: Shown  # cases referred (the times below are theirs)
    #: The times are `FEWER` when 1 or 2 cases make them.
    median_days_to_referral: float | str | None
    worst_days_to_referral: int | str | None
    actions_due: Shown
    actions_on_time: Shown
    actions_late: Shown  # done after their due date
    actions_not_done: Shown
    closed: Shown
    median_days_to_close: float | str | None
    allegations: Shown
    lado_within_one_day: Shown
    lado_later: Shown
    lado_not_referred: Shown
    allegations_closed: Shown
    outcomes: list[tuple[str, Shown]]
    bands: list[tuple[int, Shown]]  # resolved within 1, 3 and 12 months


@dataclass(frozen=True)
class Pattern:
    months: list[tuple[str, Shown]]  # "2026-01" and the cases opened that month
    repeat_subjects: Shown  # subjects of the period's cases who are subjects of another case


@dataclass(frozen=True)
class Report:
    school: str
    period: Period
    produced_at: datetime
    concerns: Concerns
    timeliness: Timeliness
    pattern: Pattern
    #: Restricted cases opened in the period that the reader cannot open: in the counts of
    #: cases opened, closed and open, the times to close and the months, and in nothing else.
    not_broken_down: Shown
    backups_given: bool = False  # whether a backup folder was named (never which)
    last_verified_backup: date | None = None
    notices: tuple[str, ...] = field(default=(SUPPRESSION_NOTICE,))


# What the chronology says in clear ----------------------------------------------------------


@dataclass
class _Clear:
    """A case as its clear columns and entry kinds show it: when it was disclosed, and each
    closure and reopening (local dates, in the order they happened)."""

    disclosed: date
    changes: list[tuple[date, str]] = field(default_factory=list)
    readable: bool = True

    def open_on(self, day: date) -> bool:
        if self.disclosed > day:
            return False
        last = [kind for when, kind in self.changes if when <= day]
        return not last or last[-1] != Kind.CLOSURE

    def closures_in(self, p: Period) -> list[date]:
        return [when for when, kind in self.changes if kind == Kind.CLOSURE and when in p]


def _clear(db: Db, readable: Callable[[Case], bool]) -> dict[int, _Clear]:
    cases = {c.id: readable(c) for c in db.all(Case)}
    kinds = (Kind.DISCLOSURE, Kind.CLOSURE, Kind.REOPENING)
    found: dict[int, _Clear] = {}
    for case_id, kind, event_at in db.execute(
        "SELECT case_id, kind, event_at FROM entries WHERE kind IN (?, ?, ?) "
        "AND case_id IS NOT NULL ORDER BY event_at, seq",
        *kinds,
    ).fetchall():
        day = moments.local_date(clock.from_text(event_at))
        if kind == Kind.DISCLOSURE:
            found[case_id] = _Clear(day, readable=cases[case_id])
        elif case_id in found:
            found[case_id].changes.append((day, kind))
    return found


@dataclass(frozen=True)
class Read:
    """A case the reader can open: where it stands, and its referrals (the day of each, and
    its route, `none` for a decision not to refer) in the order they happened."""

    state: CaseState
    referrals: tuple[tuple[date, str], ...]

    @classmethod
    def of(cls, file: CaseFile) -> Read:
        referrals = tuple(
            (moments.local_date(e.event_at), str(e.data.get("route")))
            for e in file.entries
            if e.kind == Kind.REFERRAL
        )
        return cls(flow.fold(file), referrals)

    @property
    def disclosed(self) -> date:
        return moments.local_date(self.state.disclosed_at)

    def first(self, *routes: str) -> date | None:
        """The day of the first referral to one of `routes` (any route, `none` included, if
        none is given)."""
        return next((day for day, route in self.referrals if not routes or route in routes), None)


# Building the report ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """What the report is made from: the school's settings, and where its backups are."""

    school: str
    categories: Categories
    closures: Container[date]
    backups_given: bool = False
    last_verified_backup: date | None = None


def build(
    unlocked: Unlocked, p: Period, sources: Sources, now: Callable[[], datetime] | None = None
) -> Report:
    """The report for `p`, read as `unlocked`'s user may: a DSL or the headteacher only."""
    unlocked.require_manager("make the governors' report")
    produced_at = (now or clock.now)()
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        unlocked.require_epoch(db)
        clear = _clear(db, lambda case: unlocked.can_read(db, case))
        cases = [c for c in db.all(Case) if unlocked.can_read(db, c)]
        files = casefile.build_all(
            db, cases, lambda c: unlocked.case_ring(db, c, epoch_checked=True), {}
        )
    read = [Read.of(file) for file in files]
    return figures(read, list(clear.values()), p, sources, produced_at)


def record(unlocked: Unlocked, report: Report, fmt: str, output: str | None) -> int:
    """Record that `report` was made, in what format, and the name of its file (never its
    folder): a vault-level entry, which `safeguard audit` lists.  Its number."""
    p = report.period
    payload = {"from": p.start.isoformat(), "to": p.end.isoformat(), "format": fmt}
    if p.term:
        payload["term"] = p.term
    if output:
        payload["output"] = output
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        entry = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=unlocked.keys.fields,
            kind=casefile.REPORT_MADE,
            payload=payload,
            recorded_at=report.produced_at,
        )
    return entry.seq


def figures(
    cases: list[Read], clear: list[_Clear], p: Period, sources: Sources, produced_at: datetime
) -> Report:
    """The report's figures from the cases the reader can open (`cases`) and every case's
    clear facts (`clear`)."""
    opened = [c for c in cases if c.disclosed in p]
    raw = Report(
        school=sources.school,
        period=p,
        produced_at=produced_at,
        concerns=Concerns(
            opened=sum(1 for c in clear if c.disclosed in p),
            closed=sum(1 for c in clear if c.closures_in(p)),
            open_at_end=sum(1 for c in clear if c.open_on(p.end)),
            **_breakdown([c.state for c in opened], sources.categories),
        ),
        timeliness=_timeliness(cases, opened, clear, p, sources),
        pattern=Pattern(_months(clear, p.end), _repeats(opened, cases)),
        not_broken_down=sum(1 for c in clear if not c.readable and c.disclosed in p),
        backups_given=sources.backups_given,
        last_verified_backup=sources.last_verified_backup,
        notices=_notices(p, moments.local_date(produced_at)),
    )
    return _protect(raw)


def _protect(r: Report) -> Report:
    """`r` (every count whole) as it may be shown: see `suppression`.  Its totals and parts:
    the cases opened, by category and by section (with those not broken down); each section,
    by category; referral deadlines, actions, LADO referrals and outcomes."""
    c, t = r.concerns, r.timeliness
    counts = {f"c.{name}": getattr(c, name) for name in ("opened", "closed", "open_at_end")}
    counts |= {f"t.{f.name}": getattr(t, f.name) for f in fields(t) if f.type == "Shown"}
    counts |= {"nbd": r.not_broken_down, "repeat": r.pattern.repeat_subjects}
    lists: dict[str, list[tuple[Any, ...]]] = {
        "cat": list(c.by_category),
        "sec": c.by_section,
        "role": c.by_role,
        "out": t.outcomes,
        "band": t.bands,
        "month": r.pattern.months,
    }
    counts |= {f"{name}.{i}": row[-1] for name, rows in lists.items() for i, row in enumerate(rows)}
    cats = [f"cat.{i}" for i in range(len(c.by_category))]
    groups: list[suppression.Group] = [
        ("c.opened", [*cats, "nbd"]),
        ("c.opened", [*(f"sec.{i}" for i in range(len(c.by_section))), "nbd"]),
        ("t.with_deadline", ["t.on_time", "t.late", "t.outstanding"]),
        ("t.actions_due", ["t.actions_on_time", "t.actions_late", "t.actions_not_done"]),
        ("t.allegations", ["t.lado_within_one_day", "t.lado_later", "t.lado_not_referred"]),
        ("t.allegations_closed", [f"out.{i}" for i in range(len(t.outcomes))]),
    ]
    groups += [
        (f"sec.{j}", [cats[i] for i, row in enumerate(c.by_category) if row[1] == section])
        for j, (section, _) in enumerate(c.by_section)
    ]
    s = suppression.hide({key: int(n) for key, n in counts.items()}, groups)

    def listed(name: str) -> list[Any]:
        return [(*row[:-1], s[f"{name}.{i}"]) for i, row in enumerate(lists[name])]

    return replace(
        r,
        concerns=replace(
            c,
            **{key[2:]: n for key, n in s.items() if key.startswith("c.")},
            by_category=listed("cat"),
            by_section=listed("sec"),
            by_role=listed("role"),
        ),
        timeliness=replace(
            t,
            **{key[2:]: n for key, n in s.items() if key.startswith("t.")},
            outcomes=listed("out"),
            bands=listed("band"),
        ),
        pattern=Pattern(listed("month"), s["repeat"]),
        not_broken_down=s["nbd"],
    )


def _notices(p: Period, today: date) -> tuple[str, ...]:
    if p.end <= today:
        return (SUPPRESSION_NOTICE,)
    return (
        SUPPRESSION_NOTICE,
        f"The period ends after today: its figures run to today, {today.isoformat()}.",
    )


def _breakdown(opened: list[CaseState], categories: Categories) -> dict[str, list[Any]]:
    by_category: Counter[str] = Counter(s.category for s in opened)
    by_section: Counter[str] = Counter()
    rows: list[tuple[str, str, Shown]] = []
    for code, count in sorted(by_category.items(), key=lambda item: (-item[1], item[0])):
        category = categories.lookup(code)
        rows.append((category.title, category.section, count))
        by_section[category.section] += count
    roles: Counter[str] = Counter(
        role for s in opened for role in {str(subject.get("role")) for subject in s.subjects}
    )
    return {
        "by_category": rows,
        "by_section": [(section, n) for section, n in sorted(by_section.items())],
        "by_role": [(role, n) for role, n in sorted(roles.items())],
    }


def _median(values: list[int]) -> float | str | None:
    """The median, but not of 1 or 2 cases: each could be worked out from it."""
    return FEWER if 0 < len(values) < 3 else float(statistics.median(values)) if values else None


def _timeliness(
    cases: list[Read], opened: list[Read], clear: list[_Clear], p: Period, s: Sources
) -> Timeliness:
    """Referrals against their deadlines and times to them (in working days), actions against
    their due dates, and times to close (in calendar days, every case's)."""
    deadline = Counter[str]()
    to_referral: list[int] = []
    for case in opened:
        referred = case.first(*(r.value for r in Route if r is not Route.NONE))
        if referred is not None:
            to_referral.append(deadlines.working_days_between(case.disclosed, referred, s.closures))
        category = s.categories.lookup(case.state.category)
        due = flow.referral_due(case.state, category, s.closures)
        if due is not None:
            decided = case.first()
            deadline[
                "outstanding" if decided is None else "on_time" if decided <= due else "late"
            ] += 1
    actions = [a for c in cases for a in c.state.actions.values() if a.due in p]
    on_time = sum(1 for a in actions if a.done_at and moments.local_date(a.done_at) <= a.due)
    not_done = sum(1 for a in actions if a.done_at is None)
    to_close = [(c.closures_in(p)[-1] - c.disclosed).days for c in clear if c.closures_in(p)]
    return Timeliness(
        with_deadline=deadline.total(),
        on_time=deadline["on_time"],
        late=deadline["late"],
        outstanding=deadline["outstanding"],
        referred=len(to_referral),
        median_days_to_referral=_median(to_referral),
        worst_days_to_referral=FEWER
        if 0 < len(to_referral) < 3
        else max(to_referral, default=None),
        actions_due=len(actions),
        actions_on_time=on_time,
        actions_late=len(actions) - on_time - not_done,
        actions_not_done=not_done,
        closed=len(to_close),
        median_days_to_close=_median(to_close),
        **_allegations(cases, opened, p, s),
    )


def _allegations(cases: list[Read], opened: list[Read], p: Period, s: Sources) -> dict[str, Any]:
    """Allegations about adults (the categories with KCSIE's outcomes): LADO referrals within
    one working day of the disclosure, and the outcomes and times of those closed."""

    def allegation(case: Read) -> bool:
        return s.categories.lookup(case.state.category).outcomes == "allegation"

    lado = Counter[str]()
    for case in filter(allegation, opened):
        day = case.first(Route.LADO.value)
        due = deadlines.add_working_days(case.disclosed, 1, s.closures)
        lado["not" if day is None else "within" if day <= due else "later"] += 1
    closed = [
        c
        for c in filter(allegation, cases)
        if c.state.closed_at is not None and moments.local_date(c.state.closed_at) in p
    ]
    outcomes = Counter(str(c.state.outcome) for c in closed)
    bands = [
        (
            months,
            sum(
                1
                for c in closed
                if c.state.closed_at is not None
                and moments.local_date(c.state.closed_at) <= add_months(c.disclosed, months)
            ),
        )
        for months in BANDS
    ]
    return {
        "allegations": sum(1 for _ in filter(allegation, opened)),
        "lado_within_one_day": lado["within"],
        "lado_later": lado["later"],
        "lado_not_referred": lado["not"],
        "allegations_closed": len(closed),
        "outcomes": [(o, outcomes[o]) for o in ALLEGATION_OUTCOMES],
        "bands": bands,
    }


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day if it is shorter (31 January and
    one month is 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _months(clear: list[_Clear], end: date) -> list[tuple[str, Shown]]:
    """Cases disclosed in each of the twelve months up to and including the period's last."""
    first = add_months(end.replace(day=1), 1 - MONTHS_SHOWN)
    counts = Counter(f"{c.disclosed:%Y-%m}" for c in clear if first <= c.disclosed <= end)
    months = [add_months(first, n) for n in range(MONTHS_SHOWN)]
    return [(f"{m:%Y-%m}", counts[f"{m:%Y-%m}"]) for m in months]


def _repeats(opened: list[Read], cases: list[Read]) -> int:
    """How many people the period's cases are about who are the subject of another case too
    (names compared as `restricted.same_name` does; the report never holds one)."""
    cases_of: Counter[str] = Counter(
        name
        for c in cases
        for name in {same_name(str(s.get("name", ""))) for s in c.state.subjects}
    )
    named = {same_name(str(s.get("name", ""))) for c in opened for s in c.state.subjects}
    return sum(1 for name in named if cases_of[name] > 1)
