"""Check a backup against its manifest, verify it (its chain, and with a key its entries), and
list a folder's backups with the result of each check."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from safeguarding import attempts, clock, integrity, scratch, storage
from safeguarding.backup_files import (
    CLOCK_SKEW,
    BackupFile,
    Manifest,
    Unlocker,
    _open_read_only,
    _read_facts,
    _sha256,
    manifest_path,
    write_error,
)
from safeguarding.backup_folder import _pending_copy, scan
from safeguarding.errors import CheckFailed, NotFound, UsageError
from safeguarding.vault import Vault


def newest_recorded_head(directory: Path, moment: datetime) -> tuple[str, Manifest] | None:
    """The newest manifest in `directory` not dated in the future, and its backup's name."""
    for backup in scan(directory, with_missing=True):
        manifest = _manifest_or_none(backup)
        if manifest is not None and _ahead(backup, manifest, moment) is None:
            return backup.name, manifest
    return None


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
    connection = _open_read_only(path)
    try:
        with storage.reading(connection) as db:
            integrity.verify(db, checkpoints=[manifest.checkpoint])
    except CheckFailed as failure:
        raise CheckFailed(
            f"the backup {path.name} does not verify: {failure.message}",
            hint="use another backup ('safeguard backup list' shows which verify)",
        ) from None
    finally:
        connection.close()


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
    # Opening a vault switches it to WAL and writes beside it; work on a scratch copy so the
    # backup itself stays byte for byte what its manifest says.
    copy = workdir / "check.db"
    try:
        shutil.copyfile(path, copy)
        os.chmod(copy, 0o600)
    except OSError as error:
        raise write_error(error, workdir.parent, "the backup was not checked") from None
    if manifest.schema_revision != storage.HEAD_REVISION:
        from safeguarding import migrate  # Alembic: only an older backup needs it

        engine = storage.make_engine(copy)
        try:
            with storage.guarded(copy):
                migrate.upgrade(engine)
        finally:
            engine.dispose()
    vault = Vault.open(copy)
    try:
        attempts.clear_all(vault.connection)
        unlocked = unlock(vault)
        unlocked.verify([manifest.checkpoint])
    except CheckFailed as failure:
        raise CheckFailed(
            f"the backup {path.name} does not verify: {failure.message}",
            hint="use another backup ('safeguard backup list' shows which verify)",
        ) from None
    finally:
        vault.close()


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
