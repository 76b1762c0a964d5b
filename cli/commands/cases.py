"""`safeguard cases`: the cases, where each stands, and what is overdue."""

from __future__ import annotations

from typing import Annotated

import typer

from safeguarding import documents_json

from .. import output
from ..casework import JsonOption, casebook


def cases(
    status: Annotated[
        str, typer.Option(metavar="open|closed|all", help="Which cases to list.")
    ] = "open",
    overdue: Annotated[
        bool,
        typer.Option(
            "--overdue",
            help="Only missed referral deadlines and overdue actions (exit 0 either way).",
        ),
    ] = False,
    names: Annotated[
        bool, typer.Option("--names", help="Show the subjects' names, not only their initials.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """List cases: status, next step and when it is due.

    Each case's reference, category and subjects (by their initials, unless --names).
    """
    from .. import views

    with casebook() as book:
        summaries = book.list(status)
        today = book.today()
        if overdue:
            summaries = [s for s in summaries if s.overdue]
        if json:
            output.emit_json(documents_json.cases(summaries, names))
            return
        if not summaries:
            which = "" if status.strip().lower() == "all" else f"{status.strip().lower()} "
            output.say("No overdue referrals or actions." if overdue else f"No {which}cases.")
            return
        if overdue:
            output.out.print(views.overdue_table(summaries))
        else:
            # Drawn line by line to the console's width already: nothing to crop.
            output.out.print(views.cases_table(summaries, names, today, book.config), crop=False)
