"""Failed attempts to unlock the vault: recorded, counted to slow guessing, and read back.

Whoever fails to unlock holds no key, so an attempt can be neither signed nor sealed with the
vault key: it is a row of `unlock_attempts`, outside the chronology, with its details (the name
as given, the account, the terminal) sealed to every key slot's X25519 key.  Recording never
stops an unlock or changes its error.  Nothing here may store any part of a secret, or its
length, or print.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from safeguarding import clock, crypto, storage, vouched
from safeguarding.db import Connection, Db, KeySlot, UnlockAttempt, VaultMeta
from safeguarding.errors import Damaged, NotAllowed, SafeguardError
from safeguarding.roster import normalise_name

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey


class Told(Protocol):
    missed: Pending | None


U = TypeVar("U", bound=Told)

PASSPHRASE = "passphrase"  # noqa: S105 (what was tried, never the secret)
RECOVERY_KEY = "recovery key"

#: Failures for one name, since it last unlocked, before each further attempt waits.
FREE_FAILURES = 3
FIRST_WAIT = 1.0
LONGEST_WAIT = 30.0
#: How long recording an attempt waits for another command's write, in milliseconds: a busy
#: vault must not hold up the refusal for the usual busy timeout.
RECORD_BUSY_MS = 1000

#: The wait before checking a secret, in seconds: tests replace it, so that none sleeps.
pause: Callable[[float], None] = time.sleep


def wait_after(failures: int) -> float:
    """How long the next attempt waits, after `failures` failures since the last unlock:
    nothing for the first few, then 1 s, 2 s, 4 s … at most 30 s."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(LONGEST_WAIT, FIRST_WAIT * 2.0 ** min(failures - FREE_FAILURES, 16))


@dataclass(frozen=True)
class Pending:
    """A name's failed attempts since it last unlocked: how many, and the last one's time."""

    name: str
    failures: int
    last_at: datetime | None

    @property
    def wait(self) -> float:
        return wait_after(self.failures)


@dataclass(frozen=True)
class Attempt:
    """One failed attempt as a user reads it back; `name`, `account` and `terminal` are None
    where they were not sealed to this user's key (they had none yet), or did not open."""

    id: int
    at: datetime
    tried: str
    name: str | None
    account: str | None
    terminal: str | None


def _tag(db: Db, name: str) -> bytes:
    meta = db.get_one(VaultMeta, 1)
    return crypto.lookup_tag(meta.lookup_salt, normalise_name(name))


def pending(db: Db, name: str) -> Pending:
    """`name`'s failed attempts since it last unlocked (`UsageError` for a name that cannot
    be one, as unlocking gives)."""
    count, last = db.connection.execute(
        "SELECT count(*), max(at) FROM unlock_attempts WHERE name_tag = ? AND cleared_at IS NULL",
        (_tag(db, name),),
    ).fetchone()
    return Pending(
        normalise_name(name), int(count), None if last is None else clock.from_text(last)
    )


class Watch:
    """What `watching` knows of one unlock: the failures it found, once it succeeded."""

    def __init__(self) -> None:
        self.missed: Pending | None = None

    def tell(self, unlocked: U) -> U:
        """`unlocked`, told the failed attempts its user missed (`missed`)."""
        unlocked.missed = self.missed
        return unlocked


@contextmanager
def watching(connection: Connection, name: str, tried: str) -> Iterator[Watch]:
    """Around the check of one secret for `name`: first wait as its earlier failures ask; a
    `NotAllowed` from the block is recorded as a failed attempt (and raised as it was), and
    success clears the name's failures, kept in `Watch.missed` to be told."""
    watch = Watch()
    before = pending_or_none(connection, name)
    if before is not None and before.wait > 0:
        pause(before.wait)
    try:
        yield watch
    except NotAllowed:
        if before is not None:
            _quietly(connection, lambda db: _record(db, before.name, tried))
        raise
    if before is not None and before.failures:
        watch.missed = before
        _quietly(connection, lambda db: _clear(db, before.name))


def pending_or_none(connection: Connection, name: str) -> Pending | None:
    """None for a name that cannot be a user's (its own error comes when unlocking), or a vault
    whose attempts cannot be read: the unlock goes on as it would without them."""
    try:
        connection.execute("BEGIN")
        try:
            return pending(Db(connection), name)
        finally:
            connection.execute("ROLLBACK")
    except (sqlite3.Error, SafeguardError, LookupError, ValueError):
        return None


