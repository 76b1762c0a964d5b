"""`safeguard retention`: the cases kept long enough, by their category's retention rule."""

from __future__ import annotations

from typing import Annotated

import typer

from safeguarding import documents_retention

from .. import output
from ..casework import JsonOption, casebook


def retention(
    everything: Annotated[
        bool,
        typer.Option("--all", help="Every case with a rule, with its date, not only those due."),
    ] = False,
    json: JsonOption = False,
) -> None:
    """List the cases due for review or erasure under their rules.

    Each category's rule is in the categories file: from what date, for how long, then review
    or erase. A held case is shown with its hold: it may not be erased. (These cases also show
    in 'safeguard cases --overdue'.)"""
    from rich.markup import escape
    from rich.table import Table

    from safeguarding import retention as kept

    with casebook() as book:
        found = kept.dated(book, everything=everything)
    if json:
        output.emit_json(documents_retention.retention(found))
        return
    if not found:
        output.say("No case has reached its retention date.")
        return
    table = Table(title="Retention")
    # A reference and a code are what a DSL types next: never cut short with "…".
    table.add_column("Case", no_wrap=True, min_width=len("SG-2026-0000"))
    table.add_column("Category", overflow="fold")
    for heading in ("Status", "Due", "Then", "Rule"):
        table.add_column(heading)
    for d in found:
        rule = d.due.rule + (f"\n{d.due.note}" if d.due.note else "")
        then = d.then
        if d.hold is not None:
            whom = "" if d.hold.person is None else f"person {d.hold.person}, "
            then = f"held ({whom}entry {d.hold.entry}): {d.hold.reason}"
        table.add_row(
            d.reference,
            d.category,
            d.status,
            "—" if d.due.on is None else d.due.on.isoformat(),
            escape(then),
            escape(rule),
        )
    output.out.print(table)
