"""Rich renderings of the flow: the next-step panel, the case list and the categories (a case's
timeline is `safeguarding.timeline_rich.render`).  They only format what the domain returns; they
never read the vault."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.panel import Panel
from rich.text import Text

from . import output

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from safeguarding.casefile import CaseEntry, CaseFile
    from safeguarding.cases import Casebook, CaseSummary, Written
    from safeguarding.categories import Categories
    from safeguarding.config import Config
    from safeguarding.flow import NextStep
    from safeguarding.integrity import ChainReport

    from .listing import Cell


def due_text(step: NextStep, today: date, closures: Any = ()) -> str:
    if step.due is None:
        return ""
    return due_text_of(step.due, today, closures)


def due_text_of(due: date, today: date, closures: Any = ()) -> str:
    from safeguarding import deadlines

    return f"{due.strftime('%a %d %b %Y')} ({deadlines.describe(due, today, closures)})"


def next_step_panel(written: Written, config: Config, today: date) -> Panel:
    from safeguarding.categories import COUNTY_ROUTES

    step = written.next
    body = Text()
    body.append(step.title + "\n", style="bold")
    body.append(step.text)
    if step.due is not None:
        style = "bold red" if step.overdue else "bold"
        body.append("\n\nBy the end of ", style=style)
        body.append(due_text(step, today, config.closure_days), style=style)
    for late in written.unconfirmed:
        body.append(f"\n\nOverdue: the {late.what}, due by the end of ", style="bold red")
        body.append(due_text_of(late.due, today, config.closure_days), style="bold red")
        body.append(". Chase the school; 'safeguard transfer list' shows it.")
    if step.route in COUNTY_ROUTES and written.state.stage.value != "closed":
        body.append("\n\n")
        body.append_text(contacts_text(config, step.route.value if step.route else ""))
    return Panel(
        body,
        title=f"{written.reference} · what the policy asks next",
        title_align="left",
        border_style="red" if step.overdue or written.unconfirmed else "cyan",
    )


def report(book: Casebook, written: Written, json: bool, message: str, **extra: Any) -> None:
    """The one place an entry command reports: JSON on stdout, or a line and the next step."""
    if json:
        from safeguarding import documents_json

        output.emit_json(documents_json.entry(written, **extra))
        return
    output.say(message)
    output.err.print(next_step_panel(written, book.config, book.today()))


def entry_preview(case: CaseFile, entry: CaseEntry) -> Panel:
    """The entry a correction is for, as the timeline shows it (its number, kind, when, author,
    facts and text, and any correction it has had), for the person about to type the
    correction."""
    from rich.console import Group

    from safeguarding import moments
    from safeguarding.entries import kind_of, title_of
    from safeguarding.timeline import visible
    from safeguarding.timeline_rich import plain

    head = Text(title_of(entry.kind), style="bold")
    head.append(f" · {moments.local_text(entry.event_at)} · ")
    head.append_text(plain(entry.author))
    lines: list[RenderableType] = [head]
    for fact in kind_of(entry.kind).facts(entry, case):
        lines.append(Text.assemble((f"{fact.label}: ", "italic"), visible(fact.value)))
    if entry.text:
        lines.append(plain(entry.text))
    if said := kind_of(entry.kind).opinion(entry):  # as the timeline shows it
        opinion = Text("Recorder's observations (opinion): ", style="bold")
        lines.append(opinion.append_text(plain(said)))
    corrections = [str(e.number) for e in case.in_recorded_order if e.id in entry.amended_by]
    if corrections:
        which = "entries " if len(corrections) > 1 else "entry "
        lines.append(Text(f"Corrected already by {which}{', '.join(corrections)}.", "magenta"))
    return Panel(
        Group(*lines),
        title=f"Entry {entry.number} of {case.reference}, to be corrected",
        title_align="left",
        border_style="magenta",
    )


def contacts_text(config: Config, first: str) -> Text:
    """The County contacts from the config, the route's own first."""
    names = {"lado": "LADO", "mash": "MASH / front door", "police": "Police", "county": "County"}
    order = [first, *(r for r in names if r != first)] if first in names else list(names)
    text = Text()
    text.append("County contacts", style="bold")
    shown = 0
    for route in order:
        contact = config.contacts.get(route)
        if contact is not None and str(contact):
            text.append(f"\n  {names[route]}: {contact}")
            shown += 1
        elif route == first:
            text.append(f"\n  {names[route]}: not set")
    if shown == 0:
        text.append(f"\n  Add them under [contacts] in {config.path} (see the README).")
    return text


def cases_table(
    summaries: list[CaseSummary], names: bool, today: date, config: Config
) -> RenderableType:
    """Two lines a case: its reference, status, category and subjects, then what the policy
    asks next and by when, on a line of its own."""
    from safeguarding.timeline import visible

    from .listing import Runs

    items: list[tuple[Sequence[Cell], Cell]] = []
    # Many cases are due on the same few days: each day's words are worked out once.
    due_words = cache(lambda day: due_text_of(day, today, config.closure_days))
    for s in summaries:
        about = (
            ", ".join(f"{x['name']} ({x['role']})" for x in s.state.subjects)
            if names
            else s.state.initials
        )
        # A restricted case is marked, so its members know who else can read it (no one).
        status = s.state.stage.value + (", restricted" if s.restricted else "")
        step: tuple[tuple[str, str], ...] = (
            ("Next step: ", "dim"),
            (visible(s.next.title).rstrip("\n"), ""),
        )
        due = "" if s.next.due is None else due_words(s.next.due)
        if due:
            step += ((", by the end of ", ""), (due, "bold red" if s.next.overdue else ""))
        # names as recorded: shown as they are, never read as Rich markup
        fields = [s.reference, status, visible(s.state.category), visible(about)]
        items.append(([f.rstrip("\n") for f in fields], Runs(step)))
    return two_line_list(("Case", "Status", "Category", "About"), items)


