"""A timeline laid out for the terminal with Rich: the header panel, the entries day by day, the
actions table and the checkpoint footer."""

from __future__ import annotations

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from safeguarding.timeline import (
    MARKING,
    RESTRICTED,
    Day,
    Item,
    Timeline,
    stub,
    visible,
)
from safeguarding.vocabulary import Kind


def plain(text: str, style: str = "") -> Text:
    """Recorded text as a Rich `Text`: never read as markup, control characters made visible,
    and without the line ending a text file usually ends with (`--json` keeps it)."""
    return Text(visible(text).rstrip("\n"), style=style)


def render(t: Timeline) -> RenderableType:
    """The whole chronology: header panel, entries by day, actions table, checkpoint footer."""
    parts: list[RenderableType] = [header(t)]
    for day in t.days:
        parts.append(Text())
        parts.append(Rule(day.day.strftime("%A %d %B %Y"), align="left", style="cyan"))
        parts.append(day_table(t, day))
    parts.append(Text())
    parts.append(actions_table(t))
    parts.append(footer(t))
    return Group(*parts)


def header(t: Timeline) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    # Every value is a `Text`: a table cell given a str would read it as Rich markup.
    if t.cover:
        for label, value in t.cover:
            grid.add_row(label, plain(value))
        return _panel(t, grid)
    grid.add_row("School", plain(t.school))
    category = t.category_code
    if t.category_title:
        category = f"{t.category_title} ({t.category_code})"
    grid.add_row("Category", plain(category))
    if t.section:
        grid.add_row("Policy section", plain(t.section))
    grid.add_row("Subject(s)", plain("\n".join(f"{name} ({role})" for name, role in t.subjects)))
    if t.restricted:
        grid.add_row("Access", plain(RESTRICTED))
    status = t.status if t.status == t.stage else f"{t.status} ({t.stage})"
    if t.outcome:
        status += f", outcome: {t.outcome}"
    grid.add_row("Status", plain(status))
    grid.add_row("Opened", t.when(t.opened_at))
    grid.add_row("Closed", t.when(t.closed_at) if t.closed_at else "—")
    grid.add_row("Referral", plain("\n".join(t.referrals) or "none recorded"))
    next_text = plain(t.next_title)
    if t.next_due is not None:
        next_text.append(
            f", by the end of {t.next_due.strftime('%a %d %b %Y')}",
            style="bold red" if t.next_overdue else "",
        )
    grid.add_row("Next", next_text)
    grid.add_row(
        "Overdue",
        plain("\n".join(t.overdue), style="bold red") if t.overdue else Text("nothing"),
    )
    return _panel(t, grid)


def _panel(t: Timeline, grid: Table) -> Panel:
    body: list[RenderableType] = [grid]
    if t.redacted:
        body.append(Text(f"\n{t.notice}", style="bold"))
    return Panel(
        Group(*body),
        title=Text(f"{t.reference} · safeguarding chronology", style="bold"),
        title_align="left",
        subtitle=Text(MARKING + (" · REDACTED" if t.redacted else ""), style="bold red"),
        subtitle_align="right",
        box=box.ROUNDED,
        border_style="cyan",
    )


def _item_head(t: Timeline, item: Item) -> Text:
    head = Text.assemble(
        (visible(item.title), "bold"), (f" · entry {item.number} · {visible(item.by)}", "dim")
    )
    if item.late:
        head.append(f" · recorded late, {t.when(item.recorded_at)}", style="yellow")
    return head


def _item_body(t: Timeline, item: Item, nested: bool = False) -> list[RenderableType]:
    if not nested and (pointer := stub(t, item)) is not None:
        return [Text(line, style="magenta") for line in pointer]
    lines: list[RenderableType] = []
    for fact in item.facts:
        if item.kind == Kind.AMENDMENT and fact.label == "Corrects":
            continue
        lines.append(Text.assemble((f"{fact.label}: ", "italic"), visible(fact.value)))
    if item.text:
        lines.append(plain(item.text))
    for fact in item.after:
        lines.append(Text.assemble((f"{fact.label}: ", "bold"), visible(fact.value).rstrip("\n")))
    if item.observations:
        lines.append(
            Text.assemble(
                ("Recorder's observations (opinion): ", "bold"),
                visible(item.observations).rstrip("\n"),
            )
        )
    return lines


