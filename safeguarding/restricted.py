"""Restricted cases: a case whose keys are sealed to its members and the recovery key alone.

An allegation about a member of staff is seen only by the case manager and the DSL handling it
(KCSIE Part 4).  Such a case's keys (every epoch's, as a ring) are never wrapped by the vault
key: `case_access` holds one sealed box per member's X25519 key, and one for the recovery key's
(holder 0), so no case is lost with its last member.  A member who leaves (revoked, disabled,
or a passphrase reset by someone who could not re-seal for them) is removed, and the case's next
entry starts a new epoch that only the remaining holders can open.

Nothing here prints, and nothing here decides who may do what beyond the rules of membership.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from safeguarding import chronology, crypto
from safeguarding.crypto import KeyRing
from safeguarding.db import Case, CaseAccess, Db, Entry, KeySlot
from safeguarding.errors import NotAllowed

#: The holder id of the recovery key's sealed box.
RECOVERY = 0
#: Roles of the case manager: the headteacher, or the chair of governors when the allegation
#: is about the headteacher.
HEAD, CHAIR = "head", "chair"


def same_name(name: str) -> str:
    """A name as compared: NFKC, case-folded, its spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def box_place(case_id: int, holder: int) -> str:
    return f"case={case_id};holder={holder}"


def publics(db: Db) -> dict[int, bytes]:
    """Each holder's X25519 public key, from the slots in use: a user's id, or `RECOVERY`."""
    found: dict[int, bytes] = {}
    for slot in db.all(KeySlot, "wrapped_key IS NOT NULL AND exchange_public IS NOT NULL"):
        assert slot.exchange_public is not None
        holder = RECOVERY if slot.purpose == "recovery" else slot.user_id
        if holder is not None:
            found[holder] = slot.exchange_public
    return found


def seal(db: Db, case_id: int, ring: KeyRing, holders: Iterable[int]) -> None:
    """Seal `ring` to each of `holders`; one with no exchange key yet waits, unsealed, for the
    next member who writes to the case."""
    keys = publics(db)
    for holder in holders:
        row = db.get(CaseAccess, case_id, holder) or CaseAccess(case_id=case_id, holder=holder)
        public = keys.get(holder)
        row.sealed = (
            None
            if public is None
            else crypto.seal_to(public, ring.packed(), place=box_place(case_id, holder))
        )
        db.upsert(row)


def open_ring(
    db: Db, case_id: int, holder: int, exchange: X25519PrivateKey | None
) -> KeyRing | None:
    """The case's keys from `holder`'s sealed box, or None if they hold none."""
    row = db.get(CaseAccess, case_id, holder)
    if row is None or row.sealed is None or exchange is None:
        return None
    return KeyRing.of(crypto.open_from(exchange, row.sealed, place=box_place(case_id, holder)))


def holds(db: Db, case_id: int, holder: int) -> bool:
    row = db.get(CaseAccess, case_id, holder)
    return row is not None and row.sealed is not None


def holders(db: Db, case_id: int) -> list[int]:
    return [
        int(h)
        for h in db.values(
            "SELECT holder FROM case_access WHERE case_id = ? ORDER BY holder", case_id
        )
    ]


def members(db: Db, case_id: int) -> list[int]:
    """The users who are members of a restricted case (the recovery key is not one)."""
    return [holder for holder in holders(db, case_id) if holder != RECOVERY]


def settle(db: Db, case: Case, ring: KeyRing, vouch: Callable[[Db], None]) -> KeyRing:
    """Before a member writes: start the new epoch a departure left due, and seal the keys to
    any member still waiting for them, once `vouch` has passed the slots they are sealed to.
    Returns the ring to write with."""
    everyone = holders(db, case.id)
    if case.rekey_due:
        vouch(db)
        ring = ring.turned()
        case.rekey_due = 0
        db.update(case, "rekey_due")
        seal(db, case.id, ring, everyone)
        return ring
    keys = publics(db)
    waiting = [holder for holder in everyone if not holds(db, case.id, holder) and holder in keys]
    if waiting:
        vouch(db)
        seal(db, case.id, ring, waiting)
    return ring


def drop(db: Db, case_id: int, holder: int) -> None:
    row = db.get(CaseAccess, case_id, holder)
    if row is not None:
        db.delete(row)


