"""A backup folder's files: their names and the manifests (each is written whole by
`safeguarding.files`)."""

from __future__ import annotations

import errno
import hashlib
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from safeguarding import storage
from safeguarding.checkpoint import Checkpoint
from safeguarding.errors import CheckFailed, UsageError, VaultUnusable

if TYPE_CHECKING:
    from safeguarding.vault import Unlocked, Vault


MANIFEST_FORMAT = "safeguard-backup/1"


STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


BACKUP_NAME = re.compile(r"^safeguard-(\d{8}T\d{6}Z)(?:-(\d+))?\.db$")


MANIFEST_NAME = re.compile(r"^safeguard-\d{8}T\d{6}Z(?:-\d+)?\.json$")


PRUNE_MARK = re.compile(r"^(safeguard-\d{8}T\d{6}Z(?:-\d+)?)\.pruning$")


#: The temporary names of a copy and a manifest being written by a safeguard before this one
#: (0.1.0): still safeguard's files, and a killed run's are finished or removed as ever.
OLD_TEMP_NAME = re.compile(
    r"^\.safeguard-[0-9a-f]{12}\.(?:tmp|tmp-journal|tmp-wal|tmp-shm|json\.tmp)$"
)


OLD_COPY_TEMP_NAME = re.compile(r"^\.safeguard-[0-9a-f]{12}\.tmp$")


LOCK_NAME = ".safeguard-backup.lock"


#: What an operating system or a USB drive puts in any folder; not a reason to refuse one.
IGNORED_NAMES = frozenset({"lost+found", ".DS_Store", "Thumbs.db", "desktop.ini"})


#: How far ahead of this machine's clock a backup's time may be (another machine's clock, a
#: clock set by hand) before it counts as dated in the future.
CLOCK_SKEW = timedelta(minutes=10)


#: Told `(pages copied, pages in all)` as a backup is copied.
Progress = Callable[[int, int], None]


#: Unlocks an opened vault (a scratch copy of a backup) for the full check.
Unlocker = Callable[["Vault"], "Unlocked"]


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


def _sqlite_error(error: sqlite3.Error, vault: object, directory: Path) -> VaultUnusable:
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


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Open a backup without creating, changing or locking anything beside it."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


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
