"""The vault's tables as plain rows, and the reads and writes of one transaction.

The library reads and writes the vault through this module, with Python's own `sqlite3` (or,
for a vault on a PostgreSQL server, `safeguarding.pg`'s connection, which takes the same SQL):
no ORM loads on a command's path, so a `note` starts in the time its work takes.
`safeguarding.models` holds the same tables as SQLModel classes, the schema Alembic migrates;
tests/test_migrations.py checks that the two agree column for column.

Columns typed `bytes` hold ciphertext (see `safeguarding.crypto`), MACs, hashes and salts.
Nothing here may hold a name, a text or a category in clear.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Protocol, TypeVar


class Cursor(Protocol):
    """The rows a statement gave, as both engines' cursors give them."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ..., /) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...

    def close(self) -> None: ...


class Connection(Protocol):
    """A connection to the vault: SQLite's, or `pg.PgConnection` (the same SQL, `?`
    placeholders, transactions begun and ended by `storage`)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...


class Row:
    """A row of one table: `TABLE` names it, `KEY` its primary key's columns, and the
    dataclass's fields its columns, in the order they are selected."""

    TABLE: ClassVar[str]
    KEY: ClassVar[tuple[str, ...]] = ("id",)


R = TypeVar("R", bound=Row)

_COLUMNS: dict[type[Row], tuple[str, ...]] = {}


def columns(table: type[Row]) -> tuple[str, ...]:
    """A table's columns, as its row class lists them."""
    found = _COLUMNS.get(table)
    if found is None:
        found = _COLUMNS[table] = tuple(f.name for f in fields(table))  # type: ignore[arg-type]
    return found


@dataclass(slots=True)
class VaultMeta(Row):
    """One row: the vault's format, its name-lookup salt and the chronology head."""

    TABLE: ClassVar[str] = "vault_meta"

    id: int
    format: int
    created_at: str
    lookup_salt: bytes
    head_seq: int
    head_mac: bytes
    # The vault key's epoch (one more at every re-key), the keys of earlier epochs sealed under
    # the current field key, and whether a re-key waits for every slot to have an X25519 key.
    key_epoch: int = 0
    previous_keys: bytes | None = None
    rekey_due: int = 0


@dataclass(slots=True)
class User(Row):
    TABLE: ClassVar[str] = "users"

    id: int
    name_tag: bytes
    name: bytes
    role: bytes
    created_at: str
    disabled_at: str | None = None
    # The user's Ed25519 public key, cached from the chronology (which `verify` checks it
    # against); None until they are issued one.
    signing_key: bytes | None = None


@dataclass(slots=True)
class KeySlot(Row):
    """The vault key wrapped for one user's passphrase, or for the recovery key.

    A disabled user's slot loses its wrapped key, so the passphrase no longer opens the vault.
    """

    TABLE: ClassVar[str] = "key_slots"

    id: int
    purpose: str  # "passphrase" or "recovery"
    user_id: int | None
    kdf: str
    kdf_iterations: int
    kdf_memory_kib: int
    kdf_lanes: int
    salt: bytes
    updated_at: str
    wrapped_key: bytes | None = None
    # The slot's Ed25519 private key, sealed under the same passphrase-derived key.
    signing_key: bytes | None = None
    # The slot's X25519 key: private sealed like the signing key, public in clear (and in the
    # chronology).  Once a slot has one, `wrapped_key` is the vault key sealed to it.
    exchange_key: bytes | None = None
    exchange_public: bytes | None = None


@dataclass(slots=True)
class Case(Row):
    """A case's reference number and its keys (every epoch's), wrapped by the vault's field key;
    a restricted case's are not (empty here): they are sealed to each member in `case_access`."""

    TABLE: ClassVar[str] = "cases"

    id: int
    year: int
    number: int
    opened_at: str
    case_key: bytes
    # Cached from the case's chronology (which `verify` checks it against): "open" or "closed".
    status: str = "open"
    closed_at: str | None = None
    # Cached from the chronology: whether only its members can read it, and whether a member
    # left and its next entry must start a new key epoch.
    restricted: int = 0
    rekey_due: int = 0
    # Cached from the chronology: the case's `erased` entry (its keys are gone, every copy),
    # and the `hold` entry in force on it (none may erase it while it is).
    erased_seq: int | None = None
    held_seq: int | None = None


