"""Where a case stands: its stage, referrals, advice, actions and outcome, as its entries leave
it.  Plain data: `flow.fold` makes it, each entry's kind (in `entries`) says what it changes,
and nothing here reads storage or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from safeguarding.vocabulary import Route, Stage

#: The plaintext `cases.status` column: only whether a case is open or closed.
OPEN, CLOSED = "open", "closed"


@dataclass
class Action:
    """An action agreed; `entry` and `done_entry` are entries' numbers in the case."""

    number: int
    entry: int
    owner: str
    due: date
    text: str
    added_at: datetime
    done_entry: int | None = None
    done_at: datetime | None = None

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
    #: The stage a reopening returns the case to: where it stood before it was closed.
    reopen_stage: Stage = field(default=Stage.DISCLOSED, repr=False, compare=False)

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
