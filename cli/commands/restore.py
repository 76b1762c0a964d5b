"""`safeguard restore`: put a verified backup in place as the vault."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_json

from .. import output
from ..backing_up import FullOption, VerboseOption, say_line, unlocker
from ..context import STATE
from ..output import JsonOption

if TYPE_CHECKING:
    from safeguarding.restore import Restored
    from safeguarding.server import Location

BackupArgument = Annotated[
    Path, typer.Argument(help="The backup's .db file.", metavar="FILE", dir_okay=False)
]
ToOption = Annotated[
    str,
    typer.Option(
        "--to",
        help="Where to put the restored vault: a file, or postgresql://…?schema=SCHOOL "
        "for an empty schema on a PostgreSQL server.",
        metavar="PATH",
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Keep an existing file at PATH as PATH.replaced-TIME (never deleted) and "
        "restore in its place.",
    ),
]


def restore(
    file: BackupArgument,
    to: ToOption,
    force: ForceOption = False,
    full: FullOption = False,
    json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Put a verified backup in place as the vault (--to PATH).

    Restore a backup to PATH after verifying it; refuses a backup that does not verify.

    An existing file at PATH is kept: without --force nothing happens; with --force it is
    kept as PATH.replaced-TIME, and PATH holds a whole vault throughout. Stale -wal and -shm
    files beside PATH are removed.
    """
    from safeguarding.restore import restore as restore_backup
    from safeguarding.server import location

    if not to:
        raise typer.BadParameter("must not be empty", param_hint="'--to'")
    school = STATE.vault_path  # the school's own vault, where cases may have been erased since
    restored = restore_backup(
        file,
        location(to),
        force=force,
        unlock=unlocker(full),
        school=school,
    )
    manifest = restored.verified.manifest
    if json:
        document = documents_json.restored(file, restored)
        compared = restored.compared_with
        output.emit_json(
            {
                **document,
                "erased_since": list(restored.erased_since),
                "compared_with": None if compared is None else str(compared),
            }
        )
        return
    # Said on success whatever --verbose says: a restore puts a vault in place, and the person
    # who ran it must know which file now holds it and where the one it replaced went.
    checked = "decrypted and checked in full" if restored.verified.full else "checked"
    entries = "entry" if manifest.entries == 1 else "entries"
    say_line(
        f"Restored the backup {file} ({manifest.entries} {entries}, taken "
        f"{_local(manifest.created_at)}, {checked}) to {restored.path}"
    )
    if restored.moved_aside is not None:
        say_line(f"The vault that was at {to} is kept as {restored.moved_aside}")
    _say_erased(restored, school)
    if verbose and restored.removed_stale:
        stale = ", ".join(str(path) for path in restored.removed_stale)
        say_line(f"Removed stale files beside it: {stale}")


def _say_erased(restored: Restored, school: Location) -> None:
    """The cases erased since the backup was taken, which the restored vault can read; or,
    restored to a new place, that there was no vault of the school's to compare it with."""
    cases = ", ".join(restored.erased_since)
    new = isinstance(restored.path, Path) and restored.moved_aside is None
    if not cases:
        if restored.compared_with is None and new and restored.path != school:
            say_line(
                f"Not compared with the school's vault ({school}: not there, or not a copy of "
                "this backup's vault): a case erased since the backup was taken would be "
                "readable in the copy. Give --vault with the school's vault to compare."
            )
        elif new and restored.compared_with is not None:
            say_line(
                f"Compared with the school's vault ({restored.compared_with}): no case has been "
                "erased there since the backup was taken."
            )
        return
    if restored.compared_with != restored.path:
        say_line(
            f"This backup holds erased data: it was taken before {cases} was erased in the "
            f"vault at {restored.compared_with}, so the copy restored at {restored.path} can "
            f"read it. Erase it there too ('safeguard --vault {restored.path} erase "
            f"{_one(restored.erased_since)}'), or delete the copy once it has served."
        )
        return
    say_line(
        f"This backup holds erased data: it was taken before {cases} was erased, so the "
        f"restored vault can read it again. Erase it again ('safeguard erase "
        f"{_one(restored.erased_since)}'); the vault kept aside still records the erasure."
    )


def _one(cases: tuple[str, ...]) -> str:
    """The case to name in a command: the one, or CASE for each of several."""
    return cases[0] if len(cases) == 1 else "CASE"


def _local(stored: str) -> str:
    """A manifest's time as the other commands say times (local, to the minute); as it is
    written there if it cannot be read."""
    from safeguarding import clock, moments

    try:
        return moments.local_text(clock.from_text(stored))
    except ValueError:
        return stored