@dataclass(slots=True)
class CaseAccess(Row):
    """A restricted case's keys sealed to one member's X25519 key (holder: their user id), or to
    the recovery key's (holder 0).  No sealed box yet: a member whose key is still to come."""

    TABLE: ClassVar[str] = "case_access"
    KEY: ClassVar[tuple[str, ...]] = ("case_id", "holder")

    case_id: int
    holder: int
    sealed: bytes | None = None


@dataclass(slots=True)
class Entry(Row):
    """One link of the append-only chronology; triggers refuse UPDATE and DELETE."""

    TABLE: ClassVar[str] = "entries"
    KEY: ClassVar[tuple[str, ...]] = ("seq",)

    seq: int
    case_id: int | None
    kind: str
    event_at: str
    recorded_at: str
    author_id: int
    payload: bytes
    # Before signatures: the chain MAC.  Since: the entry's SHA-256 hash (see chronology).
    mac: bytes
    # What anyone may read and check without a passphrase (public keys, slot fingerprints, a
    # case's reference), as signed JSON; None before signatures.
    facts: str | None = None
    signature: bytes | None = None


@dataclass(slots=True)
class UnlockAttempt(Row):
    """A failed attempt to unlock: unsigned, outside the chronology (see `attempts`)."""

    TABLE: ClassVar[str] = "unlock_attempts"

    id: int
    at: str
    tried: str  # "passphrase" or "recovery key"
    name_tag: bytes
    # The name as given, the account and the terminal, sealed to each key slot's X25519 key.
    details: str
    cleared_at: str | None = None


@dataclass(slots=True)
class CaseSummary(Row):
    """Where a case stands, as its entries leave it, sealed with the case's key (of epoch
    `epoch`) and written in the transaction of each of its entries: derived data, which
    `verify` checks against the chronology.  `seq` is the case's last entry (any kind)."""

    TABLE: ClassVar[str] = "case_summaries"
    KEY: ClassVar[tuple[str, ...]] = ("case_id",)

    case_id: int
    seq: int
    epoch: int
    summary: bytes


@dataclass(slots=True)
class Concern(Row):
    """A concern a member of staff reported: the chronology entry that holds it (`seq`, its
    payload sealed with the concern's own key), and its state, cached from the chronology
    (which `verify` checks it against): first read by the safeguarding team, and triaged."""

    TABLE: ClassVar[str] = "concerns"

    id: int
    seq: int
    author_id: int
    recorded_at: str
    seen_at: str | None = None
    triaged_seq: int | None = None
    outcome: str | None = None  # "case" or "no_action", once triaged


@dataclass(slots=True)
class ConcernKey(Row):
    """A concern's key sealed to one holder's X25519 key: a reader's or its author's user id,
    or 0 for the recovery key."""

    TABLE: ClassVar[str] = "concern_keys"
    KEY: ClassVar[tuple[str, ...]] = ("concern_id", "holder")

    concern_id: int
    holder: int
    sealed: bytes


@dataclass(slots=True)
class Person(Row):
    """A person a case may be about: the `person_added` entry that records them (`seq`), their
    fields sealed with the field key (an absent year group or UPN sealed as empty text), and
    their name's lookup tag (not unique: two children may share a name)."""

    TABLE: ClassVar[str] = "people"

    id: int
    seq: int
    name_tag: bytes
    name: bytes
    dob: bytes
    year_group: bytes
    upn: bytes
    role: bytes
    created_at: str


@dataclass(slots=True)
class PersonLink(Row):
    """Two people linked (`relation`, sealed: sibling, parent, carer, other), as the
    `person_linked` entry `seq` records it."""

    TABLE: ClassVar[str] = "person_links"

    id: int
    seq: int
    person_a: int
    person_b: int
    relation: bytes


TABLES: tuple[type[Row], ...] = (
    VaultMeta,
    User,
    KeySlot,
    Case,
    CaseAccess,
    Entry,
    UnlockAttempt,
    CaseSummary,
    Concern,
    ConcernKey,
    Person,
    PersonLink,
)


