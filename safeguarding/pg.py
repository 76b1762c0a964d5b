"""A vault on a PostgreSQL server, through psycopg 3, behind the same seam as a vault file.

`connect` gives a `PgConnection`, which `storage` and `db.Db` use as they use SQLite's: SQL
with `?` placeholders, explicit transactions.  A read is one REPEATABLE READ snapshot; a write
first locks the vault's head (`SELECT … FOR UPDATE` on vault_meta's row), so writers take turns
as under SQLite's `BEGIN IMMEDIATE` and the chain stays linear.  How long a write waits for
that lock is the busy timeout (`lock_timeout`).

psycopg is imported only when a server is connected to: a command on a vault file never loads
it.  What the server refuses is raised as `PgError`, a `sqlite3.OperationalError`, so the
library's handlers of database errors hold for both engines; its message never holds the
password (libpq's messages do not carry it, and any copy of PGPASSWORD is struck out).
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from safeguarding.errors import VaultUnusable
from safeguarding.server import Server

#: The lock that serialises writers: the vault's head.
HEAD_LOCK = "SELECT id FROM vault_meta WHERE id = 1 FOR UPDATE"
CONNECT_TIMEOUT_SECONDS = 10


class PgError(sqlite3.OperationalError):
    """What the server refused: `problem` is busy, denied, unreachable, full, append-only or
    other, and the message one line with no secret in it."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


def _scrub(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "error"
    secret = os.environ.get("PGPASSWORD")
    return line.replace(secret, "***") if secret else line


def _problem(error: BaseException) -> str:
    from psycopg import errors

    if isinstance(error, errors.LockNotAvailable | errors.DeadlockDetected):
        return "busy"
    if isinstance(error, errors.InsufficientPrivilege):
        return "denied"
    if isinstance(error, errors.DiskFull | errors.OutOfMemory):
        return "full"
    if isinstance(error, errors.RaiseException):
        return "append-only"
    if isinstance(error, errors.InvalidSchemaName):
        return "no-schema"
    if isinstance(error, errors.OperationalError):
        return "unreachable"
    return "other"


def as_error(error: BaseException) -> PgError | None:
    """The `PgError` that `error` is, or is made from (a psycopg error, or SQLAlchemy's
    wrapping of one, in migrations); None for any other error."""
    if isinstance(error, PgError):
        return error
    original = getattr(error, "orig", None)
    for candidate in (error, original):
        if candidate is not None and type(candidate).__module__.startswith("psycopg"):
            return PgError(_scrub(str(candidate)), _problem(candidate))
    return None


def _placeholders(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def _statement(sql: str, parameters: Any) -> tuple[str, list[Any] | None]:
    """`sql` and its parameters as psycopg takes them."""
    if parameters:
        return _placeholders(sql), [_value(p) for p in parameters]
    return sql, None


def _value(value: Any) -> Any:
    # Integer columns take a flag as 0 or 1, as SQLite stores it.
    return int(value) if isinstance(value, bool) else value


class PgConnection:
    """One connection to the vault's schema, used as `sqlite3.Connection` is (autocommit,
    transactions begun and ended with statements)."""

    def __init__(self, raw: Any, server: Server, busy_timeout: float) -> None:
        self.raw = raw
        self.server = server
        self.busy_timeout_ms = int(busy_timeout * 1000)
        #: While set, a write transaction stays open at its end (see `pg_init`).
        self.hold_commit = False
        self.streams = 0  # server-side cursors opened, for their names
        #: Statements of the transaction whose results nobody reads (its BEGIN, the head's
        #: lock, `write`s), not sent yet: they go with the next statement that is read, or
        #: the COMMIT, in one round trip (see `_sent`).
        self.queued: list[tuple[str, list[Any] | None]] = []

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        if sql == "ROLLBACK":
            self.queued.clear()  # unsent: dropped, and their errors never raised over this
            if not self._begun_on_server():
                return None
        return self._sent(_statement(sql, parameters))

    def write(self, sql: str, parameters: Any = (), /) -> None:
        """A statement whose result is not read (an INSERT, UPDATE or DELETE): in a
        transaction, queued to go with the next statement (an error in it is raised there,
        and the whole transaction rolled back as for any other); outside one, sent now."""
        if self.queued or self._begun_on_server():
            self.queued.append(_statement(sql, parameters))
        else:
            self._sent(_statement(sql, parameters))

    def _begun_on_server(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self.raw.info.transaction_status != TransactionStatus.IDLE)

    def _sent(self, statement: tuple[str, list[Any] | None] | None) -> Any:
        """Send the queued statements and then `statement` (if any), in one round trip
        (psycopg's pipeline mode) when any are queued; the last one's cursor."""
        queued, self.queued = self.queued, []
        try:
            if not queued:
                return None if statement is None else self.raw.execute(*statement)
            cursor = None
            with self.raw.pipeline():
                for sql, parameters in [*queued, *([statement] if statement else [])]:
                    cursor = self.raw.execute(sql, parameters)
            return cursor
        except Exception as error:
            found = as_error(error)
            if found is None:
                raise
            raise found from None

    def stream(self, sql: str) -> Any:
        """The rows of `sql` read from the server a batch at a time (a server-side cursor,
        in the transaction under way), rather than all at once."""
        self._sent(None)
        self.streams += 1
        cursor = self.raw.cursor(name=f"safeguard_{self.streams}")
        try:
            cursor.execute(sql)
        except Exception as error:
            cursor.close()
            found = as_error(error)
            if found is None:
                raise
            raise found from None
        return cursor

    def executemany(self, sql: str, parameters: Any, /) -> None:
        self._sent(None)
        try:
            with self.raw.cursor() as cursor:
                rows = [[_value(p) for p in row] for row in parameters]
                cursor.executemany(_placeholders(sql), rows)
        except Exception as error:
            found = as_error(error)
            if found is None:
                raise
            raise found from None

    @property
    def in_transaction(self) -> bool:
        return bool(self.queued) or self._begun_on_server()

    def set_busy_timeout(self, milliseconds: int) -> None:
        self.busy_timeout_ms = milliseconds
        self.execute(f"SET lock_timeout = {int(milliseconds)}")

    def begin_reading(self) -> None:
        """Begin a read (sent with its first statement)."""
        self.queued.append(("BEGIN ISOLATION LEVEL REPEATABLE READ", None))

    def begin_writing(self) -> None:
        """Begin a write: the head's row lock first, so that every read in it sees what the
        writers before it committed (READ COMMITTED reads the latest at each statement).
        Both go with the write's first statement, which the server runs once it has the
        lock (or the lock's wait, `lock_timeout`, raises there)."""
        self.queued += [("BEGIN", None), (HEAD_LOCK, None)]

    def commit(self) -> None:
        """Commit, with the writes still queued, in one round trip; while `hold_commit` is
        set, only send the writes."""
        self._sent(None if self.hold_commit else ("COMMIT", None))

    def tables(self) -> list[str]:
        """Every table in the vault's schema."""
        rows = self.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = ? ORDER BY tablename",
            (self.server.schema,),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def revision(self) -> str | None:
        """The Alembic revision stamped in the schema; None if it holds no vault, or only the
        empty tables of an `init` cut short (see `pg_init`)."""
        if not {"alembic_version", "vault_meta"} <= set(self.tables()):
            return None
        if self.execute("SELECT 1 FROM vault_meta").fetchone() is None:
            return None
        row = self.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])

    #: On a server the chronology is kept from TRUNCATE too: a trigger a file has no need of.
    APPEND_ONLY = frozenset({"entries_no_update", "entries_no_delete", "entries_no_truncate"})

    def triggers(self, table: str) -> set[str]:
        rows = self.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(?) AND NOT tgisinternal",
            (table,),
        ).fetchall()
        return {str(row[0]) for row in rows}

    def close(self) -> None:
        self.raw.close()