def categories_list(found: Categories) -> RenderableType:
    """Two lines a category: its code, policy section, route and deadline, then its title."""
    from safeguarding.deadlines import deadline_text

    items = [
        (
            [
                Text(c.code),
                Text(c.section),
                Text(c.route.value),
                Text(deadline_text(c.deadline_working_days)),
            ],
            Text(c.title),
        )
        for c in found
    ]
    return two_line_list(("Code", "Section", "Route", "Deadline"), items, title=found.source)


def two_line_list(
    headings: Sequence[str],
    items: Sequence[tuple[Sequence[Cell], Cell]],
    *,
    title: str | None = None,
) -> RenderableType:
    """A list laid out for 80 columns, two lines an item: its short fields in columns, then its
    prose on a line of its own (see `listing`)."""
    from .listing import TwoLineList

    return TwoLineList(headings, items, title)


def overdue_table(summaries: list[CaseSummary]) -> Table:
    from rich.table import Table

    table = Table("Case", "Overdue", "Was due", title="Overdue")
    for s in summaries:
        for item in s.overdue:
            table.add_row(item.reference, item.what, item.due.isoformat(), style="red")
    return table


#: Light modules in bright white on black, so the code reads the right way round whatever the
#: terminal's own colours (without colour it takes the terminal's text colour).
QR_COLOURS, QR_RESET = "\x1b[97;40m", "\x1b[0m"


def qr_code(text: str, *, colour: bool) -> str:
    """`text` as a QR code for a terminal: Unicode half blocks, two rows of modules a line, a
    full block for two light modules (segno's compact drawing), with its quiet zone, and no
    trailing newline.  Error correction M, so a photograph of a printout still reads."""
    import io

    import segno

    drawing = io.StringIO()
    segno.make_qr(text, error="m").terminal(out=drawing, compact=True)
    lines = drawing.getvalue().splitlines()
    if colour:
        lines = [f"{QR_COLOURS}{line}{QR_RESET}" for line in lines]
    return "\n".join(lines)


def verified_line(
    report: ChainReport,
    recovery: bool,
    checkpoints: int,
    checkpoints_dir: Path | None,
    from_backups: Sequence[object],
) -> str:
    """`verify`'s one line when all is well: what was checked, and what could not be."""
    line = f"verified: {report.entries} entries, checkpoint {report.head}"
    if recovery:
        line += "; the recovery key opens this vault"
    if report.unchecked:
        line += f"; {report.unchecked} from before signatures need a passphrase to check"
    elif report.before_signatures:
        line += f" ({report.before_signatures} from before signatures, checked by their MAC)"
    if report.unreadable:
        line += (
            f"; {_count(report.unreadable, 'entry')} of restricted cases you are not a member "
            "of checked by signature only"
        )
    if checkpoints:
        line += f"; agrees with {_count(checkpoints, 'checkpoint')} given"
    if checkpoints_dir is not None:
        count = _count(len(from_backups), "backup checkpoint")
        line += f"; agrees with {count} in {checkpoints_dir}"
    return line


def _count(number: int, noun: str) -> str:
    if number == 1:
        return f"{number} {noun}"
    return f"{number} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


def say_restricted(written: Written) -> None:
    """Who may read a restricted case just recorded, and whether its case manager is missing."""
    if written.members is None:
        return
    from rich.markup import escape

    output.say(
        f"{written.reference} is restricted: only "
        + escape(", ".join(written.members))
        + f" and the recovery key can read it ('safeguard access {written.reference}')."
    )
    if written.without_manager:
        who = (
            "no chair of governors (the case manager when a headteacher is a subject)"
            if written.manager == "chair"
            else "no headteacher who is not a subject"
        )
        output.say(
            f"No case manager is among them: the vault has {who}. Add one ('safeguard user "
            f"add NAME --role {written.manager}') and give them access ('safeguard access "
            f"grant {written.reference} NAME')."
        )


def check_progress() -> Callable[[int, int], None] | None:
    """What shows how far a check has got, on one line of stderr rewritten in place, when
    stderr is a terminal; None when it is not (a script or a log sees nothing)."""
    stream = output.err.file
    if not stream.isatty():
        return None

    def show(done: int, total: int) -> None:
        if done >= total:
            stream.write("\r\x1b[2K")  # the line goes once the walk is done
        else:
            stream.write(f"\rChecking entry {done:,} of {total:,} ({100 * done // total}%)")
        stream.flush()

    return show


def checked(
    check: Callable[[Callable[[int, int], None] | None], ChainReport], json: bool
) -> ChainReport:
    """Run a check, its progress shown on a terminal (`check_progress`); with `--json`, a
    failure is also a JSON document on stdout."""
    from safeguarding import documents_json
    from safeguarding.errors import CheckFailed

    progress = check_progress()
    try:
        return check(progress)
    except CheckFailed as failure:
        if json:
            output.emit_json(documents_json.verify_failed(failure.message))
        raise
    finally:
        if progress is not None:
            progress(1, 1)  # the progress line goes, before anything else is said
