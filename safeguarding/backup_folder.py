"""The backup folder: only safeguard's files in it, its lock, and finishing what a killed run
left half done."""

from __future__ import annotations

import fcntl
import os
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from safeguarding import files, scratch, storage
from safeguarding.backup_files import (
    BACKUP_NAME,
    IGNORED_NAMES,
    LOCK_NAME,
    MANIFEST_NAME,
    OLD_COPY_TEMP_NAME,
    OLD_TEMP_NAME,
    PRUNE_MARK,
    BackupFile,
    Manifest,
    _sha256,
    vault_id_of,
    write_error,
)
from safeguarding.checkpoint import Checkpoint
from safeguarding.errors import CheckFailed, NotFound, UsageError, VaultUnusable

if TYPE_CHECKING:
    from safeguarding.vault_file import VaultFile


def _require_folder(directory: Path, *, writing: bool = False) -> None:
    """Raise unless `directory` is a folder.  Only a command that writes there (`create`) may
    suggest making it: to one that reads, a missing folder is more likely a wrong path."""
    if not directory.exists():
        raise NotFound(
            f"there is no folder {directory}",
            hint=f"create it first: mkdir -m 700 {directory}"
            if writing
            else "check the path: is it the folder 'safeguard backup create' writes to?",
        )
    if not directory.is_dir():
        raise UsageError(f"{directory} is a file, not a folder")
    try:
        with os.scandir(directory):
            pass
    except PermissionError:
        raise VaultUnusable(
            f"cannot read {directory} (permission denied); nothing was changed",
            hint="the backup folder must belong to the account that runs safeguard "
            "(made with 'install -d -o ACCOUNT -m 700 DIR')",
        ) from None


def foreign_files(directory: Path) -> list[str]:
    """Names in the folder that safeguard did not put there."""
    names = []
    for child in directory.iterdir():
        name = child.name
        ours = (
            BACKUP_NAME.match(name)
            or MANIFEST_NAME.match(name)
            or files.is_temp_name(name)
            or OLD_TEMP_NAME.match(name)
            or PRUNE_MARK.match(name)
            or scratch.is_scratch_name(name)
            or name == LOCK_NAME
            or name in IGNORED_NAMES
        )
        if not ours:
            names.append(name)
    return sorted(names)


def _require_own_folder(directory: Path, *, writing: bool = False) -> None:
    _require_folder(directory, writing=writing)
    foreign = foreign_files(directory)
    if foreign:
        shown = ", ".join(repr(name) for name in foreign[:3])
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise UsageError(
            f"{directory} holds files that are not safeguard backups ({shown}{more}); "
            "nothing was changed",
            hint="give the backups a folder of their own, e.g. a new, empty 'safeguard-backups'",
        )


def scan(directory: Path, *, with_missing: bool = False) -> list[BackupFile]:
    """The backups in a folder, newest first; other files are ignored, and so is a backup that
    `prune` has marked for removal (it is no longer one).

    With `with_missing`, a manifest whose backup file is gone counts as that backup (its path
    does not exist): `prune` never leaves one, so something else took the file away, or a
    `create` has not yet put it in place (`Check.pending`).
    """
    _require_folder(directory)
    names = {child.name for child in directory.iterdir()}
    found = []
    for name in names:
        if with_missing and MANIFEST_NAME.match(name):
            if name.removesuffix(".json") + ".db" in names:
                continue
            backup = BackupFile.from_path((directory / name).with_suffix(".db"))
        else:
            backup = BackupFile.from_path(directory / name)
            if backup is not None and (backup.mark_path.name in names or not backup.path.is_file()):
                backup = None
        if backup is not None:
            found.append(backup)
    return sorted(found, key=lambda b: (b.taken_at, b.serial), reverse=True)


@contextmanager
def folder_lock(directory: Path, outcome: str = "nothing was changed") -> Iterator[None]:
    """Hold the folder's lock, or raise at once if another process holds it.

    An flock is released by the kernel when its process ends, so a crash leaves no stale lock.
    """
    path = directory / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise write_error(error, directory, outcome) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(fd)
            by = f" (process {holder})" if holder is not None else ""
            raise VaultUnusable(
                f"another safeguard backup is already running in {directory}{by}; {outcome}",
                hint="wait for it to finish; overlapping runs would only copy the same vault twice",
            ) from None
        # A POSIX lock beside the flock, only so that a refused run can ask the kernel who
        # holds it (F_GETLK): a PID read from the file may be a dead run's.
        with suppress(OSError):
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


