"""`safeguard categories`: the categories a case can be recorded in."""

from __future__ import annotations

from safeguarding import documents_json

from .. import output
from ..casework import JsonOption


def categories(json: JsonOption = False) -> None:
    """List the categories: policy section, route and deadline.

    A concern is recorded under one of them.
    """
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
