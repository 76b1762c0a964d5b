"""What the section 6 entry commands share: the case found, as it stands, refused early where it can
be, and one entry added and reported.  (A disclosure, which opens a case, is `record`.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import output
from .casework import (
    casebook,
    when,
)

if TYPE_CHECKING:
    from safeguarding.cases import Casebook, Written
    from safeguarding.casestate import CaseState
    from safeguarding.entries import Draft


@dataclass(frozen=True)
class Entering:
    """A case found for an entry command, as it stands, with the command's `--at` and
    `--json`."""

    book: Casebook
    case: str
    state: CaseState
    moment: datetime | None
    json: bool

    def add(self, draft: Draft, saved: str, said: Callable[[Written], str], **extra: Any) -> None:
        """Add the entry (the command's commit, what it `saved` noted for the exit point), then
        report it: JSON, or what was `said` and the next step."""
        from . import views

        written = output.commit(
            lambda: self.book.add(self.case, draft, self.moment),
            lambda w: f"{saved} as entry {w.number} of {w.reference}",
        )
        views.report(self.book, written, self.json, said(written), **extra)


@contextmanager
def entering(
    case: str,
    at: str | None,
    text_file: str | None,
    json: bool,
    early: Draft | type[Draft],
    *,
    future_hint: str | None = None,
) -> Iterator[Entering]:
    """The case, found in the acting user's casebook: an unknown case, and what `early` (the
    entry without its text, or its kind) checks, refused before anything is asked or read."""
    moment = when(at, future_hint=future_hint)
    with casebook(text_file) as book:
        yield Entering(book, case, book.preflight(case, early, moment), moment, json)
