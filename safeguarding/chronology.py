"""The chronology: one append-only sequence of entries, each signed by its author and chained
by SHA-256, and its verification.

Entries are only ever appended, inside a `BEGIN IMMEDIATE` transaction that also moves the
vault's head; nothing here may update or delete an entry (triggers refuse it anyway).

An entry's signed bytes (format 2), each integer big-endian, each string UTF-8::

    b"SGE2" | seq u64 | case id u64 (0: a vault event) | kind | event_at | recorded_at
           | author id u64 | facts | payload ciphertext | previous entry's hash (32 bytes)

where kind, event_at, recorded_at, facts and the payload are each preceded by their length as
u32.  ``signature = Ed25519(author's key, signed bytes)`` and
``hash = SHA-256(b"SGH2" | signed bytes | signature)``; the hash is stored in the `mac` column
and is what a checkpoint names.  `facts` is canonical JSON (sorted keys, no spaces) of what
anyone may check without a passphrase, or empty.  The first entry's previous hash is 32 zero
bytes.

Entries written before signatures (format 1) are chained by an HMAC keyed from the vault key
over ``b"SGE1" | seq | case id | kind | event_at | recorded_at | author id | payload``; only a
passphrase can check them, and the first signed entry (`upgraded`) carries their head.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safeguarding import clock, crypto
from safeguarding.checkpoint import Checkpoint
from safeguarding.db import Db, Entry, User, VaultMeta
from safeguarding.errors import Damaged, NotAllowed

__all__ = ["Checkpoint", "Signer", "append", "head", "prepare"]

MAGIC = b"SGE1"
SIGNED_MAGIC = b"SGE2"
HASH_MAGIC = b"SGH2"

#: Kinds by which a key holder introduces their own first key (the chronology has none for
#: them yet): the vault's first entry, the seal over entries before signatures, a key issued
#: at a user's first unlock after that upgrade, and the recovery key's at its first use.
SELF_INTRODUCING = frozenset({"vault_created", "upgraded", "key_issued", "recovery_key_issued"})


@dataclass(frozen=True)
class Signer:
    """Who signs what they append: a user, or the recovery key acting for a user."""

    author_id: int
    key: Ed25519PrivateKey = field(repr=False)
    public: bytes
    recovery: bool = False

    @classmethod
    def of(cls, author_id: int, key: Ed25519PrivateKey, *, recovery: bool = False) -> Signer:
        return cls(author_id, key, crypto.public_bytes(key), recovery)


class StoredEntry(Protocol):
    """What an entry holds, as a model row or as a plain row read for verification."""

    @property
    def seq(self) -> int: ...

    @property
    def case_id(self) -> int | None: ...

    @property
    def kind(self) -> str: ...

    @property
    def event_at(self) -> str: ...

    @property
    def recorded_at(self) -> str: ...

    @property
    def author_id(self) -> int: ...

    @property
    def payload(self) -> bytes: ...

    @property
    def mac(self) -> bytes: ...

    @property
    def facts(self) -> str | None: ...

    @property
    def signature(self) -> bytes | None: ...


class EntryRow(NamedTuple):
    """An entry read straight from SQLite, for walks over the whole chronology: many times
    cheaper to make than a model instance."""

    seq: int
    case_id: int | None
    kind: str
    event_at: str
    recorded_at: str
    author_id: int
    payload: bytes
    mac: bytes
    facts: str | None
    signature: bytes | None


def canonical(facts: dict[str, Any] | None) -> str:
    return json.dumps(facts, sort_keys=True, separators=(",", ":")) if facts else ""


def _lp(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def entry_bytes(
    *,
    seq: int,
    case_id: int | None,
    kind: str,
    event_at: str,
    recorded_at: str,
    author_id: int,
    payload: bytes,
) -> bytes:
    return b"".join(
        (
            MAGIC,
            struct.pack(">QQ", seq, case_id or 0),
            _lp(kind.encode()),
            _lp(event_at.encode()),
            _lp(recorded_at.encode()),
            struct.pack(">Q", author_id),
            _lp(payload),
        )
    )


#: The fixed parts of the signed bytes around their variable ones, packed in as few calls as
#: possible: `verify` makes these bytes for every entry in the vault.
_SIGNED_HEAD = struct.Struct(">4sQQI").pack  # magic, seq, case id, length of the kind
_LENGTH = struct.Struct(">I").pack
_AUTHOR = struct.Struct(">QI").pack  # author id, length of the facts


def signed_bytes(entry: StoredEntry, previous: bytes) -> bytes:
    kind, event_at, recorded_at = (
        entry.kind.encode(),
        entry.event_at.encode(),
        entry.recorded_at.encode(),
    )
    facts, payload = (entry.facts or "").encode(), entry.payload
    return b"".join(
        (
            _SIGNED_HEAD(SIGNED_MAGIC, entry.seq, entry.case_id or 0, len(kind)),
            kind,
            _LENGTH(len(event_at)),
            event_at,
            _LENGTH(len(recorded_at)),
            recorded_at,
            _AUTHOR(entry.author_id, len(facts)),
            facts,
            _LENGTH(len(payload)),
            payload,
            previous,
        )
    )


def hash_of(body: bytes, signature: bytes) -> bytes:
    return hashlib.sha256(HASH_MAGIC + body + signature).digest()


def facts_of(entry: StoredEntry) -> dict[str, Any]:
    if not entry.facts:
        return {}
    value = json.loads(entry.facts)
    if not isinstance(value, dict):
        raise ValueError("facts are not an object")
    return value


def mac_of(mac_key: bytes, previous: bytes, entry: StoredEntry) -> bytes:
    return crypto.chain_mac(
        mac_key,
        previous,
        entry_bytes(
            seq=entry.seq,
            case_id=entry.case_id,
            kind=entry.kind,
            event_at=entry.event_at,
            recorded_at=entry.recorded_at,
            author_id=entry.author_id,
            payload=entry.payload,
        ),
    )


PayloadKey = bytes | crypto.KeyRing


def epoch_of(entry: StoredEntry) -> int:
    """The key epoch an entry's payload was sealed in (0 unless its facts name one)."""
    if not entry.facts or '"epoch"' not in entry.facts:
        return 0
    value = facts_of(entry).get("epoch", 0)
    return value if isinstance(value, int) else -1


