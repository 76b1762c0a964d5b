"""The vault's keys: a new epoch when someone leaves, and the secrets a check reads with."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from safeguarding import crypto, people_rows, slots
from safeguarding.crypto import KeyRing
from safeguarding.db import Case, Db, KeySlot, User
from safeguarding.roster import _meta, _same_name, _user_info
from safeguarding.slots import Keys

if TYPE_CHECKING:
    from safeguarding import integrity


def _all_slots_modern(db: Db) -> bool:
    """Whether every slot still in use has an exchange key, so a re-key can reach them all."""
    behind = db.value(
        "SELECT COUNT(*) FROM key_slots WHERE wrapped_key IS NOT NULL AND exchange_public IS NULL"
    )
    return int(behind) == 0


def _rekey(db: Db, keys: Keys) -> Keys:
    """Start a new epoch: a fresh vault key sealed to every slot in use (and the earlier ones
    kept under it), users' fields re-sealed, and a fresh key for every case that is not
    restricted, so an old slot from a copy opens nothing written from here on.  Call inside
    `storage.writing`, once every slot in use has an exchange key."""
    new = keys.turned()
    meta = _meta(db)
    meta.key_epoch = new.epoch
    meta.previous_keys = slots.seal_previous(new)
    meta.rekey_due = 0
    db.update(meta, "key_epoch", "previous_keys", "rekey_due")
    for user in db.all(User):
        for column in ("name", "role"):
            text = crypto.open_text(
                keys.field_key, getattr(user, column), table="users", row=user.id, column=column
            )
            setattr(
                user,
                column,
                crypto.seal_text(new.field_key, text, table="users", row=user.id, column=column),
            )
        db.update(user, "name", "role")
    for slot in db.all(KeySlot, "wrapped_key IS NOT NULL"):
        slots.give(slot, new.vault_key, new.epoch)
        db.update(slot)
    updates = []
    for case_id, sealed in db.execute(
        "SELECT id, case_key FROM cases WHERE restricted = 0 AND erased_seq IS NULL"
    ).fetchall():
        ring = KeyRing.of(
            crypto.open_sealed(
                keys.field_key, bytes(sealed), table="cases", row=case_id, column="case_key"
            )
        ).turned()
        updates.append(
            (
                crypto.seal(
                    new.field_key, ring.packed(), table="cases", row=case_id, column="case_key"
                ),
                case_id,
            )
        )
    if updates:
        db.connection.executemany("UPDATE cases SET case_key = ? WHERE id = ?", updates)
    people_rows.reseal(db, keys.field_key, new.field_key, meta.lookup_salt)
    return new


def _rekey_or_defer(db: Db, keys: Keys) -> Keys:
    """Re-key now if every slot in use can be reached, else leave it due (done at the unlock
    that gives the last of them its exchange key)."""
    if _all_slots_modern(db):
        return _rekey(db, keys)
    meta = _meta(db)
    meta.rekey_due = 1
    db.update(meta, "rekey_due")
    return keys


def _secrets(
    db: Db, keys: Keys, opener: Callable[[Db, Case], KeyRing | None] | None = None
) -> integrity.Secrets:
    """The keys a check reads with: every case the vault key opens, and each restricted case
    that `opener` (the acting member's) opens."""
    from safeguarding import integrity  # the chronology's checks load only where they run

    users = db.all(User)
    rings: dict[int, KeyRing] = {}
    unreadable = set()
    for case in db.all(Case):
        # An erased case has no keys: `verify` checks its erasure instead (`custody`).
        plain = not case.restricted and case.erased_seq is None
        ring = _vault_ring(keys, case) if plain else None
        if case.restricted and case.erased_seq is None and opener is not None:
            ring = opener(db, case)
        if ring is None:
            unreadable.add(case.id)
        else:
            rings[case.id] = ring
    return integrity.Secrets(
        mac_key=keys.mac_key,
        fields=keys.fields,
        case_keys=rings,
        unreadable=frozenset(unreadable),
        user_ids={_same_name(_user_info(keys, user).name): user.id for user in users},
    )


def _vault_ring(keys: Keys, case: Case) -> KeyRing:
    """A case's keys, wrapped by the vault's current field key (a case that is not restricted)."""
    return KeyRing.of(
        keys.field_opener(case.case_key, table="cases", row=case.id, column="case_key")
    )


def _nothing_signed(db: Db) -> bool:
    return db.value("SELECT seq FROM entries WHERE signature IS NOT NULL LIMIT 1") is None


def _snapshot(db: Db) -> dict[str, Any]:
    """What the entries before signatures left in clear, for the `upgraded` entry to vouch for."""
    return {
        "users": {
            str(user.id): {"created_at": user.created_at, "disabled_at": user.disabled_at}
            for user in db.all(User)
        },
        "cases": {str(case.id): [case.year, case.number] for case in db.all(Case)},
        "slots": slots.facts(*db.all(KeySlot)),
    }
