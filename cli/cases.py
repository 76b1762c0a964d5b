"""`safeguard cases` (what is open, what comes next, what is overdue) and `safeguard categories`."""

from __future__ import annotations

from typing import Annotated

import typer

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
            output.emit_json([_case_json(s, names, overdue) for s in summaries])
            return
        if not summaries:
            which = "" if status.strip().lower() == "all" else f"{status.strip().lower()} "
            output.say("No overdue referrals or actions." if overdue else f"No {which}cases.")
            return
        if overdue:
            output.out.print(views.overdue_table(summaries))
        else:
            output.out.print(views.cases_table(summaries, names, today, book.config))


def _case_json(summary: object, names: bool, overdue: bool) -> dict[str, object]:
    from safeguarding.cases import CaseSummary

    assert isinstance(summary, CaseSummary)
    state = summary.state
    document: dict[str, object] = {
        "case": summary.reference,
        "status": state.status,
        "stage": state.stage.value,
        "category": state.category,
        "subjects": state.subjects if names else state.initials,
        "next": summary.next.title,
        "due": summary.next.due.isoformat() if summary.next.due else None,
        "overdue": [{"what": o.what, "due": o.due.isoformat()} for o in summary.overdue],
    }
    return document


def categories(json: JsonOption = False) -> None:
    """The categories a concern can be recorded under: policy section, route and deadline."""
    from safeguarding import categories as kinds
    from safeguarding import config

    found = kinds.load(config.load().categories_file)
    if json:
        output.emit_json(
            [
                {
                    "code": c.code,
                    "title": c.title,
                    "section": c.section,
                    "route": c.route.value,
                    "deadline_working_days": c.deadline_working_days,
                    "outcomes": list(c.allowed_outcomes),
                    "guidance": c.guidance,
                }
                for c in found
            ]
        )
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
