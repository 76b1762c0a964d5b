"""A member of staff's own passphrase, changed by them with their own keys alone.

Their slot holds their key pairs and no vault key, so the entry that records the change cannot
be sealed with the field key as other users' are: its payload is sealed with a key of its own,
and that key is sealed, in the entry's facts, to every slot that holds the vault key (each
user's who may open it, and the recovery key's), so that `verify` opens it as any other.  The
key pairs stay the same: what was sealed to them (their concerns) still opens.  Nothing here
prints or prompts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from safeguarding import chronology, crypto, slots, storage, vouched
from safeguarding.concern_checks import PASSPHRASE_CHANGED, SEALED_TO, passphrase_place
from safeguarding.db import Db, KeySlot, User
from safeguarding.errors import NotAllowed
from safeguarding.restricted import RECOVERY
from safeguarding.roster import STAFF_SLOT, _meta, check_passphrase, normalise_name

if TYPE_CHECKING:
    from safeguarding.concerns import Reporter


def change_passphrase(
    who: Reporter, name: str, new_passphrase: str, kdf: crypto.KdfParams | None = None
) -> int:
    """Re-seal `who`'s own key pairs under `new_passphrase` (they are `name`, a member of
    staff), signed and recorded; the entry's number."""
    name = normalise_name(name)
    check_passphrase(name, new_passphrase)
    vault = who.vault
    holder = slots.Holder(who.signer.key, who.exchange)
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        vouched.require(db)
        user = db.get_one(User, who.user_id)
        slot = db.first(KeySlot, "user_id = ?", user.id)
        if user.disabled_at is not None or slot is None or slot.purpose != STAFF_SLOT:
            raise NotAllowed(f"{name} is not an active member of staff; nothing was changed")
        epoch = _meta(db).key_epoch
        slots.fill(slot, new_passphrase, None, epoch, kdf or crypto.DEFAULT_KDF, holder)
        db.update(slot)
        key = crypto.new_key()
        sealed = {
            str(reader): crypto.seal_to(public, key, place=passphrase_place(user.id, reader)).hex()
            for reader, public in _readers(db)
        }
        entry = chronology.append(
            db,
            signer=who.signer,
            payload_key=key,
            kind=PASSPHRASE_CHANGED,
            payload={"user": name},
            facts={"user": user.id, "slots": slots.facts(slot), SEALED_TO: sealed},
        )
    return entry.seq


def _readers(db: Db) -> list[tuple[int, bytes]]:
    """Every slot that holds the vault key, by whose it is (the recovery key's: `RECOVERY`)."""
    found = []
    for slot in db.all(KeySlot, "wrapped_key IS NOT NULL AND exchange_public IS NOT NULL"):
        assert slot.exchange_public is not None
        reader = RECOVERY if slot.purpose == "recovery" else slot.user_id
        if reader is not None:
            found.append((reader, slot.exchange_public))
    return found
