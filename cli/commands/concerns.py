"""`safeguard concerns`: the concerns you reported, and what became of each; or one of them
in full."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_concerns
from safeguarding.errors import NotFound

from .. import credentials, output
from ..casework import ask
from ..context import STATE, concern_number, concern_rows, open_vault, reporter
from ..output import JsonOption

if TYPE_CHECKING:
    from safeguarding.concerns import Item


def concerns(
    concern: Annotated[
        str | None,
        typer.Argument(help="Show this concern of yours in full, as you wrote it."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """List the concerns you reported and what became of each.

    Each is waiting, seen (the safeguarding team has read it), added to a case, or no further
    action. A case's content is never shown here.
    """
    from safeguarding import concerns as library

    number = None if concern is None else concern_number(concern)
    vault = open_vault(staff=True)
    try:
        interactive = credentials.is_interactive()
        name = STATE.user_name if STATE.user is not None or not interactive else _your_name()
        who = reporter(vault, name)
        items = library.mine(who)
    finally:
        vault.close()
    if number is not None:
        items = [i for i in items if i.number == number]
        if not items:
            raise NotFound(
                f"you reported no concern {concern}",
                hint="'safeguard concerns' lists those you reported",
            )
    if json:
        output.emit_json(documents_concerns.mine(items))
        return
    if number is not None:
        _show(items[0])
        return
    if not items:
        output.say("You have reported no concerns.")
        return
    from rich.table import Table
    from rich.text import Text

    from safeguarding import clock, moments

    table = Table("Concern", "Reported", "About", "State")
    for item in items:
        table.add_row(
            str(item.number),
            moments.local_text(clock.from_text(item.recorded_at)),
            Text(", ".join(a.name for a in item.content.about)),
            item.state,
        )
    output.out.print(table)


def _your_name() -> str:
    return ask("Your name, as the DSL added you")


def _show(item: Item) -> None:
    """One's own concern as one wrote it, and its state: nothing of a case."""
    from rich.panel import Panel
    from rich.table import Table

    from safeguarding import clock, moments
    from safeguarding.timeline_rich import plain

    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, justify="right", style="bold")
    table.add_column(overflow="fold")
    table.add_row("Reported", moments.local_text(clock.from_text(item.recorded_at)))
    for label, value in concern_rows(item.content):
        table.add_row(label, plain(value))
    table.add_row("State", item.state)
    output.out.print(Panel(table, title=f"Your concern {item.number}", title_align="left"))
