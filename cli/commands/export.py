"""`safeguard export`: a case's chronology in a file for the County or the LADO, recorded."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_json
from safeguarding.errors import UsageError

from .. import output
from ..context import unlock
from ..output import JsonOption

if TYPE_CHECKING:
    from safeguarding.export import Exported
    from safeguarding.vault import Unlocked

from ..settings import CaseArgument, school_settings


def export(
    case: CaseArgument,
    format: Annotated[
        str,
        typer.Option("--format", "-f", metavar="txt|html|pdf|json", help="What to write."),
    ],
    to: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="FILE|-", help="The file to write ('-': standard output)."
        ),
    ],
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Replace the names of everyone but the subject(s) with role labels.",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    width: Annotated[
        int, typer.Option("--width", help="Columns of a txt export.", min=60, max=240)
    ] = 100,
    json: JsonOption = False,
) -> None:
    """Export a case's chronology for the County or the LADO.

    The file is plaintext, outside the encrypted vault: it is created 0600, and the export is
    recorded in the case's chronology (who, when, format, redacted or not).
    """
    from safeguarding import export as exports

    fmt = exports.check_format(format)
    path = _export_path(to, fmt, json=json)
    settings, kinds = school_settings()
    unlocked = unlock()
    try:
        _check_export(unlocked, case, path, force)  # fails before the warning, not after it
        output.warn_plaintext("export", path, "Keep it safe and delete it once it has been sent.")
        done = exports.export_case(
            unlocked,
            case,
            fmt=fmt,
            output=path,
            categories=kinds,
            school=settings.school_name,
            closures=settings.closure_days,
            redact=redact,
            force=force,
            width=width,
        )
    finally:
        unlocked.close()
    _report_export(done, json=json)


def _export_path(to: str, fmt: str, *, json: bool) -> Path | None:
    """Where `export --output` writes: None for standard output."""
    to_stdout = to == "-"
    if to_stdout and json:
        raise UsageError("--json cannot be used with --output -: the export is the output")
    if to_stdout and fmt == "pdf" and sys.stdout.isatty():
        raise UsageError(
            "a PDF is not for a terminal; nothing was written",
            hint="use --output FILE, or redirect standard output to a file",
        )
    try:
        to.encode("utf-8")  # the file's name is recorded in the case's chronology
    except UnicodeEncodeError:
        raise UsageError(
            "the --output name is not UTF-8 text; nothing was written",
            hint="give the file a name in UTF-8",
        ) from None
    return None if to_stdout else Path(to).expanduser()


def _report_export(done: Exported, *, json: bool) -> None:
    from rich.markup import escape

    if done.unshown:
        # How many, never which: the characters are the record's own text.
        count = f"{done.unshown} character{'s' if done.unshown != 1 else ''}"
        output.err.print(
            f"note: {count} could not be shown in the PDF's fonts and "
            f"{'are' if done.unshown != 1 else 'is'} written as [U+XXXX] codes (page 1 says "
            "so); the html export shows every character as recorded.",
            markup=False,
            highlight=False,
        )
    if done.path is None:
        assert done.data is not None
        output.send_recorded(
            done.data,
            "export",
            f"it was produced and is recorded as entry {done.number} of {done.reference}",
            "export again to a file with --output FILE",
        )
        return
    if json:
        output.emit_json(documents_json.exported(done))
        return
    output.say(
        f"Exported {done.reference} as {done.format}{' (redacted)' if done.redacted else ''} to "
        f"{escape(str(done.path))}; recorded as entry {done.number} of {done.reference}."
    )


def _check_export(unlocked: Unlocked, case: str, path: Path | None, force: bool) -> None:
    """Refuse an unknown case, or an output path that cannot be written, as the export itself
    would: the plaintext warning is for an export that is about to be written."""
    from safeguarding import storage
    from safeguarding.export import Target

    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        unlocked.readable_case(db, case)
    if path is not None:
        Target(path, force).discard()  # the same checks, and a file it can create there