class Gutter:
    """`label` in a gutter `width` columns wide, `body` wrapped beside it: what a two-column
    grid shows, without a table measuring every cell (a 1,000-entry case stays fast)."""

    def __init__(self, label: str, body: RenderableType, width: int, style: str = "") -> None:
        self.label, self.body, self.width, self.style = label, body, width, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        inner = max(1, options.max_width - self.width)
        lines = console.render_lines(self.body, options.update_width(inner), pad=False)
        label = Segment(self.label.ljust(self.width), console.get_style(self.style or "none"))
        blank = Segment(" " * self.width)
        for index, line in enumerate(lines):
            if index and not "".join(segment.text for segment in line).strip():
                yield Segment.line()  # a blank line between paragraphs: no trailing spaces
                continue
            yield label if index == 0 else blank
            yield from line
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width + 1, options.max_width)


def _amendment_block(t: Timeline, amendment: Item) -> Gutter:
    head = Text.assemble(
        ("Corrected by entry ", "bold magenta"),
        (f"{amendment.number}", "bold magenta"),
        (f" · {visible(amendment.author)} · {t.when(amendment.at)}", "magenta"),
    )
    if amendment.late:
        head.append(f" · recorded late, {t.when(amendment.recorded_at)}", style="yellow")
    body: list[RenderableType] = [head, *_item_body(t, amendment, nested=True)]
    # A correction that was itself corrected shows that correction beneath it, and so on.
    for later in amendment.amended_by:
        corrected = t.item(later)
        if corrected is not None and later > amendment.id:
            body.append(_amendment_block(t, corrected))
    return Gutter("↳", Group(*body), 2, "magenta")


def day_table(t: Timeline, day: Day) -> Group:
    """A day's entries: the time in a gutter of seven columns, the entry beside it."""
    rows: list[RenderableType] = []
    for index, item in enumerate(day.items):
        body: list[RenderableType] = [_item_head(t, item), *_item_body(t, item)]
        # A stub's corrections are shown in full under the entry it points to, not again here.
        for amendment_id in () if stub(t, item) else item.amended_by:
            amendment = t.item(amendment_id)
            if amendment is not None:
                body.append(_amendment_block(t, amendment))
        if index:
            rows.append(Text())
        rows.append(Gutter(t.local(item.at).strftime("%H:%M"), Group(*body), 7, "bold"))
    return Group(*rows)


def actions_table(t: Timeline) -> RenderableType:
    if not t.actions:
        return Text("Actions: none recorded.", style="italic")
    table = Table(
        title="Actions",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        expand=True,
        show_edge=False,
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Action", ratio=3, overflow="fold")
    # With a ratio, Rich takes `width` as the least a column gets: "Headteacher" stays whole.
    table.add_column("Owner", ratio=1, width=11, overflow="fold")
    table.add_column("Due", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for a in t.actions:
        if a.done_at is not None:
            status = Text(f"done {t.local(a.done_at).strftime('%Y-%m-%d')}", style="green")
        elif a.overdue:
            status = Text("OVERDUE", style="bold red")
        else:
            status = Text("open")
        table.add_row(str(a.number), plain(a.text), plain(a.owner), a.due.isoformat(), status)
    return table


def footer(t: Timeline) -> RenderableType:
    return Group(
        Rule(style="cyan"),
        Text.assemble(
            ("Checkpoint ", "bold"),
            (t.checkpoint_short, "bold"),
            f" (entry {t.checkpoint.seq} of {t.school}'s vault). "
            f"Check this copy against that vault, there: safeguard verify --checkpoint "
            f"{t.checkpoint_short}",
        ),
        plain(
            f"Produced {t.when(t.produced_at)} by {t.produced_by} with safeguard. {MARKING}"
            + (". REDACTED." if t.redacted else "."),
        ),
    )
