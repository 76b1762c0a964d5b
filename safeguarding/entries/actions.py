"""Actions: one added (what, by whom, by when), and one recorded done."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from safeguarding import casestate, moments
from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.casestate import CaseState
from safeguarding.entries.kind import Draft, Fact, Standing
from safeguarding.entry_fields import short
from safeguarding.errors import NotAllowed, NotFound, UsageError
from safeguarding.vocabulary import Kind


@dataclass(frozen=True, kw_only=True)
class Action(Draft):
    """What is to be done, by whom, by when; it gets the case's next action number."""

    kind = Kind.ACTION
    title = "Action"
    named = (("owner", "Action owner"),)
    codes = frozenset({"due", "action"})
    shape = (
        ("owner", (str,)),
        ("due", (str,)),
        ("action", (int,)),
    )
    always = frozenset(name for name, _ in shape)
    about_text = "what is to be done"

    #: None in the draft checked before the owner and the text are asked for.
    owner: str | None = None
    due: date

    def __post_init__(self) -> None:
        if self.owner is not None:
            self._set("owner", short(self.owner, "the action's owner"))
        self._check_text()

    def check(self, standing: Standing) -> None:
        super().check(standing)
        if self.due < moments.local_date(standing.at):
            raise UsageError(
                f"the due date {self.due.isoformat()} is before the action was set "
                f"({moments.local_text(standing.at)})"
            )

    def payload(self, standing: Standing) -> dict[str, Any]:
        return {
            "owner": short(self.owner, "the action's owner"),
            "due": self.due.isoformat(),
            **super().payload(standing),
            "action": max(standing.state.actions, default=0) + 1,
        }

    def number(self, payload: dict[str, Any]) -> int | None:
        return int(payload["action"])

    @classmethod
    def apply(cls, state: CaseState, entry: CaseEntry) -> None:
        d = entry.data
        number = int(d["action"])
        state.actions[number] = casestate.Action(
            number=number,
            entry=entry.number,
            owner=str(d["owner"]),
            due=date.fromisoformat(d["due"]),
            text=entry.text,
            added_at=entry.event_at,
        )
        super().apply(state, entry)

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        d = entry.data
        yield Fact(f"Action {d.get('action')}", f"owner {d.get('owner')}, due {d.get('due')}")


@dataclass(frozen=True, kw_only=True)
class ActionDone(Draft):
    kind = Kind.ACTION_DONE
    title = "Action done"
    codes = frozenset({"action"})
    shape = (("action", (int,)),)
    always = frozenset(name for name, _ in shape)
    about_text = "what was done"

    action: int

    def __post_init__(self) -> None:
        self._check_text()

    def check(self, standing: Standing) -> None:
        super().check(standing)
        self._open_action(standing.state, standing.at)

    def _open_action(self, state: CaseState, at: datetime | None) -> None:
        action = state.actions.get(self.action)
        if action is None:
            known = ", ".join(str(n) for n in state.actions) or "none yet"
            raise NotFound(f"{state.reference} has no action {self.action} (its actions: {known})")
        if action.done:
            raise NotAllowed(
                f"action {self.action} of {state.reference} was already done "
                f"(entry {action.done_entry})",
                hint=f"to correct that record: safeguard amend {state.reference} "
                f"{action.done_entry}",
            )
        if at is not None and at < action.added_at:
            raise NotAllowed(f"action {self.action} cannot be done before it was added")

    def payload(self, standing: Standing) -> dict[str, Any]:
        return {"action": self.action, **super().payload(standing)}

    @classmethod
    def apply(cls, state: CaseState, entry: CaseEntry) -> None:
        action = state.actions[int(entry.data["action"])]
        action.done_entry, action.done_at = entry.number, entry.event_at
        super().apply(state, entry)

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        yield Fact(f"Action {entry.data.get('action')}", "done")
