"""`safeguard cases` (what is open, what comes next, what is overdue) and `safeguard categories`."""

from __future__ import annotations

from typing import Annotated

import typer

from safeguarding import documents_json

from . import output
from .casework import JsonOption, casebook


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
    """List cases: reference, category, subjects' initials, status, next step and when it is due."""
    from . import views

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
            output.out.print(views.cases_table(summaries, names, today, book.config))


def categories(json: JsonOption = False) -> None:
    """The categories a concern can be recorded under: policy section, route and deadline."""
    from safeguarding import categories as kinds
    from safeguarding import config

    found = kinds.load(config.load().categories_file)
    if json:
        output.emit_json(documents_json.categories(found))
        return
    from rich import box
    from rich.table import Table

    from safeguarding.deadlines import deadline_text

    # Without vertical rules, and the title taking what is left: at 80 columns it wraps at
    # words rather than being cut, and a long word goes on over the next line.
    table = Table(
        title=found.source, box=box.SIMPLE_HEAD, expand=True, pad_edge=False, show_edge=False
    )
    table.add_column("Code", no_wrap=True)  # typed at `record --category`: keep it whole
    table.add_column("Category", ratio=3, overflow="fold")
    table.add_column("Section", no_wrap=True)
    table.add_column("Route", no_wrap=True)
    table.add_column("Deadline", ratio=1, width=11, overflow="fold")
    for c in found:
        table.add_row(
            c.code, c.title, c.section, c.route.value, deadline_text(c.deadline_working_days)
        )
    output.out.print(table)
