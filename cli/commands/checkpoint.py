"""`safeguard checkpoint`: the vault's signed head, to keep where no one can change it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_json

from .. import output
from ..context import open_vault
from ..output import JsonOption

if TYPE_CHECKING:
    pass


def checkpoint(
    qr: Annotated[
        bool | None,
        typer.Option(
            "--qr/--no-qr",
            help="Also draw the line as a QR code under it (default: when the output is a "
            "terminal, never when it is piped).",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Print the vault's signed head, to keep on paper or elsewhere.

    The checkpoint is the newest entry's number and hash, signed by its author.

    Needs no passphrase. Keep it where no one who can write the vault can change it (the
    minutes of a DSL meeting, a mail to the governors, a file on another server): 'safeguard
    verify --checkpoint SEQ:HASH' then shows whether anything up to it was rewritten or cut.
    On a terminal a QR code of the same line is drawn under it. The vault is checked first, as
    'verify --no-passphrase' does.
    """
    if json and qr:
        from safeguarding.errors import UsageError

        raise UsageError("--qr draws the line for a terminal; leave it out with --json")
    vault = open_vault()
    try:
        report = vault.verify_public()
        signed = vault.entry_facts(report.head.seq)
    finally:
        vault.close()
    if json:
        output.emit_json(documents_json.checkpoint(report.head, signed))
        return
    line = str(report.head)
    output.out.print(line, soft_wrap=True, markup=False, highlight=False)
    terminal = sys.stdout.isatty()
    drawn = terminal if qr is None else qr
    if drawn:
        from .. import views

        output.data_line(views.qr_code(line, colour=terminal and not output.out.no_color))
    how = "signed by user" if signed.signed else "written (before signatures) by user"
    output.say(
        f"Entry {report.head.seq}, {how} {signed.author_id} at {signed.recorded_at}. "
        f"Write down the line above{' (the QR code holds the same line)' if drawn else ''}; "
        "'safeguard verify --checkpoint LINE' checks against it."
    )
