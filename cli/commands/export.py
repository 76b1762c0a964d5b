"""`safeguard export`: a case's chronology in a file for the County or the LADO, recorded."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_json
from safeguarding.errors import UsageError

from .. import heap, output
from ..context import unlock
from ..output import JsonOption

if TYPE_CHECKING:
    from safeguarding.export import Exported
    from safeguarding.vault import Unlocked

from ..output import _reference
from ..settings import school_settings

OptionalCase = Annotated[
    str | None,
    typer.Argument(
        metavar="[CASE]",
        help="The case, e.g. SG-2026-0007 (or --file PERSON instead).",
        callback=_reference,
        show_default=False,
    ),
]


FileOption = Annotated[
    str | None,
    typer.Option(
        "--file",
        metavar="PERSON",
        help="Export a person's file (every case about them) instead of one case.",
    ),
]


def export(
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
    case: OptionalCase = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Replace the names of everyone but the subject(s) with role labels.",
        ),
    ] = False,
    person: FileOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    width: Annotated[
        int, typer.Option("--width", help="Columns of a txt export.", min=60, max=240)
    ] = 100,
    json: JsonOption = False,
) -> None:
    """Export a case's chronology for the County or the LADO.

    The file is plaintext, outside the encrypted vault: it is created 0600, and the export is
    recorded in the case's chronology (who, when, format, redacted or not); a person's file
    (--file PERSON) is recorded in each of its cases and as a vault event naming the person.
    """
    from safeguarding import export as exports

    _one_of(case, person, redact)
    fmt = exports.check_format(format)
    path = _export_path(to, fmt, json=json)
    if person is not None:
        return _export_file(person, fmt, path, force, width, json)
    assert case is not None
    _report_export(_export_case(case, fmt, path, force, width, redact=redact), json=json)


def _export_case(
    case: str, fmt: str, path: Path | None, force: bool, width: int, *, redact: bool
) -> Exported:
    from safeguarding import export as exports

    settings, kinds = school_settings()
    unlocked = unlock()
    try:
        _check_export(unlocked, case, path, force)  # fails before the warning, not after it
        output.warn_plaintext("export", path, "Keep it safe and delete it once it has been sent.")
        with heap.no_cycle_collection():  # many objects, all kept until it is written
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
    return done


def _one_of(case: str | None, person: str | None, redact: bool) -> None:
    if (case is None) == (person is None):
        raise UsageError("give a CASE or --file PERSON (one of them)")
    if person is not None and redact:
        raise UsageError("a person's file is exported whole: --redact is for one case")


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


def _export_file(
    person: str, fmt: str, path: Path | None, force: bool, width: int, json: bool
) -> None:
    from rich.markup import escape

    from safeguarding import documents_people, personfile, storage
    from safeguarding.people import find_in

    settings, kinds = school_settings()
    layout = personfile.Layout(settings.school_name, kinds, settings.closure_days)
    unlocked = unlock()
    try:
        with (
            storage.guarded(unlocked.vault.path),
            storage.reading(unlocked.vault.connection) as db,
        ):
            find_in(unlocked, db, person)  # an unknown person fails before the warning
        if path is not None:
            from safeguarding.export import Target

            Target(path, force).discard()
        output.warn_plaintext("export", path, "Keep it safe and delete it once it has been sent.")
        with heap.no_cycle_collection():
            done = personfile.export_file(
                unlocked, person, fmt=fmt, output=path, layout=layout, force=force, width=width
            )
    finally:
        unlocked.close()
    if done.path is None:
        assert done.data is not None
        output.send_recorded(
            done.data,
            "export",
            f"it was produced and is recorded as entry {done.entry} of the vault's chronology",
            "export again to a file with --output FILE",
        )
        return
    if json:
        output.emit_json(documents_people.file_exported(done))
        return
    where = f"recorded as entry {done.entry} of the vault's chronology"
    if done.cases:
        held, where = f" ({', '.join(done.cases)})", where + " and in each of its cases"
    else:
        held = " (no case of this school's)"
    output.say(
        f"Exported the file of {escape(done.person.label)}{held} as {done.format} to "
        f"{escape(str(done.path))}; {where}."
    )
