"""Backups of a vault: consistent copies taken while others write, their manifests and checks,
and retention.  (Putting one back is `safeguarding.restore`.)

A backup is a byte copy of the vault's ciphertext, so taking, listing, pruning and checking one
needs no secret; only the full check (chain and decryption) unlocks a scratch copy.  Nothing here
may write a key or plaintext to disk, delete a backup that no rule lets go, or change a file in
place: every file appears whole, by rename, or not at all.

A backup folder holds only safeguard's files::

    safeguard-20261124T020000Z.db       the copy (SQLite, rollback-journal mode, 0600)
    safeguard-20261124T020000Z.json     its manifest (below), 0600
    safeguard-20261124T020000Z-1.db     a second backup taken in the same second
    safeguard-20261124T020000Z.pruning  a manifest `prune` has taken back (below)
    .safeguard-backup.lock              held (flock) by the `create` or `prune` that is running
    .safeguard-<hex>.tmp, .json.tmp     a copy and a manifest being written
    .safeguard-scratch-<hex>/           a `backup verify --full` at work (`safeguarding.scratch`)

Manifest, format ``safeguard-backup/1`` (JSON; nothing in it is personal)::

    {"format", "file", "created_at" (UTC, ISO 8601), "size", "sha256", "schema_revision",
     "tool_version", "entries", "checkpoint": {"seq", "mac"}, "vault_id"}

`vault_id` is a hash of the MAC of the vault's first chronology entry: it tells one vault's
backups from another's without revealing anything.

The order of every change, so that a kill between any two steps leaves nothing half there that
the next `create` or `prune` (both under the folder's lock) cannot finish:

- `create`: the copy and its manifest are written and fsynced under temporary names; the
  manifest is linked to its name first, then the copy.  A kill between the two leaves a manifest
  beside a temporary copy whose size and sha256 are the manifest's: the next run links that copy
  into place.  A manifest with no such copy is never touched: it is what a lost backup looks like.
- `prune`: a backup's manifest is first renamed ``.pruning`` (one rename: the decision, on disk),
  then the copy is removed, then the mark.  A kill leaves a mark, never a lone manifest, and the
  next run removes the marked copy and the mark.
- A backup or manifest dated more than `CLOCK_SKEW` after `clock.now()` counts for no rule and is
  never "the newest verified backup"; `list` shows it and `status` fails naming it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import struct
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from safeguarding import __version__, clock, scratch, storage
from safeguarding.checkpoint import Checkpoint
from safeguarding.errors import CheckFailed, NotFound, UsageError, VaultUnusable
from safeguarding.prune import Duration, Policy, kept

if TYPE_CHECKING:
    from safeguarding.vault import Unlocked, Vault

MANIFEST_FORMAT = "safeguard-backup/1"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
BACKUP_NAME = re.compile(r"^safeguard-(\d{8}T\d{6}Z)(?:-(\d+))?\.db$")
MANIFEST_NAME = re.compile(r"^safeguard-\d{8}T\d{6}Z(?:-\d+)?\.json$")
PRUNE_MARK = re.compile(r"^(safeguard-\d{8}T\d{6}Z(?:-\d+)?)\.pruning$")
TEMP_NAME = re.compile(r"^\.safeguard-[0-9a-f]{12}\.(?:tmp|tmp-journal|tmp-wal|tmp-shm|json\.tmp)$")
COPY_TEMP_NAME = re.compile(r"^\.safeguard-[0-9a-f]{12}\.tmp$")
LOCK_NAME = ".safeguard-backup.lock"
#: What an operating system or a USB drive puts in any folder; not a reason to refuse one.
IGNORED_NAMES = frozenset({"lost+found", ".DS_Store", "Thumbs.db", "desktop.ini"})
PAGES_PER_STEP = 1024
#: How far ahead of this machine's clock a backup's time may be (another machine's clock, a
#: clock set by hand) before it counts as dated in the future.
CLOCK_SKEW = timedelta(minutes=10)

#: Told `(pages copied, pages in all)` as a backup is copied.
Progress = Callable[[int, int], None]
#: Unlocks an opened vault (a scratch copy of a backup) for the full check.
Unlocker = Callable[["Vault"], "Unlocked"]


# Names and manifests ------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupFile:
    """A file in a backup folder named as a backup, and when it was taken (from its name)."""

    path: Path
    taken_at: datetime
    serial: int = 0

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.path)

    @property
    def mark_path(self) -> Path:
        """Its manifest's name once `prune` has taken it back (the backup is being removed)."""
        return self.path.with_name(self.path.stem + ".pruning")

    @classmethod
    def from_path(cls, path: Path) -> BackupFile | None:
        match = BACKUP_NAME.match(path.name)
        if match is None:
            return None
        try:
            taken = datetime.strptime(match[1], STAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return None
        return cls(path, taken, int(match[2] or 0))


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.stem + ".json")


