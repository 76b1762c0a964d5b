"""A vault on a PostgreSQL server copied to a vault file, and a vault file into a server's
schema: the backup format is the same for both engines, a SQLite vault file.

Every row is copied as it is, ciphertext and all: nothing is decrypted, and no key is needed.
The copy from the server reads one REPEATABLE READ snapshot, so it is consistent while others
write; the file it fills is made by the same migrations, to the server's revision.  The copy
to the server fills an empty schema, migrated to the file's revision, in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from safeguarding import migrate, pg, storage
from safeguarding.db import Connection
from safeguarding.errors import VaultUnusable
from safeguarding.pg_init import PendingSchema, vault_tables
from safeguarding.server import Server

BATCH = 1000
Progress = Callable[[int, int], None]


def _columns(connection: pg.PgConnection, table: str) -> list[str]:
    rows = connection.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        (connection.server.schema, table),
    ).fetchall()
    return [str(row[0]) for row in rows]


def _revision_of(connection: Connection, where: object, outcome: str) -> str:
    revision = storage.read_revision(connection)
    if revision is None:
        raise VaultUnusable(f"{where} is not a safeguard vault; {outcome}")
    if revision not in storage.KNOWN_REVISIONS:
        raise VaultUnusable(
            f"the vault's schema ({revision}) is newer than this safeguard understands; {outcome}",
            hint="use the newer safeguard that last wrote it",
        )
    return revision


def copy_from_server(
    server: Server, temp: Path, busy_timeout: float, progress: Progress | None = None
) -> str:
    """Copy the vault on `server` into the new, empty vault file `temp`; its revision."""
    connection = pg.connect(server, busy_timeout)
    with closing(connection):
        connection.begin_reading()  # one snapshot for every table
        revision = _revision_of(connection, server, "no backup was written")
        tables = [t for t in connection.tables() if t != "alembic_version"]
        total = sum(
            int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in tables
        )
        engine = storage.make_engine(temp)
        try:
            migrate.upgrade(engine, revision)
        finally:
            engine.dispose()
        done = 0
        with closing(sqlite3.connect(temp, isolation_level=None)) as copy:
            copy.execute("BEGIN")
            for table in tables:
                names = _columns(connection, table)
                cursor = connection.stream(f"SELECT {', '.join(names)} FROM {table}")
                insert = (
                    f"INSERT INTO {table} ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})"
                )
                with cursor:
                    while rows := cursor.fetchmany(BATCH):
                        copy.executemany(insert, rows)
                        done += len(rows)
                        if progress is not None:
                            progress(done, total)
            copy.execute("COMMIT")
        connection.execute("COMMIT")
    return revision


def copy_to_server(
    file: Path, server: Server, before_commit: Callable[[], None] | None = None
) -> int:
    """Load the vault file `file` into `server`'s schema, which must be empty; how many
    entries it holds.  Nothing stays in the schema unless the whole copy is committed, after
    `before_commit` (which may raise to refuse it)."""
    with closing(sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)) as source:
        source.execute("BEGIN")
        revision = _revision_of(source, file, "nothing was restored")
        tables = [
            str(row[0])
            for row in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT IN ('alembic_version') AND name NOT LIKE 'sqlite_%'"
            )
        ]
        with PendingSchema(server, revision) as pending:
            target = pending.connection
            target.execute("BEGIN")
            for table in _in_key_order(tables):
                cursor = source.execute(f"SELECT * FROM {table}")
                names = [column[0] for column in cursor.description]
                insert = (
                    f"INSERT INTO {table} ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})"
                )
                while rows := cursor.fetchmany(BATCH):
                    target.executemany(insert, rows)
            entries = int(target.execute("SELECT count(*) FROM entries").fetchone()[0])
            if before_commit is not None:
                before_commit()
            pending.publish()
        source.execute("ROLLBACK")
    return entries


def _in_key_order(tables: list[str]) -> list[str]:
    """`tables`, each after those its foreign keys point at."""
    known = [t for t in vault_tables() if t in tables]
    return known + sorted(t for t in tables if t not in known)
