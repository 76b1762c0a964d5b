"""The chronology: one append-only, HMAC-chained sequence of entries, and its verification.

Entries are only ever appended, inside a `BEGIN IMMEDIATE` transaction that also moves the
vault's head; nothing here may update or delete an entry (triggers refuse it anyway).

The bytes an entry's MAC covers (version 1), each integer big-endian, each string UTF-8::

    b"SGE1" | seq u64 | case id u64 (0: a vault event) | kind | event_at | recorded_at
           | author id u64 | payload ciphertext

where kind, event_at, recorded_at and the payload are each preceded by their length as u32.
"""

from __future__ import annotations

import hmac
import json
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from safeguarding import clock, crypto
from safeguarding.checkpoint import Checkpoint
from safeguarding.errors import CheckFailed, Damaged
from safeguarding.models import Entry, VaultMeta

__all__ = ["Checkpoint", "append", "head", "verify_chain"]

MAGIC = b"SGE1"


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


def mac_of(mac_key: bytes, previous: bytes, entry: Entry) -> bytes:
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


def payload_key_for(case_id: int | None, field_key: bytes, case_keys: dict[int, bytes]) -> bytes:
    return field_key if case_id is None else case_keys[case_id]


def seal_payload(key: bytes, seq: int, payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return crypto.seal(key, data, table="entries", row=seq, column="payload")


def open_payload(key: bytes, entry: Entry) -> dict[str, Any]:
    data = crypto.open_sealed(key, entry.payload, table="entries", row=entry.seq, column="payload")
    value = json.loads(data)
    if not isinstance(value, dict):
        raise crypto.DecryptionError(f"entry {entry.seq} has a payload of the wrong shape")
    return value


def append(
    session: Session,
    *,
    mac_key: bytes,
    payload_key: bytes,
    kind: str,
    author_id: int,
    payload: dict[str, Any],
    case_id: int | None = None,
    event_at: datetime | None = None,
    recorded_at: datetime | None = None,
) -> Entry:
    """Append one entry and move the head.  Call inside `storage.writing`."""
    entry = prepare(
        session,
        mac_key=mac_key,
        payload_key=payload_key,
        kind=kind,
        author_id=author_id,
        payload=payload,
        case_id=case_id,
        event_at=event_at,
        recorded_at=recorded_at,
    )
    insert(session, entry)
    return entry


def prepare(
    session: Session,
    *,
    mac_key: bytes,
    payload_key: bytes,
    kind: str,
    author_id: int,
    payload: dict[str, Any],
    case_id: int | None = None,
    event_at: datetime | None = None,
    recorded_at: datetime | None = None,
) -> Entry:
    """The entry that would come next after the head as `session` sees it, sealed and MAC'd,
    but not written: `insert` writes it, in a write transaction whose head is still that one."""
    meta = session.get(VaultMeta, 1)
    if meta is None:
        raise Damaged("the vault has no head record", summary="its head record is missing")
    recorded = recorded_at or clock.now()
    seq = meta.head_seq + 1
    entry = Entry(
        seq=seq,
        case_id=case_id,
        kind=kind,
        event_at=clock.to_text(event_at or recorded),
        recorded_at=clock.to_text(recorded),
        author_id=author_id,
        payload=seal_payload(payload_key, seq, payload),
        mac=b"",
    )
    entry.mac = mac_of(mac_key, meta.head_mac, entry)
    return entry


def insert(session: Session, entry: Entry) -> None:
    """Write a prepared entry and move the head to it.  Call inside `storage.writing`, with the
    head still the one `entry` was prepared after (its seq and MAC say which)."""
    meta = session.get(VaultMeta, 1)
    if meta is None:
        raise Damaged("the vault has no head record", summary="its head record is missing")
    if entry.seq != meta.head_seq + 1:
        raise ValueError(f"entry {entry.seq} was prepared after another head")
    session.add(entry)
    meta.head_seq, meta.head_mac = entry.seq, entry.mac
    session.add(meta)
    session.flush()


def head(session: Session) -> Checkpoint:
    meta = session.get(VaultMeta, 1)
    if meta is None:
        raise Damaged("the vault has no head record", summary="its head record is missing")
    return Checkpoint(meta.head_seq, meta.head_mac.hex())


def iter_entries(session: Session, batch: int = 2000) -> Iterator[Entry]:
    """Every entry in sequence order, read in batches so memory stays flat."""
    after = 0
    while True:
        rows = session.exec(
            select(Entry).where(col(Entry.seq) > after).order_by(col(Entry.seq)).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: Checkpoint


def verify_chain(
    session: Session,
    *,
    mac_key: bytes,
    field_key: bytes,
    case_keys: dict[int, bytes],
    checkpoints: Iterable[Checkpoint] = (),
) -> ChainReport:
    """Recompute every MAC, decrypt every payload, and compare with the head and checkpoints.

    Raises `CheckFailed` naming the first entry that was edited, removed, reordered or forged.
    """
    wanted = {cp.seq: cp for cp in checkpoints}
    seen: dict[int, bytes] = {}
    previous = crypto.GENESIS_MAC
    expected = 1
    for entry in iter_entries(session):
        if entry.seq != expected:
            missing = (
                f"entry {expected} is missing"
                if entry.seq == expected + 1
                else f"entries {expected} to {entry.seq - 1} are missing"
            )
            raise CheckFailed(f"{missing}: the chronology has been cut", hint=_RESTORE_HINT)
        mac = mac_of(mac_key, previous, entry)
        if not hmac.compare_digest(mac, entry.mac):
            raise CheckFailed(
                f"entry {entry.seq} has been altered, reordered or forged (its MAC does not match)",
                hint=_RESTORE_HINT,
            )
        if entry.case_id is not None and entry.case_id not in case_keys:
            raise CheckFailed(f"entry {entry.seq} belongs to a case the vault does not hold")
        try:
            open_payload(payload_key_for(entry.case_id, field_key, case_keys), entry)
        except crypto.DecryptionError:
            raise CheckFailed(
                f"entry {entry.seq} does not decrypt: its payload was altered or moved",
                hint=_RESTORE_HINT,
            ) from None
        if entry.seq in wanted:
            seen[entry.seq] = mac
        previous, expected = mac, expected + 1

    last = expected - 1
    recorded_head = head(session)
    if recorded_head.seq > last:
        missing = (
            f"entry {last + 1} is missing"
            if recorded_head.seq == last + 1
            else f"entries {last + 1} to {recorded_head.seq} are missing"
        )
        raise CheckFailed(f"{missing}: the chronology's tail was removed", hint=_RESTORE_HINT)
    if recorded_head.seq < last or not recorded_head.matches(previous):
        raise CheckFailed(
            f"the vault's head ({recorded_head.seq}) does not match its last entry ({last})",
            hint=_RESTORE_HINT,
        )
    for seq in sorted(wanted):
        checkpoint = wanted[seq]
        if seq > last:
            raise CheckFailed(
                f"entry {seq} from checkpoint {seq}:{checkpoint.mac_hex[:16]} is missing: the "
                f"vault has been rolled back to entry {last}",
                hint=_RESTORE_HINT,
            )
        if not checkpoint.matches(seen[seq]):
            raise CheckFailed(
                f"entry {seq} does not match checkpoint {seq}:{checkpoint.mac_hex[:16]}: the "
                "chronology was rewritten after it",
                hint=_RESTORE_HINT,
            )
    return ChainReport(entries=last, head=Checkpoint(last, previous.hex()))


_RESTORE_HINT = "keep this vault as evidence; restore the newest backup that verifies"
