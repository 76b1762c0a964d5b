"""Cases: opening one from a disclosure, and adding referrals, advice, actions, conversations,
notes, amendments, closure and reopening to its chronology.

Every write checks the flow rules inside the same `BEGIN IMMEDIATE` transaction that appends the
entry, so a refused command writes nothing.  Entries are sealed with the case's own key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, func, select

from safeguarding import casefile, chronology, clock, flow, moments, restricted, roster, storage
from safeguarding.casefile import CaseFile, Kind
from safeguarding.categories import Categories
from safeguarding.config import Config
from safeguarding.crypto import KeyRing
from safeguarding.entry_fields import (
    CHANNELS,
    SubjectRole,
    check_no_referral_details,
    choice,
    long_text,
    short,
)
from safeguarding.errors import NotAllowed, UsageError
from safeguarding.models import Case, Entry
from safeguarding.vocabulary import Route

if TYPE_CHECKING:
    from safeguarding.vault import Unlocked


@dataclass(frozen=True)
class Subject:
    name: str
    role: str


@dataclass(frozen=True)
class Disclosure:
    """What `record` captures.  `text` is the account in the discloser's own words;
    `observations` the recorder's own, kept apart."""

    category: str
    subjects: tuple[Subject, ...]
    disclosed_by: str
    relationship: str
    where: str
    text: str
    observations: str = ""
    received_by: str | None = None
    at: datetime | None = None
    restricted: bool = False  # allegation categories are restricted whatever this says


@dataclass(frozen=True)
class Written:
    """What a command wrote, and where the case now stands."""

    reference: str
    entry: int
    state: flow.CaseState
    next: flow.NextStep
    action: int | None = None
    members: tuple[str, ...] | None = None  # a restricted case's members, by name
    without_manager: bool = False  # restricted, with no headteacher or chair among them


