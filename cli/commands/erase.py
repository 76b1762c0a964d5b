"""`safeguard erase`: destroy a case's keys, so that no one can read its entries again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_retention

from .. import output
from ..casework import (
    CaseArgument,
    EditorOption,
    JsonOption,
    TextFileOption,
    casebook,
    confirm,
    read_text,
)
from ..context import STATE

if TYPE_CHECKING:
    from safeguarding.cases import Casebook

#: Said after every erasure, and in the README: what an erasure cannot reach.
BACKUPS = (
    "Backups taken before now still hold its keys: they age out under 'safeguard backup "
    "prune'. A vault restored from one of them has the case back, readable: erase it again."
)


def erase(
    case: CaseArgument,
    force: Annotated[
        bool,
        typer.Option("--force", help="Erase the case although it is open; the reason says why."),
    ] = False,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Erase a case: destroy its keys, so no one can read it again.

    A DSL or the headteacher; a restricted case, its members. A closed case only (or --force),
    and not while a hold is on it. The reason is asked for, then whether to go on (or the
    reason is read with --text-file, and nothing is asked).

    Every copy of the case's keys in the vault is destroyed, with its summary and the keys of
    the concerns added to it: no passphrase and no recovery key opens its entries again. They
    stay in the chronology, so 'safeguard verify' still passes, and a signed entry records who
    erased it, when and why. Backups taken before still hold its keys, until 'backup prune'
    removes them.
    """
    from rich.markup import escape

    from safeguarding import erasure

    with casebook(text_file) as book:
        erasure.check(book.unlocked, case, force=force)
        early = _kept_until(book, case)
        if early is not None:
            output.say(f"[yellow]warning: {escape(early)}[/]")
        label = "Why the case is being erased" + (" although it is open" if force else "")
        reason = read_text(label, text_file, editor, need="say why the case is being erased")
        if text_file is None and not confirm(
            f"Erase {case.strip().upper()}? No one will be able to read it again", False
        ):
            raise typer.Abort()
        done = output.commit(
            lambda: erasure.erase(book.unlocked, case, reason, force=force),
            lambda d: f"the erasure of {d.erasure.reference} as entry {d.erasure.entry}",
        )
    if json:
        output.emit_json(documents_retention.erasure(done))
        return
    found = done.erasure
    entries = "1 entry" if found.entries == 1 else f"{found.entries} entries"
    concerns = f", and the {found.concerns} concern(s) added to it," if found.concerns else ""
    output.say(
        f"Erased {found.reference}: its keys are destroyed, so its {entries}{concerns} can no "
        "longer be read by anyone, with any passphrase or the recovery key. "
        f"Entry {found.entry} records who erased it, when and why."
    )
    if not done.log_emptied:
        output.say(_copies_left())
    output.say(escape(BACKUPS))


def _kept_until(book: Casebook, case: str) -> str | None:
    """What its category's rule says of a case not yet due to go: the school's policy keeps
    it until then (None: its date has come, or its category has no rule)."""
    from safeguarding import retention

    reference = case.strip().upper()
    today = book.today()
    for found in retention.dated(book, everything=True, today=today):
        if found.reference == reference and (found.due.on is None or found.due.on > today):
            until = "while it is open" if found.due.on is None else f"until {found.due.on}"
            return (
                f"{reference}'s category keeps it {until} ({found.due.rule}): erasing it now "
                "is before its retention date"
            )
    return None


def _copies_left() -> str:
    """What still holds earlier copies of the keys, when they could not be cleared at once."""
    from safeguarding.erasure import KEY_TABLES

    if not isinstance(STATE.vault_path, Path):
        return (
            "[yellow]The server still holds earlier versions of the rows that held the keys: "
            "ask its administrator to run, as the schema's owner, VACUUM FULL on "
            f"{', '.join(KEY_TABLES)} in this school's schema.[/]"
        )
    return (
        "[yellow]Another safeguard is reading the vault, so its write-ahead log still holds "
        "earlier pages with the keys until the last one closes.[/]"
    )
