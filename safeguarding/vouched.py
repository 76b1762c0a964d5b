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

from safeguarding.db import Db, KeySlot
from safeguarding.errors import CheckFailed, Damaged


def require(db: Db) -> None:
    """Raise `Damaged` unless every key slot in use is the one the signed chronology records.

    Call in the write transaction, before a key is sealed to any slot's public key."""
    from safeguarding import integrity  # the chronology's checks load only where they run

    # Only the entries about keys are read below, so first that none is missing: one deleted
    # (a passphrase change, with the old slot put back) would leave a gap or a short head.
    entries, last = db.execute("SELECT count(*), coalesce(max(seq), 0) FROM entries").fetchone()
    if not entries == last == db.value("SELECT head_seq FROM vault_meta"):
        raise Damaged(
            "entries are missing from the chronology; no key was sealed",
            summary="entries are missing from its chronology; no key was sealed",
        )
    try:
        recorded = integrity.recorded_slots(db)
    except CheckFailed as failed:
        raise Damaged(
            f"{failed}; no key was sealed",
            summary="its record of keys does not hold; no key was sealed",
        ) from None
    if recorded is None:
        return  # a vault from before signatures: no slot has a key to seal to yet
    for slot in db.all(KeySlot, "wrapped_key IS NOT NULL", order="id"):
        if recorded.get(slot.id) != integrity.slot_fingerprint(slot):
            what = "the recovery slot" if slot.purpose == "recovery" else f"key slot {slot.id}"
            raise Damaged(
                f"{what} is not the one the chronology records: its keys were changed by "
                "hand; no key was sealed to it",
                summary=f"{what} was changed outside the chronology; nothing was sealed to it",
            )