def key_for(key: PayloadKey, entry: StoredEntry) -> bytes:
    if isinstance(key, bytes):
        return key
    return key.at(epoch_of(entry))


def seal_payload(key: bytes, seq: int, payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return crypto.seal(key, data, table="entries", row=seq, column="payload")


def open_payload(key: PayloadKey | crypto.Opener, entry: StoredEntry) -> dict[str, Any]:
    """An entry's payload, opened with its key (a ring: the key of the entry's epoch), or an
    opener made from it, to open many."""
    if isinstance(key, crypto.KeyRing):
        key = key.at(epoch_of(entry))
    opener = key if isinstance(key, crypto.Opener) else crypto.Opener(key)
    data = opener(entry.payload, table="entries", row=entry.seq, column="payload")
    value = json.loads(data.decode("utf-8", "surrogatepass"))  # as json.loads(data) would
    if not isinstance(value, dict):
        raise crypto.DecryptionError(f"entry {entry.seq} has a payload of the wrong shape")
    return value


def append(
    db: Db,
    *,
    signer: Signer,
    payload_key: PayloadKey,
    kind: str,
    payload: dict[str, Any],
    facts: dict[str, Any] | None = None,
    case_id: int | None = None,
    event_at: datetime | None = None,
    recorded_at: datetime | None = None,
) -> Entry:
    """Append one signed entry and move the head.  Call inside `storage.writing`: the head
    and the author `prepare` read in it are still those it wrote after (one statement each
    fewer than `insert`'s own check, which is for an entry prepared earlier)."""
    entry, meta = _prepared(
        db,
        signer=signer,
        payload_key=payload_key,
        kind=kind,
        payload=payload,
        facts=facts,
        case_id=case_id,
        event_at=event_at,
        recorded_at=recorded_at,
    )
    _write(db, entry, meta)
    return entry


def prepare(
    db: Db,
    *,
    signer: Signer,
    payload_key: PayloadKey,
    kind: str,
    payload: dict[str, Any],
    facts: dict[str, Any] | None = None,
    case_id: int | None = None,
    event_at: datetime | None = None,
    recorded_at: datetime | None = None,
) -> Entry:
    """The entry that would come next after the head as `db` sees it, sealed and signed,
    but not written: `insert` writes it, in a write transaction whose head is still that one.

    The author is checked here, inside the transaction: someone disabled (or re-keyed) while
    their command waited writes nothing.
    """
    return _prepared(
        db,
        signer=signer,
        payload_key=payload_key,
        kind=kind,
        payload=payload,
        facts=facts,
        case_id=case_id,
        event_at=event_at,
        recorded_at=recorded_at,
    )[0]


def _prepared(
    db: Db,
    *,
    signer: Signer,
    payload_key: PayloadKey,
    kind: str,
    payload: dict[str, Any],
    facts: dict[str, Any] | None,
    case_id: int | None,
    event_at: datetime | None,
    recorded_at: datetime | None,
) -> tuple[Entry, VaultMeta]:
    """`prepare`'s entry, and the head it was prepared after."""
    meta = db.get(VaultMeta, 1)
    if meta is None:
        raise Damaged("the vault has no head record", summary="its head record is missing")
    _require_active(db, signer, kind)
    recorded = recorded_at or clock.now()
    seq = meta.head_seq + 1
    facts = dict(facts or {})
    if signer.recovery:
        facts["signed_by"] = "recovery"
    sealing_key = payload_key.current if isinstance(payload_key, crypto.KeyRing) else payload_key
    if isinstance(payload_key, crypto.KeyRing):
        if case_id is None and payload_key.epoch != meta.key_epoch:
            raise NotAllowed(
                "the vault's keys were changed while this command waited (a user was disabled "
                "or a passphrase changed); nothing was saved",
                hint="run the command again",
            )
        if payload_key.epoch:
            facts["epoch"] = payload_key.epoch
    entry = Entry(
        seq=seq,
        case_id=case_id,
        kind=kind,
        event_at=clock.to_text(event_at or recorded),
        recorded_at=clock.to_text(recorded),
        author_id=signer.author_id,
        payload=seal_payload(sealing_key, seq, payload),
        mac=b"",
        facts=canonical(facts) or None,
    )
    body = signed_bytes(entry, meta.head_mac)
    entry.signature = signer.key.sign(body)
    entry.mac = hash_of(body, entry.signature)
    return entry, meta


def _require_active(db: Db, signer: Signer, kind: str) -> None:
    author = db.get(User, signer.author_id)
    if author is None:
        raise Damaged(
            f"user {signer.author_id} is not in the vault", summary="an author is missing"
        )
    if author.disabled_at is not None:
        raise NotAllowed("you were disabled while this command waited; nothing was saved")
    if signer.recovery or kind in SELF_INTRODUCING:
        return
    if author.signing_key != signer.public:
        raise NotAllowed(
            "your signing key was replaced while this command waited (a passphrase reset); "
            "nothing was saved",
            hint="run the command again with your new passphrase",
        )


def insert(db: Db, entry: Entry) -> None:
    """Write a prepared entry and move the head to it.  Call inside `storage.writing`, with the
    head still the one `entry` was prepared after (its seq and MAC say which)."""
    meta = db.get(VaultMeta, 1)
    if meta is None:
        raise Damaged("the vault has no head record", summary="its head record is missing")
    if entry.seq != meta.head_seq + 1:
        raise ValueError(f"entry {entry.seq} was prepared after another head")
    author = db.get(User, entry.author_id)
    if author is not None and author.disabled_at is not None:
        raise NotAllowed("you were disabled while this command waited; nothing was saved")
    _write(db, entry, meta)


def _write(db: Db, entry: Entry, meta: VaultMeta) -> None:
    db.insert(entry)
    meta.head_seq, meta.head_mac = entry.seq, entry.mac
    db.update(meta, "head_seq", "head_mac")


def head(db: Db) -> Checkpoint:
    meta = db.get(VaultMeta, 1)
    if meta is None:
        raise Damaged("the vault has no head record", summary="its head record is missing")
    return Checkpoint(meta.head_seq, meta.head_mac.hex())


def iter_rows(db: Db, batch: int = 1000) -> Iterator[EntryRow]:
    """Every entry in sequence order as plain rows, read straight from the database's cursor a batch
    at a time, so memory stays flat, in the caller's read transaction."""
    cursor = db.stream(
        "SELECT seq, case_id, kind, event_at, recorded_at, author_id, payload, mac, facts, "
        "signature FROM entries ORDER BY seq"
    )
    try:
        while rows := cursor.fetchmany(batch):
            yield from map(EntryRow._make, rows)
    finally:
        cursor.close()
