"""`safeguard import`: a child's file received from their previous school."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safeguarding import documents_transfers

from .. import output
from ..context import open_vault, unlock
from ..output import JsonOption


def _addressed(package: bytes) -> None:
    """Before the passphrase is asked for: that this vault has a school key, and that the
    package is one, whole enough to say whom it was sealed to, and sealed to this vault."""
    from safeguarding import school_key, storage, transfer_package
    from safeguarding.errors import NotAllowed

    vault = open_vault()
    try:
        with storage.guarded(vault.path), storage.reading(vault.connection) as db:
            publics = school_key.public_keys(db)
    finally:
        vault.close()
    if not publics:
        raise NotAllowed(
            "this vault has no school key, so no package can have been sealed to it",
            hint="run 'safeguard school-key' and send what it prints to the sending school",
        )
    transfer_package.check_addressed(package, publics)


def import_(
    package: Annotated[
        Path, typer.Argument(metavar="FILE", help="The package the previous school sent.")
    ],
    json: JsonOption = False,
) -> None:
    """Import a child's file sent by their previous school.

    Checks the package (sealed to this school's key, whole, signed by its sender), adds the
    child as a person (or finds them by name and date of birth) with the file as it was sent,
    and prints a receipt code for the sending school.
    """
    from rich.markup import escape

    from safeguarding import transfer
    from safeguarding.errors import NotFound

    try:
        data = package.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"there is no file {package}") from None
    except IsADirectoryError:
        raise NotFound(f"{package} is a folder, not a package") from None
    _addressed(data)
    unlocked = unlock()
    try:
        done = output.commit(
            lambda: transfer.receive(unlocked, data),
            lambda r: f"the file received as entry {r.entry}",
        )
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_transfers.received(done))
        return
    output.data_line(done.code)
    cases = ", ".join(done.cases) or "no case"
    person = f"{'added as' if done.added else 'kept with'} person {done.person.id}"
    output.say(
        f"Imported the file of {escape(done.person.label)} from {escape(done.school)}, sent by "
        f"{escape(done.sent_by)}: {done.entries} entries ({escape(cases)}), {person}. "
        f"'safeguard file {done.person.id}' shows it."
    )
    output.say(
        f"The package's fingerprint is {done.fingerprint}: it should be the one the sending "
        f"school read out. Give them this receipt code: {done.code}"
    )
