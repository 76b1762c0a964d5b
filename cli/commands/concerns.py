"""`safeguard concerns`: the concerns you reported, and what became of each."""

from __future__ import annotations

from safeguarding import documents_concerns

from .. import credentials, output
from ..casework import ask
from ..context import STATE, open_vault, reporter
from ..output import JsonOption


def concerns(json: JsonOption = False) -> None:
    """List the concerns you reported and what became of each.

    Each is waiting, seen (the safeguarding team has read it), added to a case, or no further
    action. A case's content is never shown here.
    """
    from safeguarding import concerns as library

    vault = open_vault(staff=True)
    try:
        interactive = credentials.is_interactive()
        name = STATE.user_name if STATE.user is not None or not interactive else _your_name()
        who = reporter(vault, name)
        items = library.mine(who)
    finally:
        vault.close()
    if json:
        output.emit_json(documents_concerns.mine(items))
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
