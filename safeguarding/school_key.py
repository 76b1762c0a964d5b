"""The school's key for receiving a child's file from another school.

An X25519 key pair, made once, the first time a DSL or the headteacher asks for it, and kept
in the chronology as a signed vault event (`school_key_made`): its public key in the entry's
facts, in clear, its private key in the payload, sealed with the vault's field key like every
payload.  `verify` covers it as it covers every entry, and a re-key leaves it readable (the
field keys of earlier epochs are kept).  A vault may come to hold more than one (two made at
once); a package opens with whichever it was sealed to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from safeguarding import chronology, clock, crypto, storage
from safeguarding.db import Db, Entry

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from safeguarding.unlocked import Unlocked

SCHOOL_KEY_MADE = "school_key_made"


@dataclass(frozen=True)
class SchoolKey:
    public: bytes
    made_at: datetime
    seq: int


def current(unlocked: Unlocked) -> SchoolKey:
    """The school's key: the newest made, or a new one (a DSL or the headteacher only), made
    and recorded now."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        found = _made(db)
    if found:
        return _key(found[-1])
    unlocked.require_manager("make the school's key for receiving files")
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        found = _made(db)
        if found:  # made meanwhile, by a colleague
            return _key(found[-1])
        private = crypto.new_exchange_key()
        entry = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=unlocked.keys.fields,
            kind=SCHOOL_KEY_MADE,
            payload={"private": crypto.private_bytes(private).hex()},
            facts={"public": crypto.public_bytes(private).hex()},
        )
    return _key(entry)


def public_keys(db: Db) -> list[bytes]:
    """Every school key this vault has made, newest first: their public halves, which the
    chronology keeps in clear (no passphrase needed to read them)."""
    return [_key(entry).public for entry in reversed(_made(db))]


def private_keys(unlocked: Unlocked, db: Db) -> list[X25519PrivateKey]:
    """Every school key this vault has made, newest first, opened."""
    keys = []
    for entry in reversed(_made(db)):
        payload = chronology.open_payload(unlocked.keys.fields, entry)
        keys.append(crypto.exchange_key_from(bytes.fromhex(str(payload["private"]))))
    return keys


def _made(db: Db) -> list[Entry]:
    return db.all(Entry, "kind = ? AND case_id IS NULL", SCHOOL_KEY_MADE, order="seq")


def _key(entry: Entry) -> SchoolKey:
    public = bytes.fromhex(str(chronology.facts_of(entry)["public"]))
    return SchoolKey(public, clock.from_text(entry.recorded_at), entry.seq)
