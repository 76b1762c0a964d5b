"""What has been kept long enough: each case the reader may read, dated by its category's
retention rule, with the legal hold on it if there is one.  Nothing here writes or prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from safeguarding import erasure, flow
from safeguarding.cases import Casebook
from safeguarding.erasure import Recorded
from safeguarding.retention_rules import Due


@dataclass(frozen=True)
class Dated:
    """A case and the date its retention rule gives it, with the hold on it (None: none): its
    own, or one on a person it is about."""

    reference: str
    category: str
    status: str
    due: Due
    hold: Recorded | None

    @property
    def then(self) -> str:
        """What comes at its date: review, erase, or nothing while it is held."""
        return "held" if self.hold is not None else self.due.then


def dated(book: Casebook, *, everything: bool = False, today: date | None = None) -> list[Dated]:
    """The cases whose retention date has come (with `everything`, every case with a rule,
    a case still open under a rule counted from its closing last), oldest date first."""
    today = today or book.today()
    holds = {h.reference: h for h in erasure.holds(book.unlocked)}
    people = erasure.people_holds(book.unlocked)
    found = []
    for summary in book.list("all"):
        state = summary.state
        category = book.categories.lookup(state.category)
        due = flow.retention_due(state, category, book.categories.retirement_age, summary.birth)
        if due is None or not (everything or (due.on is not None and due.on <= today)):
            continue
        hold = holds.get(state.reference)
        for person in sorted(summary.people & people.keys()):
            hold = hold or people[person]
        found.append(Dated(state.reference, state.category, state.status, due, hold))
    return sorted(found, key=lambda d: (d.due.on or date.max, d.reference))
