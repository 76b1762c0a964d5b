"""`safeguard inbox`: the concerns waiting for the safeguarding team, oldest first; one of them
in full; or, for monitoring, whether one has waited too long."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from safeguarding import documents_concerns
from safeguarding.errors import CheckFailed, UsageError

from .. import output
from ..context import (
    STATE,
    concern_number,
    concern_rows,
    hours_text,
    open_vault,
    unlock,
    waiting_line,
)
from ..output import JsonOption


def inbox(
    concern: Annotated[
        str | None,
        typer.Argument(help="Show this concern in full (its reading is recorded)."),
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="HOURS",
            help="For monitoring: exit 1 with one line, naming no one, if a concern has "
            "waited longer than this many working hours (4h); no passphrase.",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """List the concerns waiting for triage, oldest first.

    Each with its age in working hours; only those sealed to you (a DSL, a deputy, the
    headteacher or the chair of governors), never one about you. Working hours are 08:00 to
    18:00 on working days (weekends, bank holidays and the school's closure days left out).
    """
    number = None if concern is None else concern_number(concern)
    if older_than is not None:
        _monitor(_hours(older_than), json)
        return
    from safeguarding import clock, concerns, config, deadlines

    unlocked = unlock()
    STATE.reminder = None  # the inbox is the reminder
    try:
        if number is not None:
            item = output.commit(
                lambda: concerns.read(unlocked, number),
                lambda i: f"a reading of concern {i.number}",
            )
            items = [item]
        else:
            items = concerns.inbox(unlocked)
    finally:
        unlocked.close()
    closures = config.load().closure_days
    hours = {
        i.number: round(
            deadlines.working_hours_between(clock.from_text(i.recorded_at), clock.now(), closures),
            1,
        )
        for i in items
    }
    if json:
        output.emit_json(documents_concerns.inbox(items, hours, read=number is not None))
        return
    if number is not None:
        _show(items[0], hours[items[0].number])
        return
    if not items:
        output.say("No concern is waiting.")
        return
    _table(items, hours)


def _hours(text: str) -> float:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*h?\s*", text)
    if found is None:
        raise UsageError(f"--older-than {text!r} is not a number of working hours, such as 4h")
    return float(found.group(1))


def _monitor(limit: float, json: bool) -> None:
    """Silent when no concern has waited longer than `limit` working hours; else one line and
    exit 1.  Reads no name and needs no passphrase."""
    from safeguarding import clock, concerns, config, deadlines

    vault = open_vault()
    try:
        found = concerns.waiting(vault)
        line = waiting_line(vault)
    finally:
        vault.close()
    closures = config.load().closure_days
    oldest = (
        deadlines.working_hours_between(found[0].recorded_at, clock.now(), closures)
        if found
        else None
    )
    late = oldest is not None and oldest > limit
    if json:
        output.emit_json(documents_concerns.waiting(found, oldest, limit))
    if late:
        assert oldest is not None
        raise CheckFailed(
            f"{line} (longer than {limit:g} working hours)"
            if line
            else f"a concern has waited {hours_text(oldest)}"
        )


def _table(items: list, hours: dict[int, float]) -> None:  # type: ignore[type-arg]
    from rich.table import Table
    from rich.text import Text

    table = Table("Concern", "Waiting", "From", "About", "Where", "State")
    for item in items:
        table.add_row(
            str(item.number),
            hours_text(hours[item.number]),
            Text(item.author),
            Text(", ".join(f"{a.name} ({a.role})" for a in item.content.about)),
            Text(item.content.where),
            item.state,
        )
    output.out.print(table)
    output.say(
        "'safeguard inbox N' shows concern N in full; "
        "'safeguard triage N --case CASE|--new|--no-action' decides it."
    )


def _show(item, hours: float) -> None:  # type: ignore[no-untyped-def]
    from rich.panel import Panel
    from rich.table import Table

    from safeguarding import clock, moments
    from safeguarding.timeline_rich import plain

    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, justify="right", style="bold")
    table.add_column(overflow="fold")
    decided = item.decided
    rows = [
        ("From", item.author),
        ("Reported", moments.local_text(clock.from_text(item.recorded_at))),
        ("Waiting", hours_text(hours)) if decided is None else None,
        *concern_rows(item.content),
        ("State", item.state if decided is None else str(decided)),
    ]
    if decided is not None:
        when = moments.local_text(clock.from_text(decided.at))
        rows += [("Decided", f"by {decided.by}, {when}"), ("Reason", decided.reason)]
    for row in rows:
        if row is not None and row[1] is not None:
            table.add_row(row[0], plain(row[1]))
    output.out.print(Panel(table, title=f"Concern {item.number}", title_align="left"))