def remove(db: Db, user_id: int) -> list[int]:
    """Take a user out of every restricted case (disabled): each case's next entry starts a new
    epoch.  Returns the cases' ids."""
    left = []
    for row in db.all(CaseAccess, "holder = ?", user_id):
        case = db.get_one(Case, row.case_id)
        case.rekey_due = 1
        db.update(case, "rekey_due")
        db.delete(row)
        left.append(row.case_id)
    return left


def reseal_for(
    db: Db,
    user_id: int,
    opener: Callable[[Db, Case], KeyRing | None],
    *,
    own: bool,
) -> None:
    """A user has a new exchange key (a new passphrase): in each restricted case they belong
    to, start a new epoch sealed to every holder, with `opener` (the acting user's keys).

    A user changing their own passphrase while still waiting for a case's keys stays waiting
    (the next member to write seals the keys to their new key).  Anyone else resetting it must
    open every such case: a reset by someone who is not a member (who now knows the passphrase,
    and might be the subject of the allegation) is refused, before anything changes."""
    rows = db.all(CaseAccess, "holder = ?", user_id)
    rings = {row.case_id: opener(db, db.get_one(Case, row.case_id)) for row in rows}
    if not own and any(ring is None for ring in rings.values()):
        raise NotAllowed(
            "this user is a member of a restricted case you are not a member of, and a reset "
            "by you would let you read it; nothing was changed",
            hint="ask a member of that case to reset it, or use the recovery key "
            "('safeguard user passwd NAME --recovery')",
        )
    for case_id, ring in rings.items():
        if ring is None:
            continue  # waiting for the keys: sealed to the new key at the next member's entry
        case = db.get_one(Case, case_id)
        case.rekey_due = 0
        db.update(case, "rekey_due")
        seal(db, case_id, ring.turned(), holders(db, case_id))


def unattended(db: Db, case_ids: Iterable[int]) -> int:
    """How many of these restricted cases have no member left: only the recovery key opens
    them."""
    return sum(1 for case_id in set(case_ids) if not members(db, case_id))


@dataclass(frozen=True)
class Person:
    """A user as membership rules see them."""

    id: int
    name: str
    role: str
    active: bool


def subjects_of(payload: dict[str, Any]) -> set[str]:
    return {same_name(str(s.get("name", ""))) for s in payload.get("subjects", [])}


def subject_users(people: Sequence[Person], subjects: Collection[str]) -> set[int]:
    """The users named as a subject of the allegation."""
    return {person.id for person in people if same_name(person.name) in subjects}


def default_members(
    people: Sequence[Person], recorder: int, subjects: Collection[str]
) -> list[int]:
    """Who a restricted case is sealed to: the recorder and the case manager (every active
    headteacher, or the chair of governors when a headteacher is a subject), never a subject."""
    named = subject_users(people, subjects)
    active = [person for person in people if person.active and person.id not in named]
    role = manager_role(people, subjects)
    chosen = [recorder] if recorder not in named else []
    chosen += [p.id for p in active if p.role == role and p.id not in chosen]
    return chosen


def manager_role(people: Sequence[Person], subjects: Collection[str]) -> str:
    """Who manages a restricted case about `subjects`: the headteacher, or the chair of
    governors when a headteacher is a subject."""
    named = subject_users(people, subjects)
    return CHAIR if any(p.role == HEAD for p in people if p.id in named) else HEAD


def restrict_existing(
    db: Db,
    field_key: bytes,
    people: Sequence[Person],
    allegations: Collection[str],
) -> dict[int, list[int]]:
    """At the upgrade's re-key: every case in an allegation category becomes restricted to its
    recorder and case manager.  Returns each such case's members."""
    done: dict[int, list[int]] = {}
    for case in db.all(Case, "restricted = 0"):
        ring = KeyRing.of(
            crypto.open_sealed(
                field_key, case.case_key, table="cases", row=case.id, column="case_key"
            )
        )
        disclosure = db.first(Entry, "case_id = ? AND kind = 'disclosure'", case.id, order="seq")
        if disclosure is None:
            continue
        payload = chronology.open_payload(ring, disclosure)
        if str(payload.get("category")) not in allegations:
            continue
        chosen = default_members(people, disclosure.author_id, subjects_of(payload))
        case.case_key = b""
        case.restricted = 1
        db.update(case, "case_key", "restricted")
        seal(db, case.id, ring, [*chosen, RECOVERY])
        done[case.id] = chosen
    return done