@dataclass(frozen=True)
class CaseSummary:
    reference: str
    state: flow.CaseState
    title: str
    next: flow.NextStep
    overdue: list[flow.Overdue]


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

    # Reading -------------------------------------------------------------------------------

    @property
    def _path(self) -> Any:
        return self.unlocked.vault.path

    def read(self, reference: str) -> CaseFile:
        """One case, decrypted, its entries in event order."""
        with storage.guarded(self._path), storage.reading(self.unlocked.vault.engine) as session:
            return self._file(session, casefile.find_case(session, reference))

    def _file(self, session: Session, case: Case) -> CaseFile:
        ring = self.unlocked.case_ring(session, case)
        return casefile.build(session, case, ring, self._authors(session))

    def _authors(self, session: Session) -> dict[int, str]:
        return casefile.user_names(session, self.unlocked.keys.field_key)

    def today(self) -> date:
        return moments.local_date(self.now())

    def next_step(self, state: flow.CaseState) -> flow.NextStep:
        category = self.categories.lookup(state.category)
        return flow.next_step(state, category, self.today(), self.config.closure_days)

    def list(self, status: str = "open") -> list[CaseSummary]:
        """Cases with `status` (open, closed or all), oldest first."""
        status = choice(status, ("open", "closed", "all"), "status")
        with storage.guarded(self._path), storage.reading(self.unlocked.vault.engine) as session:
            query = select(Case).order_by(col(Case.year), col(Case.number))
            if status != "all":
                query = query.where(Case.status == status)
            self.unlocked.require_epoch(session)
            authors = casefile.user_names(session, self.unlocked.keys.field_key)
            cases = [c for c in session.exec(query).all() if self.unlocked.can_read(session, c)]
            rings = {
                case.id: self.unlocked.case_ring(session, case, epoch_checked=True)
                for case in cases
            }
            files = casefile.build_all(session, cases, lambda case: rings[case.id], authors)
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

    def _append(
        self,
        session: Session,
        case: Case,
        ring: KeyRing,
        kind: str,
        payload: dict[str, Any],
        event: datetime,
        recorded: datetime,
        facts: dict[str, Any] | None = None,
    ) -> Entry:
        return chronology.append(
            session,
            signer=self.unlocked.signer,
            payload_key=ring,
            kind=kind,
            payload=payload,
            facts=facts,
            case_id=case.id,
            event_at=event,
            recorded_at=recorded,
        )

    def _members(
        self,
        people: Sequence[restricted.Person],
        subjects: Sequence[dict[str, str]],
        asked: bool,
        outcomes: str,
    ) -> Sequence[int] | None:
        """A new case's members if it is restricted (None if not): an allegation is, so is any
        case about someone who uses the vault, and any the recorder asked to restrict."""
        named = {restricted.same_name(s["name"]) for s in subjects}
        if not (asked or outcomes == "allegation" or restricted.subject_users(people, named)):
            return None
        return _restricted_members(people, self.unlocked.user.id, subjects)

    def record(self, disclosure: Disclosure) -> Written:
        """Open a case from a disclosure; it gets the next reference of the year."""
        category = self.categories.get(disclosure.category)
        if not disclosure.subjects:
            raise UsageError("name at least one subject (--subject NAME)")
        subjects = [
            {
                "name": short(s.name, "a subject's name"),
                "role": choice(s.role, SubjectRole.ALL, "subject role"),
            }
            for s in disclosure.subjects
        ]
        payload: dict[str, Any] = {
            "category": category.code,
            "subjects": subjects,
            "disclosed_by": short(disclosure.disclosed_by, "who disclosed"),
            "relationship": short(disclosure.relationship, "their relationship"),
            "received_by": short(
                disclosure.received_by or self.unlocked.user.name, "who received it"
            ),
            "where": short(disclosure.where, "where it was disclosed"),
            "text": long_text(disclosure.text, "the account"),
        }
        observations = long_text(disclosure.observations, "observations", required=False)
        if observations:
            payload["observations"] = observations
        event, recorded = self._when(disclosure.at)
        engine = self.unlocked.vault.engine
        with storage.guarded(self._path), storage.writing(engine) as session:
            self.unlocked.require_epoch(session)
            people = roster.people(session, self.unlocked.keys)
            members = self._members(people, subjects, disclosure.restricted, category.outcomes)
            year = moments.local_date(recorded).year
            number = _next(session, Case.number, Case.year == year)
            case_id = _next(session, Case.id)
            case = Case(
                id=case_id,
                year=year,
                number=number,
                opened_at=clock.to_text(recorded),
                case_key=b"",
                status=flow.OPEN,
            )
            session.add(case)
            session.flush()
            ring = self.unlocked.new_case_keys(session, case, members)
            # The reference goes into the signed chronology, so a number changed by hand in the
            # cases table is caught; so are a restricted case's members.
            facts: dict[str, Any] = {"case": [year, number]}
            if members is not None:
                facts["restricted"] = members
            entry = self._append(
                session,
                case,
                ring,
                Kind.DISCLOSURE,
                payload,
                event,
                recorded,
                facts=facts,
            )
            state = flow.fold(casefile.build(session, case, ring, self._authors(session)))
        names = {person.id: person.name for person in people}
        return Written(
            state.reference,
            entry.seq,
            state,
            self.next_step(state),
            members=None if members is None else tuple(names[m] for m in members),
            without_manager=members is not None
            and not any(
                p.role in (restricted.HEAD, restricted.CHAIR) for p in people if p.id in members
            ),
        )

    def _add(
        self,
        reference: str,
        kind: str,
        payload: dict[str, Any],
        at: datetime | None,
        check: Callable[[flow.CaseState, datetime], None] | None = None,
    ) -> Written:
        """Check the flow, append one entry to a case, and keep `cases.status` in step."""
        event, recorded = self._when(at)
        engine = self.unlocked.vault.engine
        with storage.guarded(self._path), storage.writing(engine) as session:
            case = casefile.find_case(session, reference)
            case_key = self.unlocked.case_ring(session, case, writing=True)
            authors = casefile.user_names(session, self.unlocked.keys.field_key)
            rows = casefile.entry_rows(session, case)
            state = flow.fold(casefile.assemble(case, case_key, authors, rows))
            flow.check_may_add(state, kind, event)
            if check is not None:
                check(state, event)
            entry = self._append(session, case, case_key, kind, payload, event, recorded)
            # The case as it now stands: what was read, and the entry just written.
            state = flow.fold(casefile.assemble(case, case_key, authors, [*rows, entry]))
            if state.status != case.status:
                case.status = state.status
                case.closed_at = clock.to_text(state.closed_at) if state.closed_at else None
                session.add(case)
        return Written(
            state.reference,
            entry.seq,
            state,
            self.next_step(state),
            action=payload.get("action") if kind == Kind.ACTION else None,
        )

    def refer(
        self,
        reference: str,
        route: str,
        *,
        text: str,
        contact: str | None = None,
        their_reference: str | None = None,
        at: datetime | None = None,
    ) -> Written:
        """A referral (who was contacted, their reference, what was said), or with route
        `none` a decision not to refer, whose reason is `text`."""
        chosen = Route(choice(route, tuple(r.value for r in Route), "route"))
        check_no_referral_details(chosen.value, contact, their_reference)
        payload: dict[str, Any] = {"route": chosen.value}
        if chosen is Route.NONE:
            payload["text"] = long_text(text, "the reason for not referring")
        else:
            payload["text"] = long_text(text, "what was said")
            if contact:
                payload["contact"] = short(contact, "who was contacted")
            if their_reference:
                payload["reference"] = short(their_reference, "their reference")
        return self._add(reference, Kind.REFERRAL, payload, at)

    def advice(
        self, reference: str, *, source: str, text: str, at: datetime | None = None
    ) -> Written:
        payload = {
            "source": short(source, "who gave the advice"),
            "text": long_text(text, "the advice"),
        }
        return self._add(reference, Kind.ADVICE, payload, at)

    def add_action(
        self,
        reference: str,
        *,
        owner: str,
        due: date,
        text: str,
        at: datetime | None = None,
    ) -> Written:
        payload: dict[str, Any] = {
            "owner": short(owner, "the action's owner"),
            "due": due.isoformat(),
            "text": long_text(text, "what is to be done"),
        }

        def check(state: flow.CaseState, event: datetime) -> None:
            if due < moments.local_date(event):
                raise UsageError(
                    f"the due date {due.isoformat()} is before the action was set "
                    f"({moments.local_text(event)})"
                )
            payload["action"] = max(state.actions, default=0) + 1

        return self._add(reference, Kind.ACTION, payload, at, check)

    def complete_action(
        self, reference: str, action: int, *, text: str, at: datetime | None = None
    ) -> Written:
        payload = {"action": action, "text": long_text(text, "what was done")}

        def check(state: flow.CaseState, event: datetime) -> None:
            flow.check_action_done(state, action, event)

        return self._add(reference, Kind.ACTION_DONE, payload, at, check)

    def conversation(
        self,
        reference: str,
        *,
        with_whom: str,
        channel: str,
        text: str,
        at: datetime | None = None,
    ) -> Written:
        payload = {
            "with": short(with_whom, "who the conversation was with"),
            "channel": choice(channel, CHANNELS, "channel"),
            "text": long_text(text, "what was said"),
        }
        return self._add(reference, Kind.CONVERSATION, payload, at)

    def note(self, reference: str, *, text: str, at: datetime | None = None) -> Written:
        return self._add(reference, Kind.NOTE, {"text": long_text(text, "the note")}, at)

    def amend(
        self, reference: str, target: int, *, text: str, at: datetime | None = None
    ) -> Written:
        """A correction of entry `target` of the case; the original stays as it was.

        Only what someone recorded can be corrected: an export entry is safeguard's own record
        of who took the case out of the vault, and stays exactly as it was written."""
        payload = {"target": target, "text": long_text(text, "the correction")}
        engine = self.unlocked.vault.engine
        with storage.guarded(self._path), storage.reading(engine) as session:
            file = self._file(session, casefile.find_case(session, reference))
            kind = file.entry(target).kind
        if kind not in Kind.ALL:
            raise NotAllowed(
                f"entry {target} of {file.reference} is safeguard's own record of an {kind}, "
                "and cannot be amended",
                hint=f"to add to the record, use 'safeguard note {file.reference}'",
            )
        return self._add(reference, Kind.AMENDMENT, payload, at)

    def close(
        self,
        reference: str,
        *,
        outcome: str,
        text: str,
        force: bool = False,
        at: datetime | None = None,
    ) -> Written:
        """Close with an outcome.  With open actions only when `force`d; `text` (the summary,
        and then the reason for forcing) is recorded either way."""
        payload: dict[str, Any] = {
            "outcome": outcome.strip().lower(),
            "text": long_text(text, "the reason for closing"),
        }

        def check(state: flow.CaseState, event: datetime) -> None:
            category = self.categories.lookup(state.category)
            flow.check_close(state, payload["outcome"], category, force)
            if state.open_actions:
                payload["forced"] = True
                payload["open_actions"] = [a.number for a in state.open_actions]

        return self._add(reference, Kind.CLOSURE, payload, at, check)

    def reopen(self, reference: str, *, text: str, at: datetime | None = None) -> Written:
        payload = {"text": long_text(text, "the reason for reopening")}
        return self._add(reference, Kind.REOPENING, payload, at)


def _restricted_members(
    people: Sequence[restricted.Person], recorder: int, subjects: Sequence[dict[str, str]]
) -> list[int]:
    named = {restricted.same_name(s["name"]) for s in subjects}
    if recorder in restricted.subject_users(people, named):
        raise NotAllowed(
            "you are named as a subject of this case, so you cannot record it; nothing was saved",
            hint="ask another DSL or the headteacher to record it",
        )
    return restricted.default_members(people, recorder, named)


def _next(session: Session, column: Any, *where: Any) -> int:
    query = select(func.coalesce(func.max(column), 0))
    for condition in where:
        query = query.where(condition)
    return int(session.exec(query).one()) + 1
