"""The casebook: opening a case from a disclosure, adding an entry of any kind to it, and reading
cases back with where each stands.

Every write checks the flow inside the same `BEGIN IMMEDIATE` transaction that appends the
entry, so a refused command writes nothing.  Entries are sealed with the case's own key.  What
each kind holds and checks is its class in `entries`; nothing here knows one kind from another.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from safeguarding import (
    births,
    casefile,
    chronology,
    clock,
    flow,
    moments,
    restricted,
    roster,
    storage,
    summaries,
    transfers,
)
from safeguarding.casefile import CaseFile
from safeguarding.casestate import OPEN, CaseState
from safeguarding.categories import Categories, Category
from safeguarding.config import Config
from safeguarding.crypto import KeyRing
from safeguarding.db import Case, Db, Entry
from safeguarding.entries import Disclosure, Draft, Standing, Subject
from safeguarding.entry_fields import choice
from safeguarding.errors import NotAllowed, UsageError
from safeguarding.summaries import Summary

if TYPE_CHECKING:
    from safeguarding.retention_rules import Anchors, Due
    from safeguarding.vault import Unlocked


@dataclass(frozen=True)
class Written:
    """What a command wrote, and where the case now stands."""

    reference: str
    entry: int  # its place in the vault's chronology
    number: int  # its number in the case, as the timeline shows it and `amend` takes it
    state: CaseState
    next: flow.NextStep
    action: int | None = None
    members: tuple[str, ...] | None = None  # a restricted case's members, by name
    without_manager: bool = False  # restricted, with no headteacher or chair among them
    manager: str = "head"  # the role that manages it: "chair" when a headteacher is a subject
    # the child's file, sent to another school in this case, still without a receipt
    unconfirmed: tuple[flow.Overdue, ...] = ()


@dataclass(frozen=True)
class CaseSummary:
    reference: str
    state: CaseState
    title: str
    next: flow.NextStep
    #: What is overdue, worked out when first asked for: a plain list of cases never asks.
    missed: Callable[[], tuple[flow.Overdue, ...]] = field(repr=False, compare=False)
    restricted: bool = False  # only its members (and the recovery key) can read it
    people: frozenset[int] = frozenset()  # the people its subjects are linked to
    birth: date | None = None  # the latest of their dates of birth, if its rule needs one

    @cached_property
    def overdue(self) -> tuple[flow.Overdue, ...]:
        """Missed deadlines and actions, unconfirmed transfers and retention dates come."""
        return self.missed()


class Casebook:
    """The cases of one unlocked vault, under the school's categories and calendar."""

    def __init__(
        self,
        unlocked: Unlocked,
        categories: Categories,
        config: Config,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.unlocked = unlocked
        self.categories = categories
        self.config = config
        self.now = now or clock.now
        #: What `preflight` read of a case (one whose summary was not enough), for the `add`
        #: that follows: its id and entries.
        self._read_ahead: tuple[int, list[casefile.Opened]] | None = None
        #: Retention dates worked out, for the next case with the same rule and dates.
        self._retention_dates: dict[tuple[int, Anchors], Due] = {}

    # Reading -------------------------------------------------------------------------------

    @property
    def _path(self) -> Any:
        return self.unlocked.vault.path

    def read(self, reference: str) -> CaseFile:
        """One case, decrypted, its entries in event order."""
        with storage.guarded(self._path), storage.reading(self.unlocked.vault.connection) as db:
            case = casefile.find_case(db, reference)
            ring = self.unlocked.case_ring(db, case)
            opened = casefile.open_rows(ring, casefile.entry_rows(db, case))
            return casefile.file_of(case, opened, self._authors(db))

    def _opened(self, db: Db, case: Case, ring: KeyRing) -> list[casefile.Opened]:
        """The case's entries, opened: those `preflight` read reused (entries never change),
        and only those written since read and decrypted."""
        ahead: list[casefile.Opened] = []
        if self._read_ahead is not None and self._read_ahead[0] == case.id:
            ahead = self._read_ahead[1]
        last = ahead[-1][0].seq if ahead else 0
        rows = db.all(Entry, "case_id = ? AND seq > ?", case.id, last, order="seq")
        return [*ahead, *casefile.open_rows(ring, rows)]

    def _authors(self, db: Db) -> dict[int, str]:
        return casefile.user_names(db, self.unlocked.keys.field_key)

    def today(self) -> date:
        return moments.local_date(self.now())

    def next_step(self, state: CaseState) -> flow.NextStep:
        category = self.categories.lookup(state.category)
        return flow.next_step(state, category, self.today(), self.config.closure_days)

    def list(self, status: str = "open") -> list[CaseSummary]:
        """Cases with `status` (open, closed or all), oldest first, each from its summary (one
        row a case): only a case without a usable one is read from its chronology."""
        status = choice(status, ("open", "closed", "all"), "status")
        made: list[tuple[Case, Summary]] = []
        found: list[tuple[Case, Summary]] = []
        rings: dict[int, tuple[CaseState, KeyRing]] = {}
        today = self.today()
        with storage.guarded(self._path), storage.reading(self.unlocked.vault.connection) as db:
            self.unlocked.require_epoch(db)
            late = self._unconfirmed(db, today)
            for case, row, last in summaries.listed(db, None if status == "all" else status):
                if not self.unlocked.can_read(db, case):
                    continue
                ring = self.unlocked.case_ring(db, case, epoch_checked=True)
                summary = summaries.usable(row, ring, last)
                if summary is None:
                    summary = summaries.rebuild(db, _reference(case), case.id, ring)
                    if row is None:
                        made.append((case, summary))
                found.append((case, summary))
                rings[case.id] = (summary.state, ring)
            links = births.linked(db, rings)
            dates = self._births(db, links)
        if made:
            self._keep(made)
        return [
            self._summarised(case, summary, today, late.get(case.id, []), links.get(case.id), dates)
            for case, summary in found
        ]

    def _births(self, db: Db, links: Mapping[int, frozenset[int]]) -> dict[int, date]:
        """The linked people's dates of birth, opened only if some category's rule counts
        from one."""
        if not links or not self.categories.retention_needs_birth:
            return {}
        return births.of_people(db, self.unlocked.keys.field_key, set().union(*links.values()))

    def _summarised(
        self,
        case: Case,
        summary: Summary,
        today: date,
        late: Sequence[transfers.Transfer],
        people: frozenset[int] | None = None,
        dates: Mapping[int, date] | None = None,
    ) -> CaseSummary:
        state = summary.state
        category = self.categories.lookup(state.category)
        birth = births.latest(people or (), dates or {})
        return CaseSummary(
            reference=state.reference,
            state=state,
            title=category.title,
            next=flow.next_step(state, category, today, self.config.closure_days),
            missed=partial(self._overdue, state, category, today, late, birth),
            restricted=bool(case.restricted),
            people=people or frozenset(),
            birth=birth,
        )

    def _overdue(
        self,
        state: CaseState,
        category: Category,
        today: date,
        late: Sequence[transfers.Transfer],
        birth: date | None,
    ) -> tuple[flow.Overdue, ...]:
        closures = self.config.closure_days
        return (
            *flow.overdue(state, category, today, closures),
            *(_chase(state.reference, t, closures) for t in late),
            *self._retention(state, category, today, birth),
        )

    def _retention(
        self, state: CaseState, category: Category, today: date, birth: date | None
    ) -> tuple[flow.Overdue, ...]:
        """The case's review (or erasure) under its retention rule, once its date has come."""
        age = self.categories.retirement_age
        due = flow.retention_due(state, category, age, birth, self._retention_dates)
        if due is None or due.on is None or due.on > today:
            return ()
        return (flow.Overdue(state.reference, f"retention: due for {due.then}", due.on),)

    def _keep(self, made: Sequence[tuple[Case, Summary]]) -> None:
        """Write the summaries a listing made from the chronology (cases from before
        summaries), so that the next listing reads them.  The listing is right without them:
        if the vault is busy or cannot be written to, they are made again next time."""
        try:
            with storage.writing(self.unlocked.vault.connection) as db:
                for case, summary in made:
                    if summaries.read_row(db, case.id) is not None:
                        continue  # written meanwhile, with an entry
                    if summaries.last_seq(db, case.id) != summary.last:
                        continue  # an entry came meanwhile, and wrote it
                    case = db.get_one(Case, case.id)  # as it now is
                    if self.unlocked.can_read(db, case):  # still a member, if restricted
                        ring = self.unlocked.case_ring(db, case)
                        summaries.write(db, case.id, ring, summary)
        except NotAllowed:
            pass  # the vault's keys changed meanwhile: the next listing writes them
        except sqlite3.OperationalError as error:
            if storage.problem_of(error) not in ("busy", "readonly"):
                raise storage.translate_database_error(error, self._path) from None

    # Writing -------------------------------------------------------------------------------

    def _when(self, at: datetime | None) -> tuple[datetime, datetime]:
        now = self.now()
        event = at or now
        if event.tzinfo is None:
            raise UsageError("an event time needs a time zone")
        if event > now:
            raise UsageError("that time is in the future; an entry records what has happened")
        return event, now

    def _members(
        self,
        people: Sequence[restricted.Person],
        subjects: Sequence[Subject],
        asked: bool,
        outcomes: str,
    ) -> Sequence[int] | None:
        """A new case's members if it is restricted (None if not): an allegation is, so is any
        case about someone who uses the vault, and any the recorder asked to restrict."""
        named = {restricted.same_name(s.name) for s in subjects}
        if not (asked or outcomes == "allegation" or restricted.subject_users(people, named)):
            return None
        if self.unlocked.user.id in restricted.subject_users(people, named):
            raise NotAllowed(
                "you are named as a subject of this case, so you cannot record it; nothing was "
                "saved",
                hint="ask another DSL or the headteacher to record it",
            )
        return restricted.default_members(people, self.unlocked.user.id, named)

    def open(
        self,
        disclosure: Disclosure,
        at: datetime | None = None,
        *,
        restricted: bool = False,
        then: Callable[[Db, Case], object] | None = None,
        first: Callable[[Db, Disclosure], Disclosure] | None = None,
    ) -> Written:
        """Open a case from a disclosure; it gets the next reference of the year.  It is
        restricted if `restricted` asks for it, and whatever that says if it is an allegation
        or about someone who uses the vault.  `first` gives the disclosure as it is to be
        written, in the same transaction (its subjects linked to people, added if new); `then`
        writes what follows the disclosure (a concern it was opened from)."""
        category = self.categories.get(disclosure.category)
        event, recorded = self._when(at)
        with storage.guarded(self._path), storage.writing(self.unlocked.vault.connection) as db:
            self.unlocked.require_epoch(db)
            if first is not None:
                disclosure = first(db, disclosure)
            payload = disclosure.payload(category.code, self.unlocked.user.name)
            people = roster.people(db, self.unlocked.keys)
            members = self._members(people, disclosure.subjects, restricted, category.outcomes)
            year = moments.local_date(recorded).year
            number = db.next_id(Case, "number", "year = ?", year)
            case = Case(
                id=db.next_id(Case),
                year=year,
                number=number,
                opened_at=clock.to_text(recorded),
                case_key=b"",
                status=OPEN,
            )
            db.insert(case)
            ring = self.unlocked.new_case_keys(db, case, members)
            facts = Disclosure.clear_facts(year, number, members)
            entry = self._append(db, case, ring, disclosure.kind, payload, event, recorded, facts)
            summary = summaries.of_rows(_reference(case), [(entry, payload)])
            summaries.write(db, case.id, ring, summary)
            if then is not None:
                then(db, case)  # what else the case opens with, kept in its summary
                summary = summaries.read(db, case.id, ring) or summary
            state = summary.state
        names = {person.id: person.name for person in people}
        return Written(
            state.reference,
            entry.seq,
            1,  # a disclosure opens its case
            state,
            self.next_step(state),
            members=None if members is None else tuple(names[m] for m in members),
            without_manager=members is not None and not _managed(people, members),
            manager=_manager(people, disclosure.subjects),
        )

    def _append(
        self,
        db: Db,
        case: Case,
        ring: KeyRing,
        kind: str,
        payload: dict[str, Any],
        event: datetime,
        recorded: datetime,
        facts: dict[str, Any] | None = None,
    ) -> Entry:
        return chronology.append(
            db,
            signer=self.unlocked.signer,
            payload_key=ring,
            kind=str(kind),
            payload=payload,
            facts=facts,
            case_id=case.id,
            event_at=event,
            recorded_at=recorded,
        )

    def _standing(
        self, db: Db, case: Case, ring: KeyRing, at: datetime, whole: bool
    ) -> tuple[Standing, Summary]:
        """The case as it stands, and its summary: read from the summary alone unless the
        entry needs the `whole` case or the summary is not usable (then from its entries:
        those `preflight` read, and any written since)."""
        summary = None if whole else summaries.read(db, case.id, ring)
        file = None
        if summary is None:
            opened = self._opened(db, case, ring)
            self._read_ahead = (case.id, opened)
            file = casefile.file_of(case, opened, self._authors(db))
            summary = summaries.of_rows(file.reference, opened)
            summary.last = summaries.last_seq(db, case.id)  # its views count here too
        state = summary.state
        return Standing(file, state, self.categories.lookup(state.category), at), summary

    def preflight(
        self,
        reference: str,
        draft: Draft | type[Draft] | None = None,
        at: datetime | None = None,
    ) -> CaseState:
        """Refuse now what adding `draft` (its text not yet written) at `at` would refuse early:
        a case that is not there for this user, and what the draft checks before its text (a
        kind given as a class: whether it may follow, as on a closed case).  Nothing is
        written.  The case's state as it stands, from its summary (or its entries, kept for
        the `add` that follows, for a kind that reads them)."""
        whole = bool(draft is not None and draft.reads_case)
        with storage.guarded(self._path), storage.reading(self.unlocked.vault.connection) as db:
            case = casefile.find_case(db, reference)
            ring = self.unlocked.case_ring(db, case)
            standing, _ = self._standing(db, case, ring, at or self.now(), whole)
        if isinstance(draft, type):
            draft.may_follow(standing.state, standing.at)
        elif draft is not None:
            draft.early(standing)
        return standing.state

    def add(self, reference: str, draft: Draft, at: datetime | None = None) -> Written:
        """Add `draft` to a case, dated `at` (default: now).  The flow is checked in the
        transaction that appends the entry, against the case's summary (its entries only for
        a kind that reads them), its key unwrapped once; the summary and `cases.status` are
        kept in step in the same transaction."""
        event, recorded = self._when(at)
        with storage.guarded(self._path), storage.writing(self.unlocked.vault.connection) as db:
            case = casefile.find_case(db, reference)
            ring = self.unlocked.case_ring(db, case, writing=True)
            standing, summary = self._standing(db, case, ring, event, draft.reads_case)
            draft.check(standing)
            payload = draft.payload(standing)
            entry = self._append(db, case, ring, draft.kind, payload, event, recorded)
            summary = summaries.advance(summary, entry, payload)
            summaries.write(db, case.id, ring, summary)
            state = summary.state
            if state.status != case.status:
                case.status = state.status
                case.closed_at = clock.to_text(state.closed_at) if state.closed_at else None
                db.update(case, "status", "closed_at")
            late = self._unconfirmed(db, self.today()).get(case.id, [])
        return Written(
            state.reference,
            entry.seq,
            summary.entries,
            state,
            self.next_step(state),
            action=draft.number(payload),
            unconfirmed=tuple(_chase(state.reference, t, self.config.closure_days) for t in late),
        )

    def any_erased(self) -> bool:
        """Whether any case has been erased: one cheap look before reading the erasures."""
        with storage.guarded(self._path), storage.reading(self.unlocked.vault.connection) as db:
            return db.value("SELECT 1 FROM cases WHERE erased_seq IS NOT NULL LIMIT 1") is not None

    def unconfirmed_without_cases(self) -> Sequence[transfers.Transfer]:
        """The transfers of a file that held no case, overdue for their receipt (those that
        held cases are among their cases' overdue items)."""
        with storage.guarded(self._path), storage.reading(self.unlocked.vault.connection) as db:
            late = transfers.overdue(self.unlocked, db, self.today(), self.config.closure_days)
        return [t for t in late if not t.cases]

    def _unconfirmed(self, db: Db, today: date) -> Mapping[int, Sequence[transfers.Transfer]]:
        return transfers.overdue_by_case(self.unlocked, db, today, self.config.closure_days)


def _chase(reference: str, late: transfers.Transfer, closures: Container[date]) -> flow.Overdue:
    return flow.Overdue(reference, transfers.chased(late), late.due(closures))


def _reference(case: Case) -> str:
    return casefile.format_reference(case.year, case.number)


def _manager(people: Sequence[restricted.Person], subjects: Sequence[Subject]) -> str:
    """The role of a restricted case's manager: head, or chair if a headteacher is a subject."""
    return restricted.manager_role(people, {restricted.same_name(s.name) for s in subjects})


def _managed(people: Sequence[restricted.Person], members: Sequence[int]) -> bool:
    """Whether a headteacher or a chair of governors is among a restricted case's members."""
    return any(p.role in (restricted.HEAD, restricted.CHAIR) for p in people if p.id in members)
