"""A vault file opened but not unlocked: what anyone may check and read without a key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from sqlalchemy import Engine
from sqlmodel import Session, select

from safeguarding import chronology, crypto, integrity, storage
from safeguarding.errors import NotAllowed, NotFound, VaultUnusable
from safeguarding.models import Entry, KeySlot, User
from safeguarding.roster import _meta, normalise_name


@dataclass(frozen=True)
class EntryFacts:
    recorded_at: str
    author_id: int
    signed: bool


class VaultFile:
    """An opened (not yet unlocked) vault file."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine

    @classmethod
    def open(cls, path: Path, busy_timeout: float = storage.DEFAULT_BUSY_TIMEOUT) -> Self:
        """Open an existing vault of the current schema, or raise `VaultUnusable`."""
        storage.check_is_sqlite(path)
        storage.refuse_network_filesystem(path)
        engine = storage.make_engine(path, busy_timeout)
        try:
            with storage.guarded(path):
                storage.require_current_schema(engine, path)
        except BaseException:
            engine.dispose()
            raise
        return cls(path, engine)

    def verify_public(
        self, checkpoints: Iterable[chronology.Checkpoint] = ()
    ) -> integrity.ChainReport:
        """What anyone can check without a passphrase: the hash chain, every signature, who
        managed users, and the clear columns.  Raises `CheckFailed` naming the first problem."""
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            return integrity.verify(session, checkpoints=checkpoints)

    def entry_facts(self, seq: int) -> EntryFacts:
        """What anyone may read of entry `seq`: when it was recorded, by whom, and whether it
        is signed (an entry from before signatures is not)."""
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            entry = session.get(Entry, seq)
            if entry is None:
                raise NotFound(f"there is no entry {seq} in this vault")
            return EntryFacts(entry.recorded_at, entry.author_id, entry.signature is not None)

    def close(self) -> None:
        self.engine.dispose()

    def _lookup_user(self, session: Session, name: str) -> User | None:
        tag = crypto.lookup_tag(_meta(session).lookup_salt, normalise_name(name))
        return session.exec(select(User).where(User.name_tag == tag)).first()

    def _find_user(self, session: Session, name: str) -> User:
        """The acting user: someone the vault does not know may not open it (exit 3)."""
        user = self._lookup_user(session, name)
        if user is None:
            raise NotAllowed(
                f"there is no user {name!r} in this vault",
                hint="use --user or SAFEGUARD_USER to say who you are",
            )
        return user

    def _find_target(self, session: Session, name: str) -> User:
        """The user a command acts on, named by the caller: unknown is not found (exit 4)."""
        user = self._lookup_user(session, name)
        if user is None:
            raise NotFound(
                f"no user {name!r} in this vault",
                hint="'safeguard user list' shows the vault's users",
            )
        return user

    def _user_slot(self, session: Session, user: User) -> KeySlot:
        slot = session.exec(select(KeySlot).where(KeySlot.user_id == user.id)).first()
        if slot is None:
            raise VaultUnusable(f"user {user.id} has no key slot", hint="restore from a backup")
        return slot