#: Linux's `struct flock`: l_type, l_whence, l_start, l_len, l_pid (native alignment).
_FLOCK = "hhqqi"


def _lock_holder(fd: int) -> int | None:
    """The process holding the folder's lock, as the kernel knows it (F_GETLK), or None when
    it cannot tell: then no PID is claimed."""
    if not sys.platform.startswith("linux"):
        return None
    query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0) + bytes(16)
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
    except OSError:
        return None
    kind, _, _, _, pid = struct.unpack_from(_FLOCK, answer)
    return pid if kind != fcntl.F_UNLCK and pid > 0 else None


def _heal(directory: Path) -> None:
    """Finish what a killed `create` or `prune` left half done (only called holding the lock).

    Each repair follows from a file only these two commands write, so nothing a person or a lost
    disk left is touched: a prune mark (that backup was being removed: its copy goes, then the
    mark); a manifest beside a temporary copy of exactly its size and sha256 (a create was
    killed between publishing the two: the copy takes its name); then the temporary files and
    scratch folders of dead runs.
    """
    changed = False
    children = sorted(directory.iterdir())
    for child in children:
        match = PRUNE_MARK.match(child.name)
        if match:
            (directory / f"{match[1]}.db").unlink(missing_ok=True)
            child.unlink(missing_ok=True)
            changed = True
    copies = [child for child in children if _temporary_copy(child)]
    for child in children:
        if copies and MANIFEST_NAME.match(child.name) and not child.with_suffix(".db").exists():
            changed |= _complete(child, copies)
    # What dead runs left (this run, holding the lock, has made nothing here yet).
    changed |= bool(files.remove_stale(directory, ours_too=True))
    for child in directory.iterdir():
        if OLD_TEMP_NAME.match(child.name):
            child.unlink(missing_ok=True)
            changed = True
    scratch.sweep(directory)
    if changed:
        files.fsync_folder(directory)


def _temporary_copy(path: Path) -> bool:
    """A temporary file in a backup folder that may be a copy being written (or a manifest),
    not what SQLite keeps beside one."""
    name = path.name
    temporary = files.TEMP_NAME.fullmatch(name) or OLD_COPY_TEMP_NAME.match(name)
    return temporary is not None and path.is_file()


def _complete(manifest_file: Path, copies: list[Path]) -> bool:
    """Put the temporary copy a manifest describes in place; False if there is none."""
    try:
        manifest = Manifest.load(manifest_file)
    except CheckFailed:
        return False
    target = manifest_file.with_suffix(".db")
    if manifest.file != target.name:
        return False
    for copy in copies:
        if copy.stat().st_size == manifest.size and _sha256(copy) == manifest.sha256:
            files.place(copy, target)
            copies.remove(copy)
            return True
    return False


def _pending_copy(backup: BackupFile, manifest: Manifest | None) -> bool:
    """Whether a temporary copy the size of its manifest's lies beside a backup whose file is
    absent: a `create` at work, or one killed before its last link (the next run finishes it)."""
    if manifest is None or manifest.file != backup.name:
        return False
    for child in backup.path.parent.iterdir():
        if _temporary_copy(child):
            with suppress(OSError):
                if child.stat().st_size == manifest.size:
                    return True
    return False


def checkpoints_for(vault: VaultFile, directory: Path) -> list[Checkpoint]:
    """The chronology heads recorded in the manifests of this vault's backups in `directory`.

    Raises `NotFound` if the folder has no manifests, and `CheckFailed` if none of them is of
    this vault (as when the vault was replaced by another).
    """
    _require_folder(directory)
    manifests = []
    for child in sorted(directory.iterdir()):
        if MANIFEST_NAME.match(child.name):
            try:
                manifests.append(Manifest.load(child))
            except CheckFailed:
                continue
    if not manifests:
        raise NotFound(f"there are no backup manifests in {directory}")
    with storage.guarded(vault.path):
        row = vault.connection.execute("SELECT mac FROM entries WHERE seq = 1").fetchone()
    own = vault_id_of(bytes(row[0]) if row else None)
    mine = [m.checkpoint for m in manifests if own is not None and m.vault_id == own]
    if not mine:
        raise CheckFailed(
            f"none of the {len(manifests)} backups in {directory} is of this vault",
            hint="check --vault and the folder; a vault replaced by another one looks like this",
        )
    return mine
