"""A new vault in a PostgreSQL schema: the schema migrated, the first user's rows written in
one transaction that stays open until the vault is published.

It plays the part a vault file's temporary name plays (`files.PrivateFile`): until `publish`
nobody can open the vault, so the recovery key is shown first; a command that fails or is
killed before then leaves the schema's tables empty, and the next `init` there clears them.
An existing vault's schema is never touched.
"""

from __future__ import annotations

import sqlite3
from contextlib import suppress
from types import TracebackType

from safeguarding import pg, storage
from safeguarding.errors import UsageError
from safeguarding.server import Server


def vault_tables() -> list[str]:
    """The vault's tables as the models name them, each after the tables its foreign keys
    point at (the order a copy inserts them in)."""
    from sqlmodel import SQLModel

    import safeguarding.models  # noqa: F401  (registers the tables on SQLModel.metadata)

    return [table.name for table in SQLModel.metadata.sorted_tables]


class PendingSchema:
    """The schema of a vault being made (see the module), migrated to `revision`:
    `connection` writes its rows in the transaction `publish` commits."""

    def __init__(self, server: Server, revision: str = "head") -> None:
        self.server = server
        self.revision = revision
        self.published = False
        self.connection = pg.connect(server, storage.DEFAULT_BUSY_TIMEOUT)
        try:
            with storage.guarded(server):
                self._prepare()
        except BaseException:
            self.connection.close()
            raise
        self.connection.hold_commit = True

    def _prepare(self) -> None:
        tables = set(self.connection.tables())
        if tables and not self._leftover(tables):
            raise UsageError(
                f"the schema {self.server.schema!r} already holds tables; nothing was changed",
                hint="a new vault needs an empty schema: give another one with ?schema=NAME",
            )
        if tables:
            self._clear()
        from safeguarding import migrate  # Alembic: only a new vault needs it

        engine = storage.make_engine(self.server)
        try:
            migrate.upgrade(engine, self.revision)
        finally:
            engine.dispose()

    def _leftover(self, tables: set[str]) -> bool:
        """Whether `tables` are what an `init` killed before publishing left: the vault's
        tables, and no vault in them."""
        if not tables <= {"alembic_version", *vault_tables()} or "vault_meta" not in tables:
            return False
        rows = self.connection.execute("SELECT count(*) FROM vault_meta").fetchone()[0]
        return bool(rows == 0)

    def _clear(self) -> None:
        found = set(self.connection.tables())
        self.connection.execute("BEGIN")
        for table in ["alembic_version", *reversed(vault_tables())]:
            if table in found:
                self.connection.execute(f"DROP TABLE {table} CASCADE")
        self.connection.execute("DROP FUNCTION IF EXISTS entries_append_only()")
        self.connection.execute("COMMIT")

    def publish(self) -> None:
        """Commit the vault's rows: from here on it is the vault."""
        self.connection.hold_commit = False
        self.connection.execute("COMMIT")
        self.published = True

    def __enter__(self) -> PendingSchema:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if not self.published:
                with suppress(sqlite3.Error):  # a server gone away rolled it back itself
                    if self.connection.in_transaction:
                        self.connection.execute("ROLLBACK")
                    self._clear()
        finally:
            self.connection.close()
