"""`safeguard report`: the governors' report, in figures and charts, with no names."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding.errors import UsageError

from .. import output
from ..context import unlock
from ..settings import school_settings

if TYPE_CHECKING:
    from safeguarding.reporting import Made
    from safeguarding.vault import Unlocked


def report(
    start: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="The period's first day (2026-09-01)."),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="The period's last day.")
    ] = None,
    term: Annotated[
        str | None,
        typer.Option("--term", metavar="NAME", help="A term of the config file's [terms]."),
    ] = None,
    format: Annotated[
        str,
        typer.Option("--format", "-f", metavar="text|json|html|pdf", help="What to write."),
    ] = "text",
    to: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE|-",
            help="The file to write ('-': standard output; html and pdf need one of them). "
            "An existing file is never replaced.",
        ),
    ] = None,
    backups: Annotated[
        Path | None,
        typer.Option(
            "--backups", metavar="DIR", help="The backup folder: its last verified backup."
        ),
    ] = None,
) -> None:
    """The governors' report: counts, times and charts, with no names.

    Concerns opened and closed, by category, policy section and subject's role; referrals and
    actions against their deadlines in working days; allegations, their LADO referrals and
    outcomes; cases month by month. A count of 1 or 2 is shown as "fewer than 3". Only a DSL
    or the headteacher may make it, and making it is recorded (see 'safeguard audit').
    """
    from safeguarding import clock, moments, reporting
    from safeguarding import report as figures

    settings, kinds = school_settings()
    period = figures.period(start, end, term, settings.terms, moments.local_date(clock.now()))
    path, stdout = _output(to, format)
    fmt = reporting.check_format(format, path, stdout=stdout)
    last = reporting.last_verified_backup(backups) if backups else None
    sources = figures.Sources(
        settings.school_name, kinds, settings.closure_days, bool(backups), last
    )
    unlocked = unlock()
    try:
        _before_writing(unlocked, path, stdout)
        made = reporting.make(unlocked, period, sources, fmt=fmt, output=path, stdout=stdout)
    finally:
        unlocked.close()
    _show(made, stdout)


def _output(to: str | None, fmt: str) -> tuple[Path | None, bool]:
    """Where `--output` writes: a file, or standard output (`-`, or no --output)."""
    if to is None:
        return None, False
    if to == "-":
        if fmt.strip().lower() == "pdf" and sys.stdout.isatty():
            raise UsageError(
                "a PDF is not for a terminal; nothing was written",
                hint="use --output FILE, or redirect standard output to a file",
            )
        return None, True
    try:
        to.encode("utf-8")  # the file's name is recorded in the chronology
    except UnicodeEncodeError:
        raise UsageError(
            "the --output name is not UTF-8 text; nothing was written",
            hint="give the file a name in UTF-8",
        ) from None
    return Path(to).expanduser(), False


def _before_writing(unlocked: Unlocked, path: Path | None, stdout: bool) -> None:
    """Refuse a maker or a file the report could not be made by or written to, before warning
    that a report written out is plaintext."""
    from safeguarding import reporting

    unlocked.require_manager("make the governors' report")
    if path is not None:
        reporting.check_target(path)
    if path is not None or stdout:
        output.warn_plaintext(
            "report", path, "Keep it safe, and delete it once the governors have had it."
        )


def _show(made: Made, stdout: bool) -> None:
    """Where the report went, or the report itself on standard output."""

    if made.path is not None:
        from rich.markup import escape

        output.say(f"Wrote the report to {escape(str(made.path))}; recorded as entry {made.entry}.")
    elif made.format == "text" and not stdout:
        from safeguarding.report_rich import render

        output.out.print(render(made.layout))
    else:
        assert made.data is not None
        output.send_recorded(
            made.data,
            "report",
            f"it was made and is recorded as entry {made.entry}",
            "make it again to a file with --output FILE",
        )
