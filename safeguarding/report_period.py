"""The period a governors' report is of: `--from` and `--to`, or a term of the config file's
`[terms]`; whole days, never one that starts after today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from safeguarding import moments
from safeguarding.errors import UsageError


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    term: str | None = None

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def text(self) -> str:
        span = f"{self.start.isoformat()} to {self.end.isoformat()}"
        return f"{self.term} ({span})" if self.term else span


def period(
    start: str | None,
    end: str | None,
    term: str | None,
    terms: dict[str, tuple[date, date]],
    today: date,
) -> Period:
    """The period asked for: `--from` and `--to`, or a `--term` of the config's `[terms]`;
    never one that starts after `today`."""
    if term is not None:
        if start is not None or end is not None:
            raise UsageError("give either --term or --from and --to, not both")
        found = terms.get(term.strip().lower())
        if found is None:
            known = ", ".join(terms) or "none: add a [terms] table to the config file"
            raise UsageError(f"unknown term {term!r}; the terms are: {known}")
        chosen = Period(found[0], found[1], term.strip().lower())
        option = f"the term {chosen.term}"
    else:
        if start is None or end is None:
            raise UsageError("give the period: --from DATE and --to DATE, or --term NAME")
        chosen = Period(_day(start, "--from"), _day(end, "--to"))
        if chosen.start > chosen.end:
            raise UsageError(
                f"--from {chosen.start.isoformat()} is after --to {chosen.end.isoformat()}"
            )
        option = f"--from {chosen.start.isoformat()}"
    if chosen.start > today:
        raise UsageError(
            f"{option} starts in the future (today is {today.isoformat()}); a report is of "
            "what has happened"
        )
    return chosen


def _day(text: str, option: str) -> date:
    try:
        return moments.parse_day(text)
    except UsageError as error:
        raise UsageError(f"{option} {error.message} (2026-09-01 or 01/09/2026)") from None
