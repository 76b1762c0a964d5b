"""`safeguard cases`: the cases, where each stands, and what is overdue."""

from __future__ import annotations

from collections.abc import Container, Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from safeguarding import documents_json, documents_retention, documents_sar, documents_transfers

from .. import heap, output
from ..casework import JsonOption, casebook

if TYPE_CHECKING:
    from rich.table import Table

    from safeguarding.cases import Casebook, CaseSummary
    from safeguarding.erasure import Recorded
    from safeguarding.sar import Request
    from safeguarding.transfers import Transfer


def cases(
    status: Annotated[
        str | None,
        typer.Option(
            metavar="open|closed|all",
            help="Which cases to list (default: open; with --overdue, all).",
        ),
    ] = None,
    overdue: Annotated[
        bool,
        typer.Option(
            "--overdue",
            help="Only missed referral deadlines, overdue actions, cases due for review under "
            "their retention rule, and subject access requests past their response date "
            "(exit 0 either way).",
        ),
    ] = False,
    names: Annotated[
        bool, typer.Option("--names", help="Show the subjects' names, not only their initials.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """List cases: status, next step and when it is due.

    Each case's reference, category and subjects (by their initials, unless --names). An
    erased case is listed as erased, with the entry that erased it.
    """
    from .. import views

    status = status if status is not None else "all" if overdue else "open"
    with casebook() as book, heap.no_cycle_collection():
        summaries = book.list(status)
        today = book.today()
        if overdue:
            summaries = [s for s in summaries if s.overdue]
        which = status.strip().lower()
        erased = [] if overdue else _erased(book, which)
        late = _late_requests(book, today) if overdue else []
        loose = book.unconfirmed_without_cases() if overdue else []
        if json:
            closures = book.config.closure_days
            output.emit_json(_documents(summaries, names, erased, late, (loose, closures)))
            return
        if not summaries and not erased and not late and not loose:
            output.say(_nothing(status, overdue))
            return
        if overdue:
            if summaries or late:
                output.out.print(_overdue_table(summaries, late))
            _print_loose(loose, book.config.closure_days)
        elif summaries:
            # Drawn line by line to the console's width already: nothing to crop.
            output.out.print(views.cases_table(summaries, names, today, book.config), crop=False)
        _print_erased(erased)


def _erased(book: Casebook, which: str) -> list[Recorded]:
    """The erased cases to list: read (and their module loaded) only when there are some."""
    if not book.any_erased():
        return []
    from safeguarding import erasure

    return erasure.erasures(book.unlocked, _status(which))


def _late_requests(book: Casebook, today: date) -> list[Request]:
    from safeguarding import sar  # a request's module loads only for --overdue

    return sar.overdue(book.unlocked, today)


def _nothing(status: str, overdue: bool) -> str:
    if overdue:
        return "No overdue referrals, actions, reviews or receipts."
    which = "" if status.strip().lower() == "all" else f"{status.strip().lower()} "
    return f"No {which}cases."


def _print_loose(loose: Sequence[Transfer], closures: Container[date]) -> None:
    """Files sent with no case in them, whose receipt is overdue."""
    for t in loose:
        output.out.print(
            f"Transfer {t.number} (the file of person {t.person}, to {escape(t.school)}): no "
            f"receipt, due by {t.due(closures).isoformat()}; 'safeguard transfer list'.",
            soft_wrap=True,
            style="red",
        )


def _documents(
    summaries: list[CaseSummary],
    names: bool,
    erased: list[Recorded],
    late: list[Request],
    sent: tuple[Sequence[Transfer], Container[date]],
) -> list[dict[str, Any]]:
    loose, closures = sent
    return [
        *documents_json.cases(summaries, names),
        *map(documents_retention.erased_case, erased),
        *(documents_sar.overdue(r) for r in late),
        *(documents_transfers.overdue(t, closures) for t in loose),
    ]


def _overdue_table(summaries: list[CaseSummary], late: list[Request]) -> Table:
    """What is overdue in the cases, then each unanswered subject access request."""
    from safeguarding import sar

    from .. import views

    table = views.overdue_table(summaries)
    for r in late:
        table.add_row(f"SAR {r.number}", sar.what(r), r.due.isoformat(), style="red")
    return table


def _print_erased(erased: list[Recorded]) -> None:
    """Each erased case, on a line of its own, with the entry that erased it."""
    from safeguarding import moments

    for found in erased:
        output.out.print(
            f"{found.reference}: erased on {moments.local_date(found.at).isoformat()} by "
            f"{escape(found.by)} (entry {found.entry}); its entries can no longer be read.",
            soft_wrap=True,
        )


def _status(which: str) -> str | None:
    return None if which == "all" else which