def backup_name(moment: datetime, serial: int = 0) -> str:
    stamp = moment.astimezone(UTC).strftime(STAMP_FORMAT)
    return f"safeguard-{stamp}.db" if serial == 0 else f"safeguard-{stamp}-{serial}.db"


@dataclass(frozen=True)
class Manifest:
    file: str
    created_at: str
    size: int
    sha256: str
    schema_revision: str
    tool_version: str
    entries: int
    checkpoint: Checkpoint
    vault_id: str | None
    format: str = MANIFEST_FORMAT

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "file": self.file,
            "created_at": self.created_at,
            "size": self.size,
            "sha256": self.sha256,
            "schema_revision": self.schema_revision,
            "tool_version": self.tool_version,
            "entries": self.entries,
            "checkpoint": {"seq": self.checkpoint.seq, "mac": self.checkpoint.mac_hex},
            "vault_id": self.vault_id,
        }

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read a manifest; raises `CheckFailed` if it is missing or not one of ours."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckFailed(
                f"there is no manifest ({path.name}) beside the backup, so its hash cannot be "
                "checked"
            ) from None
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            raise CheckFailed(f"the manifest {path.name} cannot be read as JSON") from None
        try:
            if data["format"] != MANIFEST_FORMAT:
                raise ValueError(data["format"])
            checkpoint = data["checkpoint"]
            manifest = cls(
                file=str(data["file"]),
                created_at=str(data["created_at"]),
                size=_integer(data["size"]),
                sha256=str(data["sha256"]).lower(),
                schema_revision=str(data["schema_revision"]),
                tool_version=str(data["tool_version"]),
                entries=_integer(data["entries"]),
                checkpoint=Checkpoint(_integer(checkpoint["seq"]), str(checkpoint["mac"])),
                vault_id=None if data.get("vault_id") is None else str(data["vault_id"]),
            )
            Checkpoint.parse(str(manifest.checkpoint))
        except (KeyError, TypeError, ValueError, UsageError):
            raise CheckFailed(
                f"the manifest {path.name} is not a safeguard backup manifest"
            ) from None
        return manifest


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def vault_id_of(first_mac: bytes | None) -> str | None:
    if first_mac is None:
        return None
    return hashlib.sha256(b"safeguard/vault-id/v1/" + first_mac).hexdigest()[:32]


# The backup folder ---------------------------------------------------------------------------


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
            or TEMP_NAME.match(name)
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
    killed between its two links: the copy takes its name); then temporary files and the
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
    copies = [child for child in children if COPY_TEMP_NAME.match(child.name) and child.is_file()]
    for child in children:
        if copies and MANIFEST_NAME.match(child.name) and not child.with_suffix(".db").exists():
            changed |= _complete(child, copies)
    for child in directory.iterdir():
        if TEMP_NAME.match(child.name):
            child.unlink(missing_ok=True)
            changed = True
    scratch.sweep(directory)
    if changed:
        storage.fsync_directory(directory)


def _complete(manifest_file: Path, copies: list[Path]) -> bool:
    """Link the temporary copy a manifest describes into place; False if there is none."""
    try:
        manifest = Manifest.load(manifest_file)
    except CheckFailed:
        return False
    target = manifest_file.with_suffix(".db")
    if manifest.file != target.name:
        return False
    for copy in copies:
        if copy.stat().st_size == manifest.size and _sha256(copy) == manifest.sha256:
            place(copy, target)
            copies.remove(copy)
            return True
    return False


def _pending_copy(backup: BackupFile, manifest: Manifest | None) -> bool:
    """Whether a temporary copy the size of its manifest's lies beside a backup whose file is
    absent: a `create` at work, or one killed before its last link (the next run finishes it)."""
    if manifest is None or manifest.file != backup.name:
        return False
    for child in backup.path.parent.iterdir():
        if COPY_TEMP_NAME.match(child.name):
            with suppress(OSError):
                if child.stat().st_size == manifest.size:
                    return True
    return False


# Errors while writing ------------------------------------------------------------------------