def connect(server: Server, busy_timeout: float) -> PgConnection:
    """A connection to `server`'s vault schema (which must exist), its search path that schema
    alone; `VaultUnusable` if the server cannot be reached or refuses."""
    import psycopg

    try:
        raw = psycopg.connect(
            server.conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="safeguard",
        )
    except psycopg.Error as error:
        found = as_error(error)
        raise unusable(found or PgError("error", "other"), server) from None
    connection = PgConnection(raw, server, busy_timeout)
    try:
        found_schema = connection.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = ?", (server.schema,)
        ).fetchone()
        if found_schema is None:
            raise VaultUnusable(
                f"there is no schema {server.schema!r} on the server ({server})",
                hint=f"as the database's owner: CREATE SCHEMA {server.schema} "
                "AUTHORIZATION <the school's owner role>",
            )
        usable = connection.execute("SELECT has_schema_privilege(?, 'USAGE')", (server.schema,))
        if not usable.fetchone()[0]:
            raise VaultUnusable(
                f"permission denied: this role may not use the schema {server.schema!r} ({server})",
                hint="connect as the school's own role; see the README's 'For a trust: PostgreSQL'",
            )
        connection.execute(f'SET search_path TO "{server.schema}"')
        connection.set_busy_timeout(connection.busy_timeout_ms)
    except PgError as error:
        connection.close()
        raise unusable(error, server) from None
    except BaseException:
        connection.close()
        raise
    return connection


def unusable(error: PgError, server: Server | None = None) -> VaultUnusable:
    """A one-line, secret-free account of what the server refused (exit 5)."""
    detail = str(error.args[0]) if error.args else "error"
    if error.problem == "busy":
        return VaultUnusable(
            f"the vault is busy: another safeguard command held it too long ({detail})",
            hint="try again in a moment; set SAFEGUARD_BUSY_TIMEOUT (seconds) to wait longer",
        )
    if error.problem == "unreachable":
        return VaultUnusable(
            f"cannot connect to the vault's server{f' ({server})' if server else ''}: {detail}",
            hint="check the URL, that the server is running, and the password in ~/.pgpass "
            "(or PGPASSFILE, or PGPASSWORD)",
        )
    if error.problem == "denied":
        return VaultUnusable(
            f"the server refused: {detail}",
            hint="the school's role lacks a grant the command needs; see the README's "
            "'For a trust: PostgreSQL'",
        )
    if error.problem == "full":
        return VaultUnusable(
            f"the server is out of space or memory ({detail})",
            hint="nothing was saved by this command; everything recorded before is safe",
        )
    return VaultUnusable(f"the vault on the server could not be used: {detail}")


def engine_for(server: Server) -> Any:
    """An SQLAlchemy engine for `server`'s vault schema, for Alembic's migrations alone."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    url = "postgresql+psycopg://" + server.conninfo.partition("://")[2]
    engine = create_engine(url, poolclass=NullPool, hide_parameters=True)

    def configure(dbapi_connection: Any, _record: object) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f'SET search_path TO "{server.schema}"')
        dbapi_connection.commit()

    event.listen(engine, "connect", configure)
    return engine
