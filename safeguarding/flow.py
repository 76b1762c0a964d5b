"""The section 6 flow: the state a case's entries leave it in, and what comes next.

A case's state is always derived from its entries (the chronology is authoritative), each
changing it as its kind (`entries`) says, and each kind says what may follow what; nothing here
reads or writes storage.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date

from safeguarding import deadlines, moments, retention_rules
from safeguarding.casefile import CaseFile
from safeguarding.casestate import CaseState
from safeguarding.categories import ROUTE_TITLES, Category
from safeguarding.entries import kind_of
from safeguarding.vocabulary import Route, Stage


def fold(case: CaseFile) -> CaseState:
    """The state a case's entries, in the order they were recorded, leave it in: each changes
    it as its kind says."""
    disclosure = case.disclosure
    state = CaseState(
        reference=case.reference,
        category=str(disclosure.data["category"]),
        disclosed_at=disclosure.event_at,
        subjects=list(disclosure.data.get("subjects", [])),
    )
    for entry in case.in_recorded_order:
        kind_of(entry.kind).apply(state, entry)
    return state


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
    advice = f"safeguard advice {ref} (it asks who gave it)"
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
            f"conversations throughout.\n\nRecord the advice: {advice}",
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
            f"{keep}\nIf advice is sought, record it: {advice}\n\n{close}",
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


def retention_due(
    state: CaseState,
    category: Category,
    retirement_age: int,
    birth: date | None = None,
    known: dict[tuple[int, retention_rules.Anchors], retention_rules.Due] | None = None,
) -> retention_rules.Due | None:
    """When the category's retention rule (the one for the case's outcome, once closed) says
    the case is reviewed or erased; None if the category has no rule.  `birth`: the subject's
    date of birth, once recorded (with several subjects, the latest: the longest kept).
    `known`: the dates already worked out, by rule and dates counted from, kept for the next
    case (a list of many cases asks for the same few again and again)."""
    if category.retention is None:
        return None
    closed = state.stage is Stage.CLOSED
    rule = category.retention.for_outcome(state.outcome if closed else None)
    anchors = retention_rules.Anchors(
        disclosure=moments.local_date(state.disclosed_at),
        closure=moments.local_date(state.closed_at) if closed and state.closed_at else None,
        birth=birth,
    )
    if known is None:
        return retention_rules.due(rule, anchors, retirement_age)
    key = (id(rule), anchors)  # a category's rules live as long as the categories read
    found = known.get(key)
    if found is None:
        found = known[key] = retention_rules.due(rule, anchors, retirement_age)
    return found
