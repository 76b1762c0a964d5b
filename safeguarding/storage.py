"""The SQLite file under the vault: creating it 0600, opening it safely, and transactions.

Every connection runs WAL, synchronous=FULL, foreign keys, secure_delete, temp_store=MEMORY and a
busy timeout; writes take `BEGIN IMMEDIATE` so the chronology stays linear.  This module must
never open a vault on a network filesystem or one of a schema it does not know.  A vault on a
PostgreSQL server goes through the same functions (`safeguarding.pg` does the server's part).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeguarding import pg
from safeguarding.db import Connection, Db
from safeguarding.errors import NoVault, OutOfMemory, TooManyOpenFiles, VaultUnusable
from safeguarding.server import Location, Server

if TYPE_CHECKING:
    # SQLAlchemy is imported only where Alembic needs an engine (migrations), so that no
    # command's path loads it.
    from sqlalchemy import Engine

#: The Alembic revisions this version of safeguard reads and writes, oldest first: read without
#: loading Alembic; tests/test_migrations.py checks them against its chain.
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009")
HEAD_REVISION = KNOWN_REVISIONS[-1]

#: How long a command waits for another's write to finish, in seconds: long enough that a
#: colleague's PDF export of a long case (about 3 s per 1,000 entries, under the write lock)
#: delays a note rather than failing it.
DEFAULT_BUSY_TIMEOUT = 30.0
SQLITE_HEADER = b"SQLite format 3\x00"
MIN_DATABASE_BYTES = 512  # the smallest page SQLite writes

# Filesystems where SQLite's WAL (shared memory and POSIX locks) is unsafe.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb3",
        "smbfs",
        "afs",
        "9p",
        "ncpfs",
        "glusterfs",
        "ceph",
        "lustre",
        "gpfs",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.s3fs",
        "davfs",
        "fuse.davfs2",
    }
)

MOUNTS_FILE = Path("/proc/self/mounts")


def filesystem_type(path: Path, mounts_file: Path | None = None) -> str | None:
    """The type of the filesystem holding `path`, from the mount table, or None if unknown."""
    try:
        lines = (mounts_file or MOUNTS_FILE).read_text().splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best, best_type = "", None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = fields[1].replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fields[2]
    return best_type


def refuse_network_filesystem(path: Path) -> None:
    fs_type = filesystem_type(path.parent)
    if fs_type in NETWORK_FILESYSTEMS:
        raise VaultUnusable(
            f"{path} is on a network filesystem ({fs_type}), where SQLite's locking is unsafe",
            hint="keep the vault on a local disk; back it up to the network share instead",
        )


def create_private_file(path: Path) -> None:
    """Create an empty file readable only by its owner; fail if anything is already there."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def check_is_sqlite(path: Path) -> None:
    """Refuse a missing file, or one that is not a SQLite database, before SQLite writes to it.

    The header is read through SQLite itself, read-only: closing a plain file handle on a
    database would drop the POSIX locks of any connection this process already holds.  It is
    read as every connection reads it, WAL included: a checkpoint cut short (a full disk, a
    kill) leaves the main file shorter than its header says while the WAL still holds every
    page, and the vault is whole; the next connection that closes completes the checkpoint.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NoVault(path) from None
    except PermissionError:  # a folder this account may not enter, such as another's 0700 home
        raise wrong_account(path) from None
    # (On a read-only filesystem nothing may be written: SQLite's own error says so below.)
    if (
        not path.is_dir()
        and not os.access(path, os.R_OK | os.W_OK)
        and not read_only_filesystem(path.parent)
    ):
        raise wrong_account(path)
    if path.is_dir():
        raise VaultUnusable(f"{path} is a folder, not a vault")
    not_a_vault = VaultUnusable(
        f"{path} is not a safeguard vault",
        hint="check --vault / SAFEGUARD_VAULT; restore from a backup if the vault was damaged",
    )
    if size < MIN_DATABASE_BYTES:  # SQLite would take an empty file for a new database
        raise not_a_vault
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            probe.execute("PRAGMA schema_version").fetchone()
        finally:
            probe.close()
    except sqlite3.DatabaseError as error:
        detail = str(error)
        problem = sqlite_problem(detail)
        if problem in ("readonly", "full", "io", "busy"):
            raise _unreadable(path, problem, detail) from None
        if problem == "damaged" and "malformed" in detail:
            raise VaultUnusable(
                f"{path} is damaged or not a safeguard vault ({detail})",
                hint="run 'safeguard verify'; restore from a backup if it fails",
            ) from None
        raise not_a_vault from None


def wrong_account(path: Path, what: str = "the vault") -> VaultUnusable:
    """A vault this operating-system account may not read and write (exit 5): which account
    owns it (the file, or the nearest folder above it that can be seen), and how to become it."""
    owner = _owner(path)
    me = os.geteuid()
    if owner is not None and owner != me:
        name = _account(owner)
        return VaultUnusable(
            f"{what} at {path} belongs to the account {name!r}, and safeguard is running as "
            f"{_account(me)!r}, which may not read it",
            hint=f"become that account first: 'sudo -u {name} -i' (or log in as it, e.g. "
            f"ssh {name}@this-computer), then run safeguard there",
        )
    return VaultUnusable(
        f"cannot read and write {what} at {path}: permission denied",
        hint=f"as its owner ({_account(owner if owner is not None else me)!r}), give it back: "
        f"chmod 600 {path} (and chmod 700 on its folder)",
    )


def _owner(path: Path) -> int | None:
    """The owner of `path`, or of the nearest folder above it that this account can see."""
    for place in (path, *path.absolute().parents):
        try:
            return place.stat().st_uid
        except OSError:
            continue
    return None


def _account(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _unreadable(path: Path, problem: str, detail: str) -> VaultUnusable:
    """Why a vault that may well be whole could not be opened: never advice to restore."""
    if problem == "busy":
        return VaultUnusable(
            f"the vault is busy: another safeguard command held it too long ({detail})",
            hint="try again in a moment; set SAFEGUARD_BUSY_TIMEOUT (seconds) to wait longer",
        )
    if read_only_filesystem(path.parent):
        return VaultUnusable(
            f"{path} is on a read-only filesystem, where SQLite cannot open it",
            hint="mount it read-write (SQLite keeps files beside the vault even to read it)",
        )
    if out_of_file_descriptors():
        return TooManyOpenFiles()
    if problem == "readonly" and not os.access(path, os.R_OK):
        return wrong_account(path)
    if problem == "full" or disk_is_full(path.parent):
        # Even reading needs room for SQLite's shared-memory file beside the vault.
        return VaultUnusable(disk_full_message(path), hint=DISK_FULL_HINT)
    if problem == "readonly":
        return VaultUnusable(
            f"cannot open {path}: SQLite could not use the files beside it ({detail})",
            hint="run as the user who owns the vault and its folder",
        )
    return VaultUnusable(
        f"cannot read {path} ({detail}: is the disk failing?)",
        hint="check the disk's health, then run the command again",
    )


NEARLY_FULL_BYTES = 256 * 1024
DISK_FULL_HINT = "nothing was saved by this command; everything recorded before is safe"


def disk_full_message(path: Path) -> str:
    return f"the disk is full (the one holding {path}): free space and run the command again"


def disk_is_full(folder: Path) -> bool:
    """True when the filesystem holding `folder` has (next to) no space left for this user:
    SQLite often reports that as an I/O error rather than as a full disk."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    blocks = stats.f_bfree if os.geteuid() == 0 else stats.f_bavail  # root may use the reserve
    return blocks * stats.f_frsize < NEARLY_FULL_BYTES


