"""`safeguard cases`: the cases, where each stands, and what is overdue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from safeguarding import documents_json, documents_retention

from .. import output
from ..casework import JsonOption, casebook

if TYPE_CHECKING:
    from safeguarding.erasure import Recorded


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
            help="Only missed referral deadlines, overdue actions and cases due for review "
            "under their retention rule (exit 0 either way).",
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
    from safeguarding import erasure

    from .. import views

    status = status if status is not None else "all" if overdue else "open"
    with casebook() as book:
        summaries = book.list(status)
        today = book.today()
        if overdue:
            summaries = [s for s in summaries if s.overdue]
        which = status.strip().lower()
        erased = [] if overdue else erasure.erasures(book.unlocked, _status(which))
        if json:
            output.emit_json(
                [
                    *documents_json.cases(summaries, names),
                    *map(documents_retention.erased_case, erased),
                ]
            )
            return
        if not summaries and not erased:
            which = "" if status.strip().lower() == "all" else f"{status.strip().lower()} "
            output.say(
                "No overdue referrals, actions or reviews." if overdue else f"No {which}cases."
            )
            return
        if overdue:
            output.out.print(views.overdue_table(summaries))
        elif summaries:
            # Drawn line by line to the console's width already: nothing to crop.
            output.out.print(views.cases_table(summaries, names, today, book.config), crop=False)
        _print_erased(erased)


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
