"""`safeguard audit`: who has viewed or exported which case, and when; and who failed to
unlock the vault."""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_audit

from .. import output
from ..context import unlock
from ..output import JsonOption

if TYPE_CHECKING:
    from safeguarding.access import Access
    from safeguarding.attempts import Attempt


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

    Also who gave or took away access to a restricted case, who read or triaged which concern
    (of those sealed to you), and (without --case) every failed attempt to unlock the vault:
    the name tried, with what, the account and the terminal; oldest first.

    With --mine, every entry you wrote: the receipt of what you saved, if a command's output
    was lost.
    """
    from safeguarding import access

    unlocked = unlock()
    try:
        events = access.audit(unlocked, case, mine=mine)
        failed = [] if case or mine else access.failed_unlocks(unlocked)
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_audit.audit(events, failed, mine=mine))
        return
    if not events and not failed:
        nothing = "You have recorded nothing" if mine else "No views or exports recorded"
        output.say(nothing + (f" for {case.upper()}." if case else "."))
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("When", no_wrap=True)
    if mine:
        table.add_column("Entry", justify="right")
    else:
        table.add_column("Who")
    table.add_column("Case", no_wrap=True)
    table.add_column("What", overflow="fold")
    rows = [(e.at, _event_row(e, mine)) for e in events]
    for _, row in heapq.merge(rows, ((a.at, _failed_row(a)) for a in failed), key=_first):
        table.add_row(*(Text(cell) for cell in row))  # names as given, never markup
    output.out.print(table)


def _first(pair: tuple[datetime, list[str]]) -> datetime:
    return pair[0]


def _when(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M")


def _event_row(e: Access, mine: bool) -> list[str]:
    # An entry's number in its case, as its timeline and the receipt give it; a view, and
    # what is recorded outside any case, has none.
    number = "—" if e.number is None else str(e.number)
    return [_when(e.at), number if mine else e.who, e.case or "—", e.what]


def _failed_row(a: Attempt) -> list[str]:
    """A failed attempt to unlock: the name as given (unknown where it was sealed before this
    user had a key), and never anything of the secret tried."""
    where = ", ".join(
        f"{label} {value}"
        for label, value in (("account", a.account), ("terminal", a.terminal))
        if value
    )
    tried = "a passphrase" if a.tried == "passphrase" else f"the {a.tried}"
    what = f"failed to unlock with {tried}"
    return [_when(a.at), a.name or "(unknown)", "—", what + (f" ({where})" if where else "")]