def write_error(error: OSError, directory: Path, outcome: str) -> VaultUnusable:
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return VaultUnusable(
            f"the disk holding {directory} is full; {outcome}",
            hint="free some space (for example 'safeguard backup prune') and run it again",
        )
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return VaultUnusable(
            f"cannot write to {directory} ({(error.strerror or 'permission denied').lower()}); "
            f"{outcome}",
            hint="run as the user who owns the folder, or choose another folder",
        )
    reason = (error.strerror or type(error).__name__).lower()
    return VaultUnusable(f"could not write to {directory} ({reason}); {outcome}")


def _sqlite_error(error: sqlite3.Error, vault: Path, directory: Path) -> VaultUnusable:
    detail = str(error.args[0]) if error.args else type(error).__name__
    problem = storage.sqlite_problem(detail)
    if problem == "full":
        return VaultUnusable(
            f"the disk holding {directory} is full; no backup was written",
            hint="free some space (for example 'safeguard backup prune') and run it again",
        )
    if problem == "busy":
        return VaultUnusable(
            f"the vault {vault} stayed busy too long ({detail}); no backup was written",
            hint="run it again; set SAFEGUARD_BUSY_TIMEOUT (seconds) to wait longer",
        )
    if problem == "io":
        return VaultUnusable(
            f"could not write the backup in {directory} ({detail}: is the disk full or "
            "failing?); no backup was written",
            hint="check the free space and health of the disk, then run it again",
        )
    if problem == "damaged":
        return VaultUnusable(
            f"the vault {vault} is damaged ({detail}); no backup was written",
            hint="run 'safeguard verify'; keep the backups you have",
        )
    if problem == "readonly":
        return VaultUnusable(
            f"cannot write to {directory} ({detail}); no backup was written",
            hint="check the permissions of the folder",
        )
    return VaultUnusable(f"the backup could not be made ({detail}); no backup was written")


# Small file helpers --------------------------------------------------------------------------


def _new_private_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


def place(temp: Path, target: Path) -> None:
    """Give a complete file its name, never replacing one that is already there."""
    try:
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError as error:
        # Some filesystems (FAT on a USB drive, some network shares) have no hard links.
        if error.errno not in _NO_HARD_LINKS:
            raise
        if target.exists() or target.is_symlink():
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        os.rename(temp, target)
        return
    temp.unlink()


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Open a backup without creating, changing or locking anything beside it."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


# Facts read from a copy ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    revision: str | None
    entries: int
    checkpoint: Checkpoint
    vault_id: str | None
    integrity: str


def _read_facts(conn: sqlite3.Connection) -> _Facts:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    integrity = "ok" if rows == [("ok",)] else "; ".join(str(row[0]) for row in rows[:3])
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"alembic_version", "vault_meta", "entries"} <= tables:
        return _Facts(None, 0, Checkpoint(0, ""), None, integrity)
    version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    meta = conn.execute("SELECT head_seq, head_mac FROM vault_meta WHERE id = 1").fetchone()
    entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    first = conn.execute("SELECT mac FROM entries WHERE seq = 1").fetchone()
    return _Facts(
        revision=None if version is None or meta is None else str(version[0]),
        entries=int(entries),
        checkpoint=Checkpoint(int(meta[0]), bytes(meta[1]).hex()) if meta else Checkpoint(0, ""),
        vault_id=vault_id_of(bytes(first[0]) if first else None),
        integrity=integrity,
    )


# Create ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    path: Path
    manifest: Manifest


def create(
    vault_path: Path,
    directory: Path,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    busy_timeout: float = storage.DEFAULT_BUSY_TIMEOUT,
) -> Created:
    """Copy the vault into `directory` as a new, checked backup with its manifest.

    The copy is one consistent snapshot even while others write (SQLite's online backup inside
    one read transaction); it is checked with ``PRAGMA integrity_check`` and appears under its
    final name only when complete, after its manifest (see the module's notes on order).  What a
    killed run left is finished first.  Raises `VaultUnusable` if another backup holds the
    folder.
    """
    storage.check_is_sqlite(vault_path)
    storage.refuse_network_filesystem(vault_path)
    _require_own_folder(directory, writing=True)
    outcome = "no backup was written"
    with folder_lock(directory, outcome):
        token = secrets.token_hex(6)
        temp = directory / f".safeguard-{token}.tmp"
        manifest_temp = directory / f".safeguard-{token}.json.tmp"
        try:
            _heal(directory)
            _new_private_file(temp)
            facts = _copy_vault(vault_path, temp, directory, progress, busy_timeout)
            moment = now or clock.now()
            # A vault rolled back or cut behind the folder's newest backup is refused here,
            # where whoever rolled it back does not write: the nightly mail says so.
            _require_extends(temp, directory, moment, "nothing was backed up")
            _fsync_file(temp)
            target = _free_name(directory, moment)
            manifest = Manifest(
                file=target.name,
                created_at=moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                size=temp.stat().st_size,
                sha256=_sha256(temp),
                schema_revision=facts.revision or "",
                tool_version=__version__,
                entries=facts.entries,
                checkpoint=facts.checkpoint,
                vault_id=facts.vault_id,
            )
            document = json.dumps(manifest.to_json(), indent=2) + "\n"
            _write_private(manifest_temp, document.encode())
            # The manifest first: a kill before the copy is linked leaves a manifest beside the
            # temporary copy it describes, which the next run links into place.
            place(manifest_temp, manifest_path(target))
            try:
                place(temp, target)
            except BaseException:
                manifest_path(target).unlink(missing_ok=True)
                raise
            storage.fsync_directory(directory)
        except OSError as error:
            raise write_error(error, directory, outcome) from None
        finally:
            for leftover in (temp, manifest_temp, Path(f"{temp}-journal")):
                leftover.unlink(missing_ok=True)
    return Created(target, manifest)


