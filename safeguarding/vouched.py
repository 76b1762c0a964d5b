"""Key slots as the signed chronology vouches for them, checked before a key is sealed to one.

A re-key seals the new vault key to each slot's X25519 public key, and a restricted case seals
its keys to its members' public keys.  Those public keys sit in clear in `key_slots`, where
anyone who can write to the file could put their own.  So before anything is sealed, every
slot in use must be exactly as the chronology last recorded it (its fingerprint), and the
entries that recorded it must carry their authors' signatures, the authors' keys being those
the chronology itself gives them.  Otherwise nothing is sealed: the vault is named damaged.

Only the entries about keys and slots are read (a few per user), not the whole chronology:
`verify` remains the complete check.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from safeguarding import crypto
from safeguarding.chronology import EntryRow
from safeguarding.entry_checks import EntryChecks
from safeguarding.errors import CheckFailed, Damaged
from safeguarding.integrity import _check_signed, _Chronicle, slot_fingerprint
from safeguarding.models import KeySlot

#: Every signed entry that introduces, changes or retires a key or records a slot.
_KEY_ENTRIES = """
SELECT e.seq, e.case_id, e.kind, e.event_at, e.recorded_at, e.author_id, e.payload, e.mac,
       e.facts, e.signature, (SELECT p.mac FROM entries p WHERE p.seq = e.seq - 1)
FROM entries e
WHERE e.signature IS NOT NULL AND e.facts IS NOT NULL
  AND (e.kind = 'user_disabled' OR e.facts LIKE '%"slots"%' OR e.facts LIKE '%signing_key%'
       OR e.facts LIKE '%recovery_key%')
ORDER BY e.seq
"""


def require(session: Session) -> None:
    """Raise `Damaged` unless every key slot in use is the one the signed chronology records.

    Call in the write transaction, before a key is sealed to any slot's public key."""
    state = _Chronicle()
    signatures = EntryChecks(parallel=False, batch=1000, ahead=1)
    try:
        for row in session.connection().exec_driver_sql(_KEY_ENTRIES):
            entry = EntryRow._make(row[:10])
            previous = row[10] if row[10] is not None else crypto.GENESIS_MAC
            _check_signed(entry, bytes(previous), state, signatures)
        signatures.settle()
    except CheckFailed as failed:
        raise Damaged(
            f"{failed}; no key was sealed",
            summary="its record of keys does not hold; no key was sealed",
        ) from None
    if state.signed_from is None:
        return  # a vault from before signatures: no slot has a key to seal to yet
    for slot in session.exec(
        select(KeySlot).where(col(KeySlot.wrapped_key).is_not(None)).order_by(col(KeySlot.id))
    ).all():
        if state.slots.get(slot.id) != slot_fingerprint(slot):
            what = "the recovery slot" if slot.purpose == "recovery" else f"key slot {slot.id}"
            raise Damaged(
                f"{what} is not the one the chronology records: its keys were changed by "
                "hand; no key was sealed to it",
                summary=f"{what} was changed outside the chronology; nothing was sealed to it",
            )
