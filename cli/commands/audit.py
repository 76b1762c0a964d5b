"""`safeguard audit`: who has viewed or exported which case, and when."""

from __future__ import annotations

from typing import Annotated

import typer

from safeguarding import documents_json

from .. import output
from ..context import unlock
from ..output import JsonOption


def audit(
    case: Annotated[
        str | None, typer.Option("--case", metavar="CASE", help="Only this case.")
    ] = None,
    mine: Annotated[
        bool,
        typer.Option(
            "--mine",
            help="Instead, everything you recorded, viewed or exported: entry, case and when.",
        ),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Who viewed or exported which case, and when.

    Also who gave or took away access to a restricted case; oldest first.

    With --mine, every entry you wrote: the receipt of what you saved, if a command's output
    was lost.
    """
    from safeguarding import access

    unlocked = unlock()
    try:
        events = access.audit(unlocked, case, mine=mine)
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_json.audit(events, mine=mine))
        return
    if not events:
        nothing = "You have recorded nothing" if mine else "No views or exports recorded"
        output.say(nothing + (f" for {case.upper()}." if case else "."))
        return
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("When", no_wrap=True)
    if mine:
        table.add_column("Entry", justify="right")
    else:
        table.add_column("Who")
    table.add_column("Case", no_wrap=True)
    table.add_column("What", overflow="fold")
    for e in events:
        when = e.at.astimezone().strftime("%Y-%m-%d %H:%M")
        # An entry's number in its case, as its timeline and the receipt give it; a view, and
        # what is recorded outside any case, has none.
        number = "—" if e.number is None else str(e.number)
        table.add_row(when, number if mine else e.who, e.case or "—", e.what)
    output.out.print(table)