def _free_name(directory: Path, moment: datetime) -> Path:
    serial = 0
    while True:
        candidate = directory / backup_name(moment, serial)
        taken = (candidate, manifest_path(candidate), candidate.with_suffix(".pruning"))
        if not any(path.exists() for path in taken):
            return candidate
        serial += 1


def _copy_vault(
    vault_path: Path,
    temp: Path,
    directory: Path,
    progress: Progress | None,
    busy_timeout: float,
) -> _Facts:
    try:
        source = sqlite3.connect(vault_path, timeout=busy_timeout, isolation_level=None)
        with closing(source):
            source.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            source.execute("PRAGMA query_only = ON")
            with closing(sqlite3.connect(temp, isolation_level=None)) as copy:
                # One read transaction for the whole copy: every step sees the same snapshot,
                # and writers (WAL) carry on meanwhile.
                source.execute("BEGIN")
                revision = _source_revision(source, vault_path)
                if progress is None:
                    source.backup(copy)
                else:
                    source.backup(
                        copy,
                        pages=PAGES_PER_STEP,
                        progress=lambda _status, left, total: progress(total - left, total),
                    )
                source.execute("COMMIT")
                # A backup is one self-contained file: no -wal beside it to lose.
                copy.execute("PRAGMA journal_mode = DELETE")
                facts = _read_facts(copy)
    except sqlite3.Error as error:
        raise _sqlite_error(error, vault_path, directory) from None
    if facts.integrity != "ok":
        raise VaultUnusable(
            f"the copy of {vault_path} fails SQLite's integrity check ({facts.integrity}); "
            "no backup was written",
            hint="run 'safeguard verify'; keep the backups you have",
        )
    if facts.revision != revision:
        raise VaultUnusable(f"{vault_path} is not a safeguard vault; no backup was written")
    return facts


def newest_recorded_head(directory: Path, moment: datetime) -> tuple[str, Manifest] | None:
    """The newest manifest in `directory` not dated in the future, and its backup's name."""
    for backup in scan(directory, with_missing=True):
        manifest = _manifest_or_none(backup)
        if manifest is not None and _ahead(backup, manifest, moment) is None:
            return backup.name, manifest
    return None


def _require_extends(
    vault_file: Path, directory: Path, moment: datetime, outcome: str, *, live: bool = False
) -> None:
    """Raise `CheckFailed` unless the vault in `vault_file` holds, unchanged, the chronology
    head recorded by the folder's newest manifest (of the same vault).  A `live` vault is read
    as SQLite reads it, with its WAL."""
    recorded = newest_recorded_head(directory, moment)
    if recorded is None:
        return
    name, manifest = recorded
    try:
        opened = (
            sqlite3.connect(f"file:{quote(str(vault_file.resolve()))}?mode=ro", uri=True)
            if live
            else _open_read_only(vault_file)
        )
        with closing(opened) as conn:
            first = conn.execute("SELECT mac FROM entries WHERE seq = 1").fetchone()
            own_id = vault_id_of(bytes(first[0]) if first else None)
            if manifest.vault_id and own_id != manifest.vault_id:
                raise CheckFailed(
                    f"the newest backup in {directory}, {name}, is of another vault: the vault "
                    f"was replaced by a different one; {outcome}",
                    hint="if a new vault was started on purpose, move the old vault's backups "
                    "to another folder (and keep them) first",
                )
            head = conn.execute("SELECT max(seq) FROM entries").fetchone()[0] or 0
            row = conn.execute(
                "SELECT mac FROM entries WHERE seq = ?", (manifest.checkpoint.seq,)
            ).fetchone()
    except sqlite3.Error:
        return  # unreadable: the integrity check says so
    seq = manifest.checkpoint.seq
    if row is None:
        raise CheckFailed(
            f"the vault has {head} entries but the backup {name} holds {seq}: it was rolled "
            f"back or its newest entries removed; {outcome}",
            hint="keep the vault and the backups as they are, and find out what happened; "
            "'safeguard verify --checkpoints DIR' names what is missing",
        )
    if not manifest.checkpoint.matches(bytes(row[0])):
        raise CheckFailed(
            f"entry {seq} of the vault is not the one the backup {name} recorded: the "
            f"chronology was rewritten; {outcome}",
            hint="keep the vault and the backups as they are, and find out what happened; "
            "'safeguard verify --checkpoints DIR' names what is missing",
        )


