"""Legal holds placed on a person, and which word names a case or a person.

A hold on a person (a signed `person_hold` vault event, sealed with the field key, naming the
person in its facts) holds every case about them, whoever may read it and whenever its subject
is linked, and their file with the files received from their earlier schools: `erase` refuses
each case while it is in force.  `person_hold_released` ends it.  A DSL or the headteacher
places and releases one.  Nothing here prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from safeguarding import casefile, chronology, clock, custody, erasure, people, storage
from safeguarding.db import Db
from safeguarding.errors import NotAllowed
from safeguarding.people_rows import PersonInfo
from safeguarding.roster import MANAGING_ROLES

if TYPE_CHECKING:
    from safeguarding.erasure import Recorded
    from safeguarding.unlocked import Unlocked


def names_case(text: str) -> bool:
    """Whether a word names a case: one that starts `SG-` (any letter case) is a case
    reference, to be parsed as one; any other word is a person, by number or unique name."""
    return text.strip().upper().startswith(f"{casefile.REFERENCE_PREFIX}-")


def _holdable(unlocked: Unlocked, db: Db, text: str, action: str) -> tuple[PersonInfo, int | None]:
    """The person `text` names, and the entry of the hold on them (None: not held)."""
    if not unlocked.signer.recovery and unlocked.user.role not in MANAGING_ROLES:
        raise NotAllowed(f"only a DSL or the headteacher may {action}; nothing was changed")
    person = people.find_in(unlocked, db, text)
    return person, custody.people_held(db).get(person.id)


def _already(person: PersonInfo, held: int) -> NotAllowed:
    return NotAllowed(
        f"person {person.id} is already held (entry {held}); nothing was changed",
        hint="'safeguard hold list' shows the holds in force",
    )


def check(unlocked: Unlocked, text: str) -> None:
    """Refuse now what `hold` would refuse, before its reason is asked for."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        person, held = _holdable(unlocked, db, text, "place a hold")
        if held is not None:
            raise _already(person, held)


def _append(unlocked: Unlocked, db: Db, kind: str, person: PersonInfo, **more: Any) -> int:
    payload = {"person": person.id, "name": person.name, "by": unlocked.user.name, **more}
    return chronology.append(
        db,
        signer=unlocked.signer,
        payload_key=unlocked.keys.fields,
        kind=kind,
        payload=payload,
        facts={custody.PERSON_FACT[kind]: person.id},
        recorded_at=clock.now(),
    ).seq


def place(unlocked: Unlocked, text: str, reason: str) -> Recorded:
    """Hold the person `text` names: no case about them may be erased until it is released."""
    reason = erasure._reason(reason)
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        person, held = _holdable(unlocked, db, text, "place a hold")
        if held is not None:
            raise _already(person, held)
        seq = _append(unlocked, db, custody.PERSON_HOLD, person, reason=reason)
        return erasure.recorded(unlocked, db, seq)


def release(unlocked: Unlocked, text: str) -> Recorded:
    """Release the hold on the person `text` names: their cases may be erased again."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        person, held = _holdable(unlocked, db, text, "release a hold")
        if held is None:
            raise NotAllowed(f"person {person.id} is not held; nothing was changed")
        seq = _append(unlocked, db, custody.PERSON_RELEASED, person, hold=held)
        return erasure.recorded(unlocked, db, seq)
