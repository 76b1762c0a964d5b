"""The casebook: opening a case from a disclosure, adding an entry of any kind to it, and reading
cases back with where each stands.

Every write checks the flow inside the same `BEGIN IMMEDIATE` transaction that appends the
entry, so a refused command writes nothing.  Entries are sealed with the case's own key.  What
each kind holds and checks is its class in `entries`; nothing here knows one kind from another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from safeguarding import casefile, chronology, clock, flow, moments, restricted, roster, storage
from safeguarding.casefile import CaseFile
from safeguarding.casestate import OPEN, CaseState
from safeguarding.categories import Categories
from safeguarding.config import Config
from safeguarding.crypto import KeyRing
from safeguarding.db import Case, Db, Entry
from safeguarding.entries import Disclosure, Draft, Standing, Subject
from safeguarding.entry_fields import choice
from safeguarding.errors import NotAllowed, UsageError

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class CaseSummary:
    reference: str
    state: CaseState
    title: str
    next: flow.NextStep
    overdue: list[flow.Overdue]
    restricted: bool = False  # only its members (and the recovery key) can read it


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
        #: What `preflight` read of a case, for the `add` that follows: its id and entries.
        self._read_ahead: tuple[int, list[casefile.Opened]] | None = None

    # Reading -------------------------------------------------------------------------------

    @property
    def _path(self) -> Any:
        return self.unlocked.vault.path

    def read(self, reference: str) -> CaseFile:
        """One case, decrypted, its entries in event order."""
        return self._read(reference, keep=False)

    def _read(self, reference: str, *, keep: bool) -> CaseFile:
        """`read`; with `keep`, its entries are kept for the `add` that follows (`preflight`),
        which then reads only what a colleague added meanwhile."""
        with storage.guarded(self._path), storage.reading(self.unlocked.vault.connection) as db:
            case = casefile.find_case(db, reference)
            ring = self.unlocked.case_ring(db, case)
            opened = casefile.open_rows(ring, casefile.entry_rows(db, case))
            if keep:
                self._read_ahead = (case.id, opened)
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
        """Cases with `status` (open, closed or all), oldest first."""
        status = choice(status, ("open", "closed", "all"), "status")
        with storage.guarded(self._path), storage.reading(self.unlocked.vault.connection) as db:
            where, params = ("", ()) if status == "all" else ("status = ?", (status,))
            self.unlocked.require_epoch(db)
            authors = casefile.user_names(db, self.unlocked.keys.field_key)
            listed = db.all(Case, where, *params, order="year, number")
            cases = [c for c in listed if self.unlocked.can_read(db, c)]
            rings = {
                case.id: self.unlocked.case_ring(db, case, epoch_checked=True) for case in cases
            }
            files = casefile.build_all(db, cases, lambda case: rings[case.id], authors)
        summaries = []
        for file in files:
            state = flow.fold(file)
            category = self.categories.lookup(state.category)
            summaries.append(
                CaseSummary(
                    reference=file.reference,
                    state=state,
                    title=category.title,
                    next=self.next_step(state),
                    overdue=flow.overdue(state, category, self.today(), self.config.closure_days),
                    restricted=file.restricted,
                )
            )
        return summaries

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
    ) -> Written:
        """Open a case from a disclosure; it gets the next reference of the year.  It is
        restricted if `restricted` asks for it, and whatever that says if it is an allegation
        or about someone who uses the vault.  `then` writes what follows the disclosure in the
        same transaction (a concern it was opened from)."""
        category = self.categories.get(disclosure.category)
        event, recorded = self._when(at)
        payload = disclosure.payload(category.code, self.unlocked.user.name)
        with storage.guarded(self._path), storage.writing(self.unlocked.vault.connection) as db:
            self.unlocked.require_epoch(db)
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
            if then is not None:
                then(db, case)
            authors = {self.unlocked.user.id: self.unlocked.user.name}
            state = flow.fold(casefile.file_of(case, [(entry, payload)], authors))
        names = {person.id: person.name for person in people}
        return Written(
            state.reference,
            entry.seq,
            1,  # a disclosure opens its case
            state,
            self.next_step(state),
            members=None if members is None else tuple(names[m] for m in members),
            without_manager=members is not None and not _managed(people, members),
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

    def _standing(self, file: CaseFile, at: datetime) -> Standing:
        state = flow.fold(file)
        return Standing(file, state, self.categories.lookup(state.category), at)

    def preflight(
        self,
        reference: str,
        draft: Draft | type[Draft] | None = None,
        at: datetime | None = None,
    ) -> CaseState:
        """Refuse now what adding `draft` (its text not yet written) at `at` would refuse early:
        a case that is not there for this user, and what the draft checks before its text (a
        kind given as a class: whether it may follow, as on a closed case).  Nothing is
        written.  The case's state as it stands."""
        standing = self._standing(self._read(reference, keep=True), at or self.now())
        if isinstance(draft, type):
            draft.may_follow(standing.state, standing.at)
        elif draft is not None:
            draft.early(standing)
        return standing.state

    def add(self, reference: str, draft: Draft, at: datetime | None = None) -> Written:
        """Add `draft` to a case, dated `at` (default: now).  The flow is checked in the
        transaction that appends the entry, the case read and its key unwrapped once, and
        `cases.status` kept in step."""
        event, recorded = self._when(at)
        with storage.guarded(self._path), storage.writing(self.unlocked.vault.connection) as db:
            case = casefile.find_case(db, reference)
            ring = self.unlocked.case_ring(db, case, writing=True)
            authors = self._authors(db)
            opened = self._opened(db, case, ring)
            standing = self._standing(casefile.file_of(case, opened, authors), event)
            draft.check(standing)
            payload = draft.payload(standing)
            entry = self._append(db, case, ring, draft.kind, payload, event, recorded)
            # The case as it now stands: what was read, and the entry just written.
            state = flow.fold(casefile.file_of(case, [*opened, (entry, payload)], authors))
            if state.status != case.status:
                case.status = state.status
                case.closed_at = clock.to_text(state.closed_at) if state.closed_at else None
                db.update(case, "status", "closed_at")
        return Written(
            state.reference,
            entry.seq,
            len(opened) + 1,  # it follows every entry of the case read
            state,
            self.next_step(state),
            action=draft.number(payload),
        )


def _managed(people: Sequence[restricted.Person], members: Sequence[int]) -> bool:
    """Whether a headteacher or a chair of governors is among a restricted case's members."""
    return any(p.role in (restricted.HEAD, restricted.CHAIR) for p in people if p.id in members)