def _source_revision(source: sqlite3.Connection, vault_path: Path) -> str:
    tables = {
        row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    row = None
    if {"alembic_version", "vault_meta"} <= tables:
        row = source.execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None:
        raise VaultUnusable(f"{vault_path} is not a safeguard vault; no backup was written")
    revision = str(row[0])
    if revision not in storage.KNOWN_REVISIONS:
        raise VaultUnusable(
            f"the vault's schema ({revision}) is newer than this safeguard understands; "
            "no backup was written",
            hint="back it up with the newer safeguard that last wrote it",
        )
    return revision


# Check and verify ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """The result of the check that needs no passphrase."""

    path: Path
    manifest: Manifest | None
    problem: str | None
    missing: bool = False
    #: Only the manifest is in place, beside the copy a `create` has still to link (or a
    #: killed one left for the next run to link): not a loss, and not yet a backup.
    pending: bool = False
    #: It, or its manifest, is dated after `CLOCK_SKEW` past this machine's clock.
    ahead: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None


def check(path: Path) -> Check:
    """Size and sha256 against the manifest, SQLite's integrity, the schema and the head."""
    if not path.is_file():
        if path.is_dir():
            raise UsageError(f"{path} is a folder; give the backup's .db file")
        raise NotFound(
            f"there is no backup {path}",
            hint="check the path ('safeguard backup list DIR' shows the backups in a folder)",
        )
    if path.suffix.lower() == ".json":
        raise UsageError(
            f"{path.name} is a manifest: give the backup's .db file, not its manifest",
            hint=f"e.g. {path.with_suffix('.db')}",
        )
    manifest = None
    try:
        manifest = Manifest.load(manifest_path(path))
        _check_against(path, manifest)
    except CheckFailed as failure:
        return Check(path, manifest, failure.message)
    return Check(path, manifest, None)


def _check_against(path: Path, manifest: Manifest) -> None:
    size = path.stat().st_size
    if size != manifest.size:
        raise CheckFailed(
            f"it is {size} bytes but its manifest says {manifest.size}: it was truncated or altered"
        )
    if _sha256(path) != manifest.sha256:
        raise CheckFailed("its sha256 does not match its manifest: it was altered or damaged")
    with path.open("rb") as handle:
        if handle.read(len(storage.SQLITE_HEADER)) != storage.SQLITE_HEADER:
            raise CheckFailed("it is not a SQLite database")
    try:
        with closing(_open_read_only(path)) as conn:
            facts = _read_facts(conn)
    except sqlite3.Error as error:
        detail = error.args[0] if error.args else type(error).__name__
        raise CheckFailed(f"SQLite cannot read it ({detail})") from None
    if facts.integrity != "ok":
        raise CheckFailed(f"it fails SQLite's integrity check ({facts.integrity})")
    if facts.revision is None:
        raise CheckFailed("it is not a safeguard vault")
    if facts.revision not in storage.KNOWN_REVISIONS:
        raise CheckFailed(f"its schema ({facts.revision}) is newer than this safeguard knows")
    if facts.revision != manifest.schema_revision:
        raise CheckFailed(
            f"its schema ({facts.revision}) is not the manifest's ({manifest.schema_revision})"
        )
    if (
        facts.checkpoint.seq != manifest.checkpoint.seq
        or facts.checkpoint.mac_hex != manifest.checkpoint.mac_hex
        or facts.entries != manifest.entries
    ):
        raise CheckFailed("its chronology head is not the one its manifest records")


@dataclass(frozen=True)
class Verified:
    path: Path
    manifest: Manifest
    full: bool


def verify(path: Path, unlock: Unlocker | None = None, *, workdir: Path | None = None) -> Verified:
    """Check a backup; with `unlock`, also decrypt everything and recompute the chain.

    The full check works on a copy in `workdir` (a scratch folder the caller holds), or else in a
    scratch folder of its own beside the backup (in the temporary folder if the backup's is not
    writable).  Raises `CheckFailed` naming the backup and what is wrong with it.
    """
    result = check(path)
    if result.problem is not None or result.manifest is None:
        raise CheckFailed(
            f"the backup {path.name} does not verify: {result.problem}",
            hint="use another backup ('safeguard backup list' shows which verify)",
        )
    if unlock is not None:
        if workdir is not None:
            _verify_chain(path, result.manifest, unlock, workdir)
        else:
            with _scratch_beside(path) as work:
                _verify_chain(path, result.manifest, unlock, work)
    elif result.manifest.schema_revision == storage.HEAD_REVISION:
        _verify_signatures(path, result.manifest)
    return Verified(path, result.manifest, full=unlock is not None)


def _verify_signatures(path: Path, manifest: Manifest) -> None:
    """What anyone can check of a backup without a passphrase: its own hash chain and every
    signature up to the head its manifest records, and its clear columns.  A backup rewritten
    and its sha256 recomputed fails here."""
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from safeguarding import integrity

    engine = create_engine("sqlite://", creator=lambda: _open_read_only(path))
    try:
        with Session(engine) as session:
            integrity.verify(session, checkpoints=[manifest.checkpoint])
    except CheckFailed as failure:
        raise CheckFailed(
            f"the backup {path.name} does not verify: {failure.message}",
            hint="use another backup ('safeguard backup list' shows which verify)",
        ) from None
    finally:
        engine.dispose()


@contextmanager
def _scratch_beside(path: Path) -> Iterator[Path]:
    folder = path.parent
    with ExitStack() as stack:
        try:
            work = stack.enter_context(scratch.scratch_folder(folder))
        except OSError:
            folder = Path(tempfile.gettempdir())
            try:
                work = stack.enter_context(scratch.scratch_folder(folder))
            except OSError as error:
                raise write_error(error, folder, "the backup was not checked") from None
        yield work


def _verify_chain(path: Path, manifest: Manifest, unlock: Unlocker, workdir: Path) -> None:
    from safeguarding.vault import Vault

    # Opening a vault switches it to WAL and writes beside it; work on a scratch copy so the
    # backup itself stays byte for byte what its manifest says.
    copy = workdir / "check.db"
    try:
        shutil.copyfile(path, copy)
        os.chmod(copy, 0o600)
    except OSError as error:
        raise write_error(error, workdir.parent, "the backup was not checked") from None
    if manifest.schema_revision != storage.HEAD_REVISION:
        from safeguarding import migrate

        engine = storage.make_engine(copy)
        try:
            with storage.guarded(copy):
                migrate.upgrade(engine)
        finally:
            engine.dispose()
    vault = Vault.open(copy)
    try:
        unlocked = unlock(vault)
        unlocked.verify([manifest.checkpoint])
    except CheckFailed as failure:
        raise CheckFailed(
            f"the backup {path.name} does not verify: {failure.message}",
            hint="use another backup ('safeguard backup list' shows which verify)",
        ) from None
    finally:
        vault.close()


# List and status -----------------------------------------------------------------------------


def list_backups(directory: Path, now: datetime | None = None) -> list[Check]:
    """Every backup in the folder, newest first, each with the result of its check (a backup
    of which only the manifest is left among them; one dated in the future says so first)."""
    moment = now or clock.now()
    found = []
    for backup in scan(directory, with_missing=True):
        result = _check_listed(backup)
        ahead = _ahead(backup, result.manifest, moment)
        if ahead is not None:
            problem = ahead if result.ok else f"{ahead}; and {result.problem}"
            result = Check(result.path, result.manifest, problem, result.missing, ahead=True)
        found.append(result)
    return found


def _missing(backup: BackupFile) -> Check:
    manifest = _manifest_or_none(backup)
    if _pending_copy(backup, manifest):
        problem = (
            "its copy is not in place yet: a 'backup create' is writing it, or was stopped "
            "(the next 'backup create' or 'backup prune' puts it in place)"
        )
        return Check(backup.path, manifest, problem, missing=True, pending=True)
    problem = f"its file is missing; only its manifest {backup.manifest_path.name} is left"
    return Check(backup.path, manifest, problem, missing=True)


def _manifest_or_none(backup: BackupFile) -> Manifest | None:
    try:
        return Manifest.load(backup.manifest_path)
    except CheckFailed:
        return None


def _check_listed(backup: BackupFile) -> Check:
    return check(backup.path) if backup.path.is_file() else _missing(backup)


def _ahead(backup: BackupFile, manifest: Manifest | None, moment: datetime) -> str | None:
    """Why a backup counts as dated in the future, or None.

    Nothing safeguard writes is dated ahead of the clock that runs it: such a file was put
    there, or the clock was wrong when it was taken, or is wrong now.  Either way it must not
    decide what `prune` keeps (kept by date, it would make every genuine backup look old).
    """
    limit = moment + CLOCK_SKEW
    dated = backup.taken_at if backup.taken_at > limit else None
    what = "it is"
    if dated is None and manifest is not None:
        created = _parse_stamp(manifest.created_at)
        if created is not None and created > limit:
            dated, what = created, "its manifest is"
    if dated is None:
        return None
    return (
        f"{what} dated {_shown(dated)}, {describe_age(dated - moment)} ahead of this machine's "
        "clock: it counts for no --keep rule"
    )


def _parse_stamp(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _shown(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _cheap_problem(backup: BackupFile) -> Check | None:
    """What one stat shows wrong with a backup: gone, or not the size its manifest records.

    The monitor runs this over every older backup each night; hashing them all would cost a
    read of every backup, so that is left to `backup list` and `backup verify`.
    """
    if not backup.path.is_file():
        missing = _missing(backup)
        return None if missing.pending else missing
    try:
        manifest = Manifest.load(backup.manifest_path)
    except CheckFailed:
        return None  # a backup without a readable manifest is shown by `list`; not an alert
    size = backup.path.stat().st_size
    if size == manifest.size:
        return None
    problem = (
        f"it is {size} bytes but its manifest says {manifest.size}: it was truncated or altered"
    )
    return Check(backup.path, manifest, problem)


@dataclass(frozen=True)
class Status:
    newest: BackupFile
    age: timedelta
    failing_newer: list[Check] = field(default_factory=list)


def status(
    directory: Path,
    max_age: Duration,
    now: datetime | None = None,
    vault_path: Path | None = None,
) -> Status:
    """The newest backup that verifies; raises `CheckFailed` if `vault_path` (when given) no
    longer holds the newest manifest's head, if there is no backup, if it is too old, if a
    backup or manifest is dated in the future, if a newer backup does not verify
    (damage to the newest backup is an alert even while an older one is recent enough), or if
    an older backup is gone or not the size its manifest records.

    A backup whose copy a `create` has still to put in place is passed over: it is not yet a
    backup, and not a lost one.
    """
    moment = now or clock.now()
    backups = scan(directory, with_missing=True)
    ahead = [
        (backup, reason)
        for backup in backups
        if (reason := _ahead(backup, _manifest_or_none(backup), moment)) is not None
    ]
    if ahead:
        first, reason = ahead[-1]  # the nearest to now among them
        more = f" (and {len(ahead) - 1} more)" if len(ahead) > 1 else ""
        raise CheckFailed(
            f"the backup {first.name} in {directory} is dated in the future: {reason}{more}",
            hint="if this machine's clock is right, something else put it there: move it and its "
            "manifest out of the folder (keep them) and find out what; if the clock was wrong, "
            "set it right",
        )
    if not backups:
        raise CheckFailed(
            f"there are no backups in {directory}",
            hint="check that the nightly 'safeguard backup create' runs (cron or systemd)",
        )
    if vault_path is not None and not vault_path.exists():
        raise CheckFailed(
            f"there is no vault at {vault_path}: it was moved or deleted",
            hint="restore the newest backup that verifies ('safeguard restore FILE --to PATH')",
        )
    if vault_path is not None:
        _require_extends(
            vault_path, directory, moment, "the vault may have been tampered with", live=True
        )
    failing: list[Check] = []
    newest: BackupFile | None = None
    for backup in backups:
        result = _check_listed(backup)
        if result.pending:
            continue
        if result.ok:
            newest = backup
            break
        failing.append(result)
    if newest is None:
        if not failing:
            raise CheckFailed(
                f"there are no finished backups in {directory}",
                hint="check that the nightly 'safeguard backup create' runs (cron or systemd)",
            )
        raise CheckFailed(
            f"none of the {len(backups)} backups in {directory} verifies (the newest, "
            f"{failing[0].path.name}: {failing[0].problem})",
            hint="take a new backup now, and find out what damaged them",
        )
    age = moment - newest.taken_at
    if newest.taken_at < max_age.before(moment):
        raise CheckFailed(
            f"the newest verified backup in {directory} is {describe_age(age)} old, older than "
            f"{max_age} ({newest.name})",
            hint="check that the nightly 'safeguard backup create' runs (cron or systemd)",
        )
    if failing:
        first_failing = failing[0]
        raise CheckFailed(
            f"the newest backup in {directory}, {first_failing.path.name}, does not verify: "
            f"{first_failing.problem}",
            hint=f"{_what_to_do(first_failing)}; the newest that verifies is {newest.name}, "
            f"{describe_age(age)} old",
        )
    older_backups = backups[backups.index(newest) + 1 :]
    older = [found for b in older_backups if (found := _cheap_problem(b))]
    if older:
        first_older = older[0]
        more = f" (and {len(older) - 1} more older ones)" if len(older) > 1 else ""
        raise CheckFailed(
            f"an older backup in {directory}, {first_older.path.name}, does not verify: "
            f"{first_older.problem}{more}",
            hint=f"{_what_to_do(first_older)}; the newest, {newest.name}, verifies",
        )
    return Status(newest, age, failing)


def _what_to_do(failed: Check) -> str:
    if failed.missing:
        # `prune` takes a backup's manifest back before its file, so it never leaves this.
        return (
            "find out what removed it; once you know, delete its manifest "
            f"{manifest_path(failed.path).name} to clear this"
        )
    return "take a new backup now, and find out what damaged it"


def describe_age(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


# Prune -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pruned:
    kept: list[tuple[BackupFile, list[str]]]
    removed: list[BackupFile]
    dry_run: bool
    #: Backups dated in the future, and why: neither kept by a rule nor removed.
    ahead: list[tuple[BackupFile, str]] = field(default_factory=list)


def prune(directory: Path, policy: Policy, *, dry_run: bool = False) -> Pruned:
    """Remove the backups that no rule of `policy` keeps (restic's `forget` rules).

    The newest backup that verifies is always kept, whatever the policy says.  A backup dated
    in the future counts for no rule, is never the newest that verifies, and is left where it
    is (`status` reports it).  A removal a killed prune left half done is finished first.
    """
    if policy.empty:
        raise UsageError(
            "say which backups to keep (--keep-daily, --keep-weekly, --keep-monthly, "
            "--keep-within…); nothing was removed"
        )
    _require_own_folder(directory)
    outcome = "some backups may not have been removed"
    with folder_lock(directory):
        if not dry_run:
            try:
                _heal(directory)
            except OSError as error:
                raise write_error(error, directory, outcome) from None
        moment = clock.now()
        ahead: list[tuple[BackupFile, str]] = []
        backups: list[BackupFile] = []
        for found in scan(directory):
            reason = _ahead(found, _manifest_or_none(found), moment)
            if reason is None:
                backups.append(found)
            else:
                ahead.append((found, reason))
        reasons = kept([backup.taken_at for backup in backups], policy)
        for index, backup in enumerate(backups):
            if check(backup.path).ok:
                reasons.setdefault(index, []).append("newest verified")
                break
        removed = [backup for index, backup in enumerate(backups) if index not in reasons]
        if not dry_run and removed:
            try:
                for backup in removed:
                    _remove(backup)
                storage.fsync_directory(directory)
            except OSError as error:
                raise write_error(error, directory, outcome) from None
    return Pruned(
        kept=[(backup, reasons[i]) for i, backup in enumerate(backups) if i in reasons],
        removed=removed,
        dry_run=dry_run,
        ahead=ahead,
    )


def _remove(backup: BackupFile) -> None:
    """Remove a backup so that no kill leaves its manifest without its file: the manifest is
    renamed to the prune mark (one step), then the file goes, then the mark."""
    with suppress(FileNotFoundError):  # without a manifest, removing the file is one step
        os.rename(backup.manifest_path, backup.mark_path)
    backup.path.unlink(missing_ok=True)
    backup.mark_path.unlink(missing_ok=True)


# Checkpoints for `verify` ----------------------------------------------------------------------


def checkpoints_for(vault: Vault, directory: Path) -> list[Checkpoint]:
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
    with storage.guarded(vault.path), vault.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT mac FROM entries WHERE seq = 1").fetchone()
    own = vault_id_of(bytes(row[0]) if row else None)
    mine = [m.checkpoint for m in manifests if own is not None and m.vault_id == own]
    if not mine:
        raise CheckFailed(
            f"none of the {len(manifests)} backups in {directory} is of this vault",
            hint="check --vault and the folder; a vault replaced by another one looks like this",
        )
    return mine