class Db:
    """The reads and writes of one transaction on the vault's connection (see
    `storage.reading` and `storage.writing`).  `where` and `order` are SQL written here, in
    the library, never text from a user; values always go as parameters."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        # The head record as this transaction last read it, until it writes anything: many
        # steps of one command read it, and nothing else may change it meanwhile (a write
        # holds the vault; a read is one snapshot).
        self._meta: VaultMeta | None = None

    def _select(self, table: type[Row], where: str, order: str) -> str:
        sql = f"SELECT {', '.join(columns(table))} FROM {table.TABLE}"
        if where:
            sql += f" WHERE {where}"
        if order:
            sql += f" ORDER BY {order}"
        return sql

    def all(self, table: type[R], where: str = "", *params: Any, order: str = "") -> list[R]:
        """Every row of `table` that `where` selects, in `order` (SQL, or none)."""
        rows = self.connection.execute(self._select(table, where, order), params).fetchall()
        return [table(*row) for row in rows]

    def first(self, table: type[R], where: str = "", *params: Any, order: str = "") -> R | None:
        row = self.connection.execute(
            self._select(table, where, order) + " LIMIT 1", params
        ).fetchone()
        return None if row is None else table(*row)

    def get(self, table: type[R], *key: Any) -> R | None:
        """The row whose primary key is `key`, or None."""
        if table is VaultMeta and self._meta is not None and key == (self._meta.id,):
            return replace(self._meta)  # type: ignore[return-value]
        found = self.first(table, " AND ".join(f"{name} = ?" for name in table.KEY), *key)
        if isinstance(found, VaultMeta):
            self._meta = replace(found)
        return found

    def get_one(self, table: type[R], *key: Any) -> R:
        found = self.get(table, *key)
        if found is None:
            raise LookupError(f"no row {key} in {table.TABLE}")
        return found

    def value(self, sql: str, *params: Any) -> Any:
        """The first column of the first row `sql` gives, or None."""
        row = self.connection.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def values(self, sql: str, *params: Any) -> list[Any]:
        """The first column of every row `sql` gives."""
        return [row[0] for row in self.connection.execute(sql, params).fetchall()]

    def execute(self, sql: str, *params: Any) -> Cursor:
        self._meta = None  # (it may write)
        cursor: Cursor = self.connection.execute(sql, params)
        return cursor

    def stream(self, sql: str) -> Cursor:
        """The rows of `sql`, read as they are fetched: SQLite's cursor does, and on a server
        a cursor of the server's own (see `pg.PgConnection.stream`)."""
        stream = getattr(self.connection, "stream", None)
        cursor: Cursor = stream(sql) if stream is not None else self.connection.execute(sql)
        return cursor

    def next_id(self, table: type[Row], column: str = "id", where: str = "", *params: Any) -> int:
        """One more than the largest `column` of `table` (among the rows `where` selects)."""
        sql = f"SELECT coalesce(max({column}), 0) FROM {table.TABLE}"
        return int(self.value(sql + (f" WHERE {where}" if where else ""), *params)) + 1

    def _write(self, sql: str, parameters: list[Any]) -> None:
        """A statement whose result is not read: a server's connection sends it with the
        transaction's next statement (see `pg.PgConnection.write`)."""
        self._meta = None
        write = getattr(self.connection, "write", None)
        if write is None:
            self.connection.execute(sql, parameters)
        else:
            write(sql, parameters)

    def insert(self, row: Row) -> None:
        names = columns(type(row))
        self._write(
            f"INSERT INTO {row.TABLE} ({', '.join(names)}) "
            f"VALUES ({', '.join('?' for _ in names)})",
            [getattr(row, name) for name in names],
        )

    def update(self, row: Row, *changed: str) -> None:
        """Write `changed` columns of `row` (every column but its key, if none is named)."""
        names = changed or tuple(c for c in columns(type(row)) if c not in row.KEY)
        self._write(
            f"UPDATE {row.TABLE} SET {', '.join(f'{n} = ?' for n in names)} "
            f"WHERE {' AND '.join(f'{k} = ?' for k in row.KEY)}",
            [*(getattr(row, n) for n in names), *(getattr(row, k) for k in row.KEY)],
        )

    def upsert(self, row: Row) -> None:
        """Insert `row`, or write every column of the row already under its key: one
        statement, the upsert on the table's primary key (SQLite's and PostgreSQL's alike)."""
        names = columns(type(row))
        rest = [n for n in names if n not in row.KEY]
        then = f"UPDATE SET {', '.join(f'{n} = excluded.{n}' for n in rest)}" if rest else "NOTHING"
        self._write(
            f"INSERT INTO {row.TABLE} ({', '.join(names)}) "
            f"VALUES ({', '.join('?' for _ in names)}) "
            f"ON CONFLICT ({', '.join(row.KEY)}) DO {then}",
            [getattr(row, name) for name in names],
        )

    def delete(self, row: Row) -> None:
        self._write(
            f"DELETE FROM {row.TABLE} WHERE {' AND '.join(f'{k} = ?' for k in row.KEY)}",
            [getattr(row, k) for k in row.KEY],
        )
