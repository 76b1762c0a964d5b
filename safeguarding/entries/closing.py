"""Closing a case with its outcome, and reopening it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.casestate import CaseState
from safeguarding.entries.kind import Draft, Fact, Standing
from safeguarding.errors import NotAllowed, UsageError
from safeguarding.vocabulary import Kind, Route, Stage


@dataclass(frozen=True, kw_only=True)
class Closure(Draft):
    """Closing with an outcome: with open actions only when `force`d; the text (the summary,
    and then the reason for forcing) is recorded either way."""

    kind = Kind.CLOSURE
    title = "Closure"
    receipt = "Closed"
    codes = frozenset({"outcome", "forced", "open_actions"})
    shape = (
        ("outcome", (str,)),
        ("forced", (bool,)),
        ("open_actions", (list,)),
    )
    always = frozenset({"outcome"})
    closed_refusal = "closed again"
    about_text = "the reason for closing"

    outcome: str
    force: bool = False

    def __post_init__(self) -> None:
        self._set("outcome", self.outcome.strip().lower())
        self._check_text()

    def check(self, standing: Standing) -> None:
        super().check(standing)
        state, category = standing.state, standing.category
        if self.outcome not in category.allowed_outcomes:
            raise UsageError(
                f"unknown outcome {self.outcome!r} for a {category.code} case; choose one of: "
                f"{', '.join(category.allowed_outcomes)}"
            )
        if not state.referred_or_decided:
            raise NotAllowed(
                f"{state.reference} has no referral and no recorded decision not to refer",
                hint=f"record one first: safeguard refer {state.reference} --to "
                f"{category.route.value if category.route is not Route.NONE else 'none'}",
            )
        if state.open_actions and not self.force:
            numbers = ", ".join(str(a.number) for a in state.open_actions)
            raise NotAllowed(
                f"{state.reference} has open actions ({numbers})",
                hint="record them done (safeguard action done CASE ACTION), or close with "
                "--force and give the reason",
            )

    def payload(self, standing: Standing) -> dict[str, Any]:
        payload: dict[str, Any] = {"outcome": self.outcome, **super().payload(standing)}
        if standing.state.open_actions:
            payload["forced"] = True
            payload["open_actions"] = [a.number for a in standing.state.open_actions]
        return payload

    @classmethod
    def apply(cls, state: CaseState, entry: CaseEntry) -> None:
        state.outcome = str(entry.data["outcome"])
        state.closed_at = state.last_closure_at = entry.event_at
        state.stage = Stage.CLOSED

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        d = entry.data
        outcome = str(d.get("outcome", ""))
        if d.get("forced"):
            numbers = ", ".join(str(n) for n in d.get("open_actions", []))
            outcome += f" (closed with open actions: {numbers})"
        yield Fact("Outcome", outcome)


@dataclass(frozen=True, kw_only=True)
class Reopening(Draft):
    kind = Kind.REOPENING
    title = "Reopening"
    receipt = "Reopened"
    when_closed = True
    about_text = "the reason for reopening"

    def __post_init__(self) -> None:
        self._check_text()

    def early(self, standing: Standing) -> None:
        self.may_follow(standing.state, standing.at)

    @classmethod
    def may_follow(cls, state: CaseState, at: datetime) -> None:
        if state.stage is not Stage.CLOSED:
            raise NotAllowed(f"{state.reference} is open; only a closed case can be reopened")
        super().may_follow(state, at)
        if state.last_closure_at and at < state.last_closure_at:
            raise NotAllowed(f"{state.reference} cannot be reopened before it was closed")

    @classmethod
    def apply(cls, state: CaseState, entry: CaseEntry) -> None:
        state.stage = state.reopen_stage
        state.outcome = state.closed_at = None
