"""The section 6 flow: what state a case is in, what may follow what, and what comes next.

A case's state is always derived from its entries (the chronology is authoritative); nothing
here reads or writes storage.  Flow refusals are `NotAllowed` (exit 3).
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from safeguarding import deadlines, moments
from safeguarding.casefile import CaseEntry, CaseFile, Kind
from safeguarding.categories import ROUTE_TITLES, Category
from safeguarding.errors import NotAllowed
from safeguarding.vocabulary import Route, Stage

#: The plaintext `cases.status` column: only whether a case is open or closed.
OPEN, CLOSED = "open", "closed"


@dataclass
class Action:
    number: int
    entry: int
    owner: str
    due: date
    text: str
    added_at: datetime
    done_entry: int | None = None

    @property
    def done(self) -> bool:
        return self.done_entry is not None


@dataclass
class CaseState:
    reference: str
    category: str
    disclosed_at: datetime
    subjects: list[dict[str, str]]
    stage: Stage = Stage.DISCLOSED
    referrals: list[int] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    decided_not_to_refer: bool = False
    advice: int = 0
    actions: dict[int, Action] = field(default_factory=dict)
    outcome: str | None = None
    closed_at: datetime | None = None
    last_closure_at: datetime | None = None

    @property
    def status(self) -> str:
        return CLOSED if self.stage is Stage.CLOSED else OPEN

    @property
    def open_actions(self) -> list[Action]:
        return [a for a in self.actions.values() if not a.done]

    @property
    def referred_or_decided(self) -> bool:
        return bool(self.referrals) or self.decided_not_to_refer

    @property
    def initials(self) -> str:
        return ", ".join(initials(s.get("name", "")) for s in self.subjects)


def initials(name: str) -> str:
    return "".join(part[0].upper() + "." for part in name.split() if part) or "?"


def status_of(kinds: Iterable[str]) -> str:
    """The open/closed state that entries of these kinds, in recorded order, leave a case in."""
    status = OPEN
    for kind in kinds:
        if kind == Kind.CLOSURE:
            status = CLOSED
        elif kind == Kind.REOPENING:
            status = OPEN
    return status


def fold(case: CaseFile) -> CaseState:
    """The state a case's entries, in the order they were recorded, leave it in."""
    disclosure = case.disclosure
    state = CaseState(
        reference=case.reference,
        category=str(disclosure.data["category"]),
        disclosed_at=disclosure.event_at,
        subjects=list(disclosure.data.get("subjects", [])),
    )
    before_closure = Stage.DISCLOSED
    for entry in case.in_recorded_order:
        _apply(state, entry)
        if entry.kind == Kind.CLOSURE:
            state.stage = Stage.CLOSED
        elif entry.kind == Kind.REOPENING:
            state.stage = before_closure
            state.outcome = state.closed_at = None
        elif state.stage is not Stage.CLOSED:
            state.stage = _progress(state.stage, entry)
            before_closure = state.stage
    return state


def _progress(stage: Stage, entry: CaseEntry) -> Stage:
    if entry.kind == Kind.REFERRAL:
        if entry.data.get("route") == Route.NONE:
            return Stage.NOT_REFERRED if stage is Stage.DISCLOSED else stage
        return Stage.REFERRED if stage in (Stage.DISCLOSED, Stage.NOT_REFERRED) else stage
    if entry.kind == Kind.ADVICE:
        return Stage.ADVISED
    return stage


def _apply(state: CaseState, entry: CaseEntry) -> None:
    d = entry.data
    match entry.kind:
        case Kind.REFERRAL if d.get("route") == Route.NONE:
            state.decided_not_to_refer = True
        case Kind.REFERRAL:
            state.referrals.append(entry.id)
            state.routes.append(Route(d["route"]))
        case Kind.ADVICE:
            state.advice += 1
        case Kind.ACTION:
            number = int(d["action"])
            state.actions[number] = Action(
                number=number,
                entry=entry.id,
                owner=str(d["owner"]),
                due=date.fromisoformat(d["due"]),
                text=entry.text,
                added_at=entry.event_at,
            )
        case Kind.ACTION_DONE:
            state.actions[int(d["action"])].done_entry = entry.id
        case Kind.CLOSURE:
            state.outcome = str(d["outcome"])
            state.closed_at = state.last_closure_at = entry.event_at


# What may follow what ----------------------------------------------------------------------

#: Entries that may still be added to a closed case.
ALLOWED_WHEN_CLOSED = frozenset({Kind.NOTE, Kind.AMENDMENT, Kind.REOPENING})


def check_may_add(state: CaseState, kind: str, at: datetime) -> None:
    """Refuse an entry the case's state does not allow, or dated before the disclosure."""
    if state.stage is Stage.CLOSED and kind not in ALLOWED_WHEN_CLOSED:
        what = "closed again" if kind == Kind.CLOSURE else "added to"
        raise NotAllowed(
            f"{state.reference} is closed ({state.outcome}); it cannot be {what}",
            hint=f"reopen it first: safeguard reopen {state.reference}",
        )
    if kind == Kind.REOPENING and state.stage is not Stage.CLOSED:
        raise NotAllowed(f"{state.reference} is open; only a closed case can be reopened")
    if at < state.disclosed_at:
        raise NotAllowed(
            f"that is before the disclosure of {state.reference} "
            f"({moments.local_text(state.disclosed_at)}); a case's entries follow its disclosure"
        )
    if kind == Kind.REOPENING and state.last_closure_at and at < state.last_closure_at:
        raise NotAllowed(f"{state.reference} cannot be reopened before it was closed")


