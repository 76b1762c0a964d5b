"""Putting a verified backup back as a vault, so that PATH never stops holding a whole vault.

Nothing here may delete or overwrite a vault: one replaced with ``--force`` keeps a second name.
The order of a restore, each step one link, rename or unlink, so that a kill between any two
leaves PATH holding the old vault or the new one, never neither:

1. the backup is checked without a secret; then the full check works on a copy in a scratch
   folder beside PATH (`safeguarding.scratch`, removed by the next run if a kill leaves it);
   the vault-to-be is copied into a private file for PATH (`safeguarding.files`: nameless, or
   a temporary name the next run removes), its sha256 checked against the manifest;
2. with ``--force``, the old vault (and its ``-wal``) get a second name, ``PATH.replaced-TIME``,
   by a hard link (a copy where the filesystem has no hard links), its WAL folded in first;
3. stale ``-wal`` and ``-shm`` beside PATH are removed;
4. the new vault is renamed over PATH (or, when nothing was there, linked to it, or renamed
   where there are no links, never replacing a file that appeared meanwhile), and the folder
   is fsynced.

A kill after step 2 and before step 4 leaves ``PATH.replaced-TIME`` as a second name of the old
vault still at PATH: nothing is lost, and the next restore picks a new name.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from safeguarding import backup_pg, clock, erasure, files, scratch, storage
from safeguarding.backup import (
    STAMP_FORMAT,
    Manifest,
    Unlocker,
    Verified,
    verify,
    write_error,
)
from safeguarding.errors import CheckFailed, UsageError, VaultUnusable
from safeguarding.server import Location, Server


@dataclass(frozen=True)
class Restored:
    path: Location
    verified: Verified
    moved_aside: Path | None
    removed_stale: list[Path]
    #: Cases erased in the vault it replaced (or, restored to a new place, in the school's own
    #: vault) whose keys the backup still holds: restored, they can be read again.
    erased_since: tuple[str, ...] = ()
    #: The vault the backup was compared with to find them: the one replaced, or the school's;
    #: None if there was none to compare with (none there, or not a copy of this vault).
    compared_with: Location | None = None


def restore(
    backup: Path,
    to: Location,
    *,
    force: bool = False,
    unlock: Unlocker | None = None,
    now: datetime | None = None,
    school: Location | None = None,
) -> Restored:
    """Put a verified backup at `to`, keeping an existing file there under a second name only
    with `force`.  `school`: the school's own vault, which a backup restored to a new place is
    compared with (the cases erased in it since).  A stale ``-wal`` or ``-shm`` beside `to`
    would be replayed into the restored vault and damage it, so they go: a ``-wal`` that
    belongs to the vault being replaced keeps a second name beside it."""
    verified = verify(backup)  # the check without a secret: refuse early, having made nothing
    if isinstance(to, Server):
        return _to_server(backup, to, verified, force=force, unlock=unlock)
    if to.is_dir():
        raise UsageError(f"{to} is a folder; give the path of the vault file to restore to")
    if to.exists() and os.path.samefile(to, backup):
        raise UsageError("a backup cannot be restored onto itself; nothing was changed")
    exists = to.exists() or to.is_symlink()
    if exists and not force:
        raise UsageError(
            f"{to} already exists; nothing was changed",
            hint="add --force to keep it under another name (it is never deleted) and restore "
            "in its place",
        )
    storage.refuse_network_filesystem(to)
    # Replacing a vault, the backup is compared with it; put somewhere new, with the school's.
    compared = to if exists else school
    found = None if compared is None else erasure.compared(backup, compared)
    made = [folder for folder in (to.parent, *to.parent.parents) if not folder.exists()]
    try:
        to.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if unlock is None:
            scratch.sweep(to.parent)  # what the check of a killed restore left
        else:
            with scratch.scratch_folder(to.parent) as work:
                verified = verify(backup, unlock, workdir=work)
        with files.PrivateFile(to) as copy:
            _copy_checked(backup, copy, verified.manifest)
            aside = _keep_aside(to, now or clock.now()) if exists else None
            stale = [p for p in (Path(f"{to}-wal"), Path(f"{to}-shm")) if p.exists()]
            for path in stale:
                path.unlink()
            copy.publish(replace=exists)
    except BaseException as error:
        for folder in made:  # deepest first; only ever empty ones
            with suppress(OSError):
                folder.rmdir()
        if isinstance(error, FileExistsError):
            raise UsageError(f"{to} appeared while restoring; nothing was changed") from None
        if isinstance(error, OSError):
            raise write_error(error, to.parent, "nothing was changed") from None
        raise
    return Restored(
        to, verified, aside, stale, tuple(found or ()), None if found is None else compared
    )


def _to_server(
    backup: Path, to: Server, verified: Verified, *, force: bool, unlock: Unlocker | None
) -> Restored:
    """Load a verified backup into an empty schema on a PostgreSQL server (see `backup_pg`):
    nothing stays there unless the whole backup is in, as it was checked."""
    if force:
        raise UsageError(
            "--force is for a vault file: a backup is restored only into an empty schema; "
            "nothing was changed",
            hint="restore into a new schema (?schema=NAME), or empty this one first",
        )
    if unlock is not None:
        with scratch.scratch_folder(backup.parent) as work:
            verified = verify(backup, unlock, workdir=work)

    def unchanged() -> None:
        if _sha256_of(backup) != verified.manifest.sha256:
            raise CheckFailed(f"the backup {backup.name} changed while it was being restored")

    with storage.guarded(to):
        backup_pg.copy_to_server(backup, to, before_commit=unchanged)
    return Restored(to, verified, None, [])


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_checked(backup: Path, copy: files.PrivateFile, manifest: Manifest) -> None:
    digest = hashlib.sha256()
    with backup.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            copy.write(chunk)
    copy.sync()
    if digest.hexdigest() != manifest.sha256:
        raise CheckFailed(f"the backup {backup.name} changed while it was being restored")


def _keep_aside(path: Path, moment: datetime) -> Path:
    """Give an existing vault (and its -wal) a second name, PATH.replaced-TIME, leaving it in
    place; refuse if it is in use."""
    _refuse_in_use(path)
    stamp = moment.astimezone(UTC).strftime(STAMP_FORMAT)
    serial = 0
    while True:
        suffix = f".replaced-{stamp}" if serial == 0 else f".replaced-{stamp}-{serial}"
        aside = path.with_name(path.name + suffix)
        serial += 1
        if Path(f"{aside}-wal").exists():
            continue
        try:
            files.second_name(path, aside)
        except FileExistsError:
            continue
        break
    wal = Path(f"{path}-wal")
    if wal.exists():
        files.second_name(wal, Path(f"{aside}-wal"))
    return aside


def _refuse_in_use(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            if handle.read(len(storage.SQLITE_HEADER)) != storage.SQLITE_HEADER:
                return
    except OSError:
        return
    busy = False
    try:
        with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as conn:
            # Folding the WAL into the file keeps the vault that is kept aside whole; a reader
            # or writer holding it open makes this report busy.
            row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            busy = bool(row and row[0])
    except sqlite3.Error as error:
        busy = "locked" in str(error).lower() or "busy" in str(error).lower()
    if busy:
        raise VaultUnusable(
            f"{path} is in use by another safeguard command; nothing was changed",
            hint="wait until nobody is using the vault, then run the restore again",
        )
