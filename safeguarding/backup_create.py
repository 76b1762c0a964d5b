"""Take a backup: a consistent copy of the vault, taken while others write, and its manifest."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from safeguarding import __version__, backup_pg, clock, files, storage
from safeguarding.backup_check import newest_recorded_head
from safeguarding.backup_files import (
    Manifest,
    Progress,
    _Facts,
    _open_read_only,
    _read_facts,
    _sha256,
    _sqlite_error,
    backup_name,
    manifest_path,
    vault_id_of,
    write_error,
)
from safeguarding.backup_folder import _heal, _require_own_folder, folder_lock
from safeguarding.db import Connection
from safeguarding.errors import CheckFailed, VaultUnusable
from safeguarding.server import Location, Server

PAGES_PER_STEP = 1024


@dataclass(frozen=True)
class Created:
    path: Path
    manifest: Manifest


def create(
    vault_path: Location,
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
    folder.  A vault on a PostgreSQL server is copied from one REPEATABLE READ snapshot
    into the same format (see `backup_pg`).
    """
    if not isinstance(vault_path, Server):
        storage.check_is_sqlite(vault_path)
        storage.refuse_network_filesystem(vault_path)
    _require_own_folder(directory, writing=True)
    outcome = "no backup was written"
    with folder_lock(directory, outcome):
        try:
            _heal(directory)
            moment = now or clock.now()
            target = _free_name(directory, moment)
            # SQLite writes the copy by its temporary name, which it keeps until it is in place.
            with files.PrivateFile(target, named=True) as copy:
                facts = _copy_vault(vault_path, copy.temp_path, directory, progress, busy_timeout)
                # A vault rolled back or cut behind the folder's newest backup is refused here,
                # where whoever rolled it back does not write: the nightly mail says so.
                _require_extends(copy.temp_path, directory, moment, "nothing was backed up")
                copy.sync()
                manifest = _manifest_of(copy.temp_path, target, moment, facts)
                document = json.dumps(manifest.to_json(), indent=2) + "\n"
                # The manifest first: a kill before the copy is in place leaves a manifest
                # beside the temporary copy it describes, which the next run puts in place.
                files.write_private(manifest_path(target), document.encode())
                try:
                    copy.publish()
                except BaseException:
                    if not copy.published:
                        manifest_path(target).unlink(missing_ok=True)
                    raise
        except OSError as error:
            raise write_error(error, directory, outcome) from None
    return Created(target, manifest)


def _manifest_of(temp: Path, target: Path, moment: datetime, facts: _Facts) -> Manifest:
    """The manifest of the copy at `temp`, to be published as `target`."""
    return Manifest(
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


def _free_name(directory: Path, moment: datetime) -> Path:
    serial = 0
    while True:
        candidate = directory / backup_name(moment, serial)
        taken = (candidate, manifest_path(candidate), candidate.with_suffix(".pruning"))
        if not any(path.exists() for path in taken):
            return candidate
        serial += 1


def _copy_vault(
    vault_path: Location,
    temp: Path,
    directory: Path,
    progress: Progress | None,
    busy_timeout: float,
) -> _Facts:
    if isinstance(vault_path, Server):
        return _copy_from_server(vault_path, temp, directory, progress, busy_timeout)
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


def _copy_from_server(
    server: Server, temp: Path, directory: Path, progress: Progress | None, busy_timeout: float
) -> _Facts:
    try:
        revision = backup_pg.copy_from_server(server, temp, busy_timeout, progress)
        with closing(sqlite3.connect(temp, isolation_level=None)) as copy:
            copy.execute("PRAGMA journal_mode = DELETE")
            facts = _read_facts(copy)
    except sqlite3.Error as error:
        raise _sqlite_error(error, server, directory) from None
    if facts.integrity != "ok" or facts.revision != revision:
        raise VaultUnusable(
            f"the copy of {server} fails SQLite's checks ({facts.integrity}); "
            "no backup was written",
            hint="run 'safeguard verify'; keep the backups you have",
        )
    return facts


def _require_extends(
    vault_file: Location, directory: Path, moment: datetime, outcome: str, *, live: bool = False
) -> None:
    """Raise `CheckFailed` unless the vault in `vault_file` holds, unchanged, the chronology
    head recorded by the folder's newest manifest (of the same vault).  A `live` vault is read
    as SQLite reads it, with its WAL (or from its server)."""
    recorded = newest_recorded_head(directory, moment)
    if recorded is None:
        return
    name, manifest = recorded
    try:
        opened: Connection
        if isinstance(vault_file, Server):
            opened = storage.open_connection(vault_file)
        elif live:
            opened = sqlite3.connect(f"file:{quote(str(vault_file.resolve()))}?mode=ro", uri=True)
        else:
            opened = _open_read_only(vault_file)
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
