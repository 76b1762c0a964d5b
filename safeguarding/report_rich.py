"""The governors' report for the terminal, with Rich: its layout (`report_layout`) as panels,
tables and bar charts drawn in block characters.  A count of fewer than 3 is drawn in a shade of
its own, as long as 3, whatever it is."""

from __future__ import annotations

import io
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from safeguarding.report_layout import Layout

#: The longest bar, in columns.
BAR_WIDTH = 36


def render(doc: Layout) -> RenderableType:
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column(overflow="fold")
    head.add_row("School", Text(doc["school"]))
    head.add_row("Period", Text(doc["period"]))
    head.add_row("Marking", Text(doc["marking"], style="bold red"))
    parts: list[RenderableType] = [
        Panel(head, title=Text(doc["title"], style="bold"), title_align="left", box=box.ROUNDED)
    ]
    parts.extend(Text(notice, style="yellow") for notice in doc["notices"])
    for part in doc["sections"]:
        parts.append(Text())
        parts.append(Rule(Text(part["title"], style="bold"), align="left", style="cyan"))
        parts.extend(_section(part))
    parts.append(Text())
    parts.append(Text(doc["produced"], style="dim"))
    return Group(*parts)


def _section(part: dict[str, Any]) -> list[RenderableType]:
    found: list[RenderableType] = []
    if part["rows"]:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(overflow="fold")
        grid.add_column(justify="right", no_wrap=True, style="bold")
        for label, value in part["rows"]:
            grid.add_row(Text(label), Text(value))
        found.append(grid)
    for table in part["tables"]:
        if not table["rows"]:
            continue
        found.append(Text(table["title"], style="bold"))
        shown = Table(box=box.SIMPLE_HEAD)
        for index, heading in enumerate(table["head"]):
            last = index == len(table["head"]) - 1
            shown.add_column(
                heading, justify="right" if last else "left", overflow="fold", no_wrap=last
            )
        for row in table["rows"]:
            shown.add_row(*(Text(cell) for cell in row))
        found.append(shown)
        if table.get("note"):
            found.append(Text(table["note"], style="dim"))
    found.extend(chart(c) for c in part["charts"] if c["bars"])
    found.extend(Text(note, style="dim") for note in part["notes"])
    return found


def chart(c: dict[str, Any]) -> RenderableType:
    """A bar chart: one row a bar, its label, the bar and its count."""
    return Group(Text(c["title"], style="bold"), _Bars(c))


class _Bars:
    """A chart's rows, laid out for the width there is: the count whole, the label wrapped
    (never cut), and the bars as long as the rest allows, up to `BAR_WIDTH`."""

    def __init__(self, c: dict[str, Any]) -> None:
        self.c = c

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        bars = self.c["bars"]
        counts = max(len(b["text"]) for b in bars)
        labels = max(len(b["label"]) for b in bars)
        room = options.max_width - counts - 2  # two gaps of one column
        label_width = max(min(labels, max(room - BAR_WIDTH, room * 2 // 5)), min(labels, 12))
        bar_width = max(min(BAR_WIDTH, room - label_width), 1)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=label_width, overflow="fold")
        grid.add_column(width=bar_width, no_wrap=True)
        grid.add_column(no_wrap=True, min_width=counts, justify="right")
        scale = bar_width / max(self.c["longest"], 1)
        for b in bars:
            length = round(b["length"] * scale) if b["length"] else 0
            if b["fewer"]:
                drawn = Text("░" * max(length, 1), style="yellow")
            else:
                drawn = Text("█" * length, style="cyan")
            grid.add_row(Text(b["label"]), drawn, Text(b["text"], style="bold"))
        yield grid


def render_text(doc: Layout, width: int = 80) -> str:
    """The report as the terminal shows it, without colour, for a text file."""
    console = Console(
        record=True,
        width=width,
        file=io.StringIO(),
        color_system=None,
        no_color=True,
        highlight=False,
        emoji=False,
        markup=False,
        _environ={},
    )
    console.print(render(doc))
    lines = [line.rstrip() for line in console.export_text(styles=False).splitlines()]
    return "\n".join(lines) + "\n"
