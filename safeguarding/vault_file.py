"""A vault file opened but not unlocked: what anyone may check and read without a key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from safeguarding import chronology, crypto, storage
from safeguarding.db import Connection, Db, Entry, KeySlot, User
from safeguarding.errors import NotAllowed, NotFound, VaultUnusable
from safeguarding.roster import STAFF_ONLY, STAFF_SLOT, _meta, normalise_name
from safeguarding.server import Location

if TYPE_CHECKING:
    from safeguarding import integrity
    from safeguarding.summaries import Progress


@dataclass(frozen=True)
class EntryFacts:
    recorded_at: str
    author_id: int
    signed: bool


class VaultFile:
    """An opened (not yet unlocked) vault file."""

    def __init__(self, path: Location, connection: Connection) -> None:
        #: The vault's file, or its schema on a PostgreSQL server.
        self.path = path
        #: The one connection every transaction of this command runs on.
        self.connection = connection

    @classmethod
    def open(cls, path: Location, busy_timeout: float = storage.DEFAULT_BUSY_TIMEOUT) -> Self:
        """Open an existing vault of the current schema, or raise `VaultUnusable`."""
        connection = storage.open_connection(path, busy_timeout)
        with storage.guarded(path):
            try:
                storage.require_current_schema(connection, path)
            except BaseException:
                connection.close()
                raise
        return cls(path, connection)

    def verify_public(
        self, checkpoints: Iterable[chronology.Checkpoint] = (), progress: Progress | None = None
    ) -> integrity.ChainReport:
        """What anyone can check without a passphrase: the hash chain, every signature, who
        managed users, the clear columns, and that each case's summary was made after its
        last entry.  Raises `CheckFailed` naming the first problem.  `progress`, if given, is
        told how many entries are checked, of how many."""
        from safeguarding import integrity, people_checks, summaries

        with storage.guarded(self.path), storage.reading(self.connection) as db:
            recount = summaries.Recount(chronology.head(db).seq, progress)
            people = people_checks.PeopleWatch()
            watcher = people_checks.both(recount, people)
            report = integrity.verify(db, checkpoints=checkpoints, watcher=watcher)
            recount.check(db, {})
            people.check(db, None, _meta(db).lookup_salt)
            return report

    def entry_facts(self, seq: int) -> EntryFacts:
        """What anyone may read of entry `seq`: when it was recorded, by whom, and whether it
        is signed (an entry from before signatures is not)."""
        with storage.guarded(self.path), storage.reading(self.connection) as db:
            entry = db.get(Entry, seq)
            if entry is None:
                raise NotFound(f"there is no entry {seq} in this vault")
            return EntryFacts(entry.recorded_at, entry.author_id, entry.signature is not None)

    def close(self) -> None:
        self.connection.close()

    def _lookup_user(self, db: Db, name: str) -> User | None:
        tag = crypto.lookup_tag(_meta(db).lookup_salt, normalise_name(name))
        return db.first(User, "name_tag = ?", tag)

    def _find_user(self, db: Db, name: str) -> User:
        """The acting user: someone the vault does not know may not open it (exit 3)."""
        user = self._lookup_user(db, name)
        if user is None:
            raise NotAllowed(
                f"there is no user {name!r} in this vault",
                hint="use --user or SAFEGUARD_USER to say who you are",
            )
        return user

    def _find_target(self, db: Db, name: str) -> User:
        """The user a command acts on, named by the caller: unknown is not found (exit 4)."""
        user = self._lookup_user(db, name)
        if user is None:
            raise NotFound(
                f"no user {name!r} in this vault",
                hint="'safeguard user list' shows the vault's users",
            )
        return user

    def refuse_staff(self, name: str) -> None:
        """Refuse a member of staff anything but their concerns and their own passphrase
        (`NotAllowed`), before a passphrase is asked for or anything is read."""
        if self.is_staff(name):
            raise NotAllowed(f"{normalise_name(name)} is a member of staff: {STAFF_ONLY}")

    def is_staff(self, name: str) -> bool:
        """Whether `name` is a member of staff: their slot says what they are."""
        with storage.guarded(self.path), storage.reading(self.connection) as db:
            user = self._lookup_user(db, name)
            if user is None:
                return False
            slot = db.first(KeySlot, "user_id = ?", user.id)
        return slot is not None and slot.purpose == STAFF_SLOT

    def _user_slot(self, db: Db, user: User) -> KeySlot:
        slot = db.first(KeySlot, "user_id = ?", user.id)
        if slot is None:
            raise VaultUnusable(f"user {user.id} has no key slot", hint="restore from a backup")
        return slot