def check_action_done(state: CaseState, number: int, at: datetime | None = None) -> Action:
    action = state.actions.get(number)
    if action is None:
        from safeguarding.errors import NotFound

        known = ", ".join(str(n) for n in state.actions) or "none yet"
        raise NotFound(f"{state.reference} has no action {number} (its actions: {known})")
    if action.done:
        raise NotAllowed(
            f"action {number} of {state.reference} was already done (entry {action.done_entry})",
            hint=f"to correct that record: safeguard amend {state.reference} {action.done_entry}",
        )
    if at is not None and at < action.added_at:
        raise NotAllowed(f"action {number} cannot be done before it was added")
    return action


def check_close(state: CaseState, outcome: str, category: Category, force: bool) -> None:
    if outcome not in category.allowed_outcomes:
        from safeguarding.errors import UsageError

        raise UsageError(
            f"unknown outcome {outcome!r} for a {category.code} case; choose one of: "
            f"{', '.join(category.allowed_outcomes)}"
        )
    if not state.referred_or_decided:
        raise NotAllowed(
            f"{state.reference} has no referral and no recorded decision not to refer",
            hint=f"record one first: safeguard refer {state.reference} --to "
            f"{category.route.value if category.route is not Route.NONE else 'none'}",
        )
    if state.open_actions and not force:
        numbers = ", ".join(str(a.number) for a in state.open_actions)
        raise NotAllowed(
            f"{state.reference} has open actions ({numbers})",
            hint="record them done (safeguard action done CASE ACTION), or close with --force "
            "and give the reason",
        )


# What comes next ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """What the policy asks next, and by when (`due`: the end of that day)."""

    title: str
    text: str
    due: date | None = None
    route: Route | None = None
    overdue: bool = False


def referral_due(state: CaseState, category: Category, closures: Container[date]) -> date | None:
    if category.deadline_working_days is None:
        return None
    return deadlines.add_working_days(
        moments.local_date(state.disclosed_at), category.deadline_working_days, closures
    )


def next_step(
    state: CaseState, category: Category, today: date, closures: Container[date] = ()
) -> NextStep:
    ref = state.reference
    if state.stage is Stage.CLOSED:
        return NextStep(
            "Closed",
            f"Outcome: {state.outcome}. If anything new comes to light: safeguard reopen {ref}",
        )
    if not state.referred_or_decided:
        due = referral_due(state, category, closures)
        if category.route is Route.NONE:
            title = "Decide whether to refer, and record the decision"
            how = f"Record it: safeguard refer {ref} --to none (with the reason), or --to ROUTE."
        else:
            title = f"Refer to {ROUTE_TITLES[category.route]}"
            how = f"Record the referral: safeguard refer {ref} --to {category.route.value}"
        return NextStep(
            title,
            f"{category.guidance}\n\n{how}",
            due=due,
            route=category.route,
            overdue=due is not None and today > due,
        )
    route = state.routes[-1] if state.routes else None
    pending = state.open_actions
    if pending:
        first = min(pending, key=lambda a: a.due)
        listed = "\n".join(
            f"- action {a.number}: {a.owner}, due {a.due.isoformat()}" for a in pending
        )
        return NextStep(
            "Complete the open actions",
            f"{listed}\n\nWhen one is done: safeguard action done {ref} ACTION",
            due=first.due,
            route=route,
            overdue=today > first.due,
        )
    if state.stage is Stage.REFERRED and route is not None:
        return NextStep(
            f"Seek and follow the advice of {ROUTE_TITLES[route]}",
            "Section 6: follow the advice, keeping detailed records of actions and "
            f"conversations throughout.\n\nRecord the advice: safeguard advice {ref} --from WHO",
            route=route,
        )
    outcomes = "|".join(category.allowed_outcomes)
    close = f"When the case is finished: safeguard close {ref} --outcome {outcomes}"
    keep = (
        "Record every action, conversation and note as it happens "
        f"(safeguard action add / conversation / note {ref})."
    )
    if not state.advice:
        # A decision not to refer: there is no advice to follow unless some is sought.
        return NextStep(
            "Keep records",
            f"{keep}\nIf advice is sought, record it: safeguard advice {ref} --from WHO\n\n{close}",
            route=route,
        )
    return NextStep("Follow the advice and keep records", f"{keep}\n\n{close}", route=route)


@dataclass(frozen=True)
class Overdue:
    reference: str
    what: str
    due: date


def overdue(
    state: CaseState, category: Category, today: date, closures: Container[date] = ()
) -> list[Overdue]:
    """Missed referral deadlines and overdue actions of an open case."""
    if state.stage is Stage.CLOSED:
        return []
    found: list[Overdue] = []
    due = referral_due(state, category, closures)
    if due is not None and not state.referred_or_decided and today > due:
        found.append(Overdue(state.reference, f"referral to {category.route.value}", due))
    for action in state.open_actions:
        if today > action.due:
            found.append(
                Overdue(state.reference, f"action {action.number} ({action.owner})", action.due)
            )
    return found