def _quietly(connection: Connection, write: Callable[[Db], None]) -> None:
    """Write, or give up without a word: a read-only vault, a busy one, a full disk must not
    change what the unlock says.  Only the write's own failures are swallowed."""
    try:
        waited = storage.busy_timeout_ms(connection)
    except sqlite3.Error:
        return
    try:
        storage.set_busy_timeout_ms(connection, RECORD_BUSY_MS)
        with storage.writing(connection) as db:
            write(db)
    except (sqlite3.Error, OSError, ValueError, SafeguardError):
        pass
    finally:
        with suppress(sqlite3.Error):
            storage.set_busy_timeout_ms(connection, waited)


def _record(db: Db, name: str, tried: str) -> None:
    attempt_id = db.next_id(UnlockAttempt)
    details = json.dumps(
        {"name": name, "account": _account(), "terminal": _terminal()}, ensure_ascii=False
    ).encode("utf-8")
    # Only the slots that hold the vault key (never a disabled user's, nor a staff slot), and
    # only once the chronology vouches for them: a slot put in the file by hand reads nothing.
    try:
        vouched.require(db)
        slots = db.all(
            KeySlot, "exchange_public IS NOT NULL AND wrapped_key IS NOT NULL", order="id"
        )
    except Damaged:
        slots = []  # the attempt is still recorded, its details sealed to no one
    boxes = {
        slot.exchange_public.hex(): crypto.seal_to(
            slot.exchange_public, details, place=_place(attempt_id)
        ).hex()
        for slot in slots
        if slot.exchange_public is not None
    }
    db.insert(
        UnlockAttempt(
            id=attempt_id,
            at=clock.to_text(clock.now()),
            tried=tried,
            name_tag=_tag(db, name),
            details=json.dumps(boxes, sort_keys=True),
        )
    )


def _clear(db: Db, name: str) -> None:
    db.execute(
        "UPDATE unlock_attempts SET cleared_at = ? WHERE name_tag = ? AND cleared_at IS NULL",
        clock.to_text(clock.now()),
        _tag(db, name),
    )


def clear_all(connection: Connection) -> None:
    """Count no failure before the next unlock: for a scratch copy of a backup, whose attempts
    are the vault's when it was backed up, so that checking a backup never waits for them."""
    _quietly(
        connection,
        lambda db: db.execute(
            "UPDATE unlock_attempts SET cleared_at = at WHERE cleared_at IS NULL"
        ).close(),
    )


def _place(attempt_id: int) -> str:
    return f"unlock_attempts/{attempt_id}/details"


def _account() -> str:
    """The operating-system account running safeguard (its effective user, never what the
    environment claims)."""
    import pwd

    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _terminal() -> str | None:
    for stream in (0, 1, 2):
        try:
            return os.ttyname(stream)
        except OSError:
            continue
    return None


def listed(db: Db, exchange: X25519PrivateKey) -> list[Attempt]:
    """Every failed attempt recorded, oldest first, with the details sealed to `exchange`."""
    mine = crypto.public_bytes(exchange).hex()
    found = []
    for row in db.all(UnlockAttempt, order="id"):
        details = _opened(row, mine, exchange)
        found.append(
            Attempt(
                id=row.id,
                at=clock.from_text(row.at),
                tried=row.tried,
                name=_text(details, "name"),
                account=_text(details, "account"),
                terminal=_text(details, "terminal"),
            )
        )
    return found


def _opened(row: UnlockAttempt, mine: str, exchange: X25519PrivateKey) -> dict[str, object]:
    """The details of `row` sealed to `exchange`, or nothing: the table is unsigned, so what
    does not open is shown as unknown rather than stopping the audit."""
    try:
        box = json.loads(row.details).get(mine)
        if not isinstance(box, str):
            return {}
        opened = json.loads(crypto.open_from(exchange, bytes.fromhex(box), place=_place(row.id)))
    except (ValueError, AttributeError, SafeguardError):
        return {}
    return opened if isinstance(opened, dict) else {}


def _text(details: dict[str, object], key: str) -> str | None:
    value = details.get(key)
    return value if isinstance(value, str) else None