def read_only_filesystem(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def out_of_file_descriptors() -> bool:
    """True when this process cannot open one more file because it is at its limit."""
    try:
        descriptor = os.open(os.devnull, os.O_RDONLY)
    except OSError as error:
        return error.errno in (errno.EMFILE, errno.ENFILE)
    os.close(descriptor)
    return False


def _configure(connection: sqlite3.Connection, busy_timeout: float) -> None:
    connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA secure_delete = ON")
    connection.execute("PRAGMA temp_store = MEMORY")
    mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        connection.execute("PRAGMA journal_mode = WAL")


def connect(path: Path, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> sqlite3.Connection:
    """The one connection a command keeps to the vault file, configured as every connection
    must be; transactions are begun explicitly (`reading`, `writing`)."""
    connection = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        _configure(connection, busy_timeout)
    except BaseException:
        connection.close()
        raise
    return connection


def open_connection(location: Location, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Connection:
    """The one connection a command keeps to the vault, a file (checked first: see
    `check_is_sqlite`) or a schema on a PostgreSQL server."""
    if isinstance(location, Server):
        return pg.connect(location, busy_timeout)
    check_is_sqlite(location)
    refuse_network_filesystem(location)
    with guarded(location):
        return connect(location, busy_timeout)


def busy_timeout_ms(connection: Connection) -> int:
    if isinstance(connection, pg.PgConnection):
        return connection.busy_timeout_ms
    return int(connection.execute("PRAGMA busy_timeout").fetchone()[0])


def set_busy_timeout_ms(connection: Connection, milliseconds: int) -> None:
    if isinstance(connection, pg.PgConnection):
        connection.set_busy_timeout(milliseconds)
    else:
        connection.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")


def triggers(connection: Connection, table: str) -> set[str]:
    """The names of the triggers on `table`."""
    if isinstance(connection, pg.PgConnection):
        return connection.triggers(table)
    sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?"
    return {str(row[0]) for row in connection.execute(sql, (table,))}


def _on_connect(busy_timeout: float) -> Any:
    def configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (DEFERRED or IMMEDIATE).
        dbapi_connection.isolation_level = None
        _configure(dbapi_connection, busy_timeout)

    return configure


def _on_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(location: Location, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Engine:
    """An SQLAlchemy engine for the vault, for Alembic's migrations alone; statement
    parameters are hidden from error messages."""
    if isinstance(location, Server):
        engine: Engine = pg.engine_for(location)
        return engine
    path = location
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=NullPool,
        hide_parameters=True,
        connect_args={"timeout": busy_timeout, "check_same_thread": False},
    )
    event.listen(engine, "connect", _on_connect(busy_timeout))
    event.listen(engine, "begin", _on_begin)
    return engine


def sqlite_problem(detail: str) -> str:
    """What an SQLite error message is about: busy, full, readonly, io, damaged or other."""
    lowered = detail.lower()
    for problem, words in (
        ("busy", ("locked", "busy")),
        ("full", ("full",)),
        ("readonly", ("readonly", "read-only", "unable to open")),
        ("io", ("disk i/o",)),
        ("damaged", ("not a database", "malformed")),
    ):
        if any(word in lowered for word in words):
            return problem
    return "other"


def sqlite_error(error: BaseException) -> sqlite3.DatabaseError | None:
    """The database error `error` is, or wraps (as SQLAlchemy's errors do, in migrations):
    SQLite's, or the server's as a `pg.PgError`."""
    if isinstance(error, sqlite3.DatabaseError):
        return error
    original = getattr(error, "orig", None)
    if isinstance(original, sqlite3.DatabaseError):
        return original
    return pg.as_error(error)


def problem_of(error: sqlite3.Error) -> str:
    """What a database error is about (see `sqlite_problem`)."""
    if isinstance(error, pg.PgError):
        return "readonly" if error.problem == "denied" else error.problem
    return sqlite_problem(str(error))


def translate_database_error(error: BaseException, path: Location) -> VaultUnusable:
    """A one-line, secret-free account of what the database refused (`error`, or what it
    wraps)."""
    original = sqlite_error(error)
    if isinstance(original, pg.PgError):
        return pg.unusable(original, path if isinstance(path, Server) else None)
    if isinstance(path, Server):  # (only a server's errors come from a server)
        return pg.unusable(pg.PgError("error", "other"), path)
    detail = str(original.args[0]) if original is not None and original.args else "error"
    problem = sqlite_problem(detail)
    if "out of memory" in detail.lower():
        return OutOfMemory()
    if problem == "busy":
        return VaultUnusable(
            f"the vault is busy: another safeguard command held it too long ({detail})",
            hint="try again in a moment; set SAFEGUARD_BUSY_TIMEOUT (seconds) to wait longer",
        )
    if problem == "full" or (problem == "io" and disk_is_full(path.parent)):
        return VaultUnusable(disk_full_message(path), hint=DISK_FULL_HINT)
    if problem == "readonly" and (read_only_filesystem(path.parent) or out_of_file_descriptors()):
        return _unreadable(path, problem, detail)
    if problem == "readonly":
        return VaultUnusable(
            f"cannot write to {path} or its folder ({detail})",
            hint="check the permissions of the vault and the folder it is in",
        )
    if problem in ("io", "damaged"):
        return VaultUnusable(
            f"{path} is damaged or not a safeguard vault ({detail})",
            hint="run 'safeguard verify'; restore from a backup if it fails",
        )
    return VaultUnusable(f"the vault could not be used: {detail}")


@contextmanager
def guarded(path: Location) -> Iterator[None]:
    """Turn database failures inside the block into `VaultUnusable`."""
    try:
        yield
    except Exception as error:
        if sqlite_error(error) is None:
            raise
        raise translate_database_error(error, path) from None


def _commit(connection: Connection) -> None:
    if isinstance(connection, pg.PgConnection):
        connection.commit()
    else:
        connection.execute("COMMIT")


@contextmanager
def _transaction(connection: Connection, begin: str) -> Iterator[Db]:
    if not isinstance(connection, pg.PgConnection):
        connection.execute(begin)
    elif begin == "BEGIN":
        connection.begin_reading()
    else:
        connection.begin_writing()
    try:
        yield Db(connection)
        _commit(connection)
    except BaseException:  # the block's error, or the commit's (a full disk): nothing stays
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def reading(connection: Connection) -> contextlib.AbstractContextManager[Db]:
    """A read transaction: one consistent snapshot of the vault."""
    return _transaction(connection, "BEGIN")


def writing(connection: Connection) -> contextlib.AbstractContextManager[Db]:
    """A write transaction under `BEGIN IMMEDIATE` (on a server: the head's row lock):
    committed whole, or not at all."""
    return _transaction(connection, "BEGIN IMMEDIATE")


def read_revision(connection: Connection) -> str | None:
    """The Alembic revision stamped in the vault, or None if it has no version table."""
    if isinstance(connection, pg.PgConnection):
        return connection.revision()
    sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    tables = {row[0] for row in connection.execute(sql)}
    if "alembic_version" not in tables or "vault_meta" not in tables:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def require_current_schema(connection: Connection, path: Location) -> None:
    revision = read_revision(connection)
    if revision is None:
        raise VaultUnusable(
            f"{path} is not a safeguard vault",
            hint="check --vault / SAFEGUARD_VAULT; "
            + (
                "'safeguard init' makes a vault in an empty schema (or one an init cut short left)"
                if isinstance(path, Server)
                else "restore from a backup if the vault was damaged"
            ),
        )
    if revision == HEAD_REVISION:
        return
    if revision in KNOWN_REVISIONS:
        raise VaultUnusable(
            f"the vault's schema ({revision}) is older than this safeguard's ({HEAD_REVISION})",
            hint="run 'safeguard db upgrade' (it takes a backup first)",
        )
    raise VaultUnusable(
        f"the vault's schema ({revision}) is newer than this safeguard understands",
        hint="install the newer safeguard that last wrote this vault",
    )
