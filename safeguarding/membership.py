"""Who may read a restricted case: listing its members, granting and revoking access.

Only a member (or the recovery key) can do any of it; for everyone else the case does not
exist.  Every change is an entry in the case's own chronology, signed by whoever made it.
A revoke starts a new key epoch: the member keeps nothing written after it, and what they have
read cannot be unread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from safeguarding import casefile, chronology, restricted, storage, summaries, vouched
from safeguarding.access import ACCESS_GRANTED, ACCESS_REVOKED
from safeguarding.db import Case, Db
from safeguarding.errors import NotAllowed, NotFound, UsageError
from safeguarding.roster import _user_info, people

if TYPE_CHECKING:
    from safeguarding.crypto import KeyRing
    from safeguarding.vault import Unlocked


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    waiting: bool  # their keys are sealed to them at the next entry a member writes


@dataclass(frozen=True)
class Members:
    reference: str
    members: tuple[Member, ...]
    changed: str = ""  # whose access was just given or taken, by their recorded name


def _restricted_case(unlocked: Unlocked, db: Db, reference: str) -> Case:
    case = unlocked.readable_case(db, reference)  # an erased case is named as erased
    if not case.restricted:
        raise UsageError(
            f"{casefile.format_reference(case.year, case.number)} is not restricted: every user "
            "of the vault can read it",
            hint="a case is restricted when it is recorded (safeguard record --restricted)",
        )
    return case


def members(unlocked: Unlocked, reference: str) -> Members:
    """A restricted case's members, as recorded."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        return _listing(unlocked, db, _restricted_case(unlocked, db, reference))


def _listing(unlocked: Unlocked, db: Db, case: Case, changed: str = "") -> Members:
    people_by_id = {p.id: p for p in people(db, unlocked.keys)}
    found = tuple(
        Member(
            people_by_id[holder].name,
            people_by_id[holder].role,
            not restricted.holds(db, case.id, holder),
        )
        for holder in restricted.members(db, case.id)
    )
    return Members(casefile.format_reference(case.year, case.number), found, changed)


def grant(unlocked: Unlocked, reference: str, name: str) -> Members:
    """Give `name` the case's keys (every epoch's).  A subject of the allegation never."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        case = _restricted_case(unlocked, db, reference)
        ring = unlocked.case_ring(db, case, writing=True)
        person = _active_person(unlocked, db, name)
        _refuse_subject(db, case, ring, person)
        if person.id in restricted.members(db, case.id):
            raise UsageError(f"{person.name} is already a member; nothing was changed")
        vouched.require(db)
        restricted.seal(db, case.id, ring, [person.id])
        _record(unlocked, db, case, ring, ACCESS_GRANTED, person)
        return _listing(unlocked, db, case, person.name)


def revoke(unlocked: Unlocked, reference: str, name: str) -> Members:
    """Take `name`'s access away: the case's next keys are sealed to the others only."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        case = _restricted_case(unlocked, db, reference)
        ring = unlocked.case_ring(db, case, writing=True)
        person = _person(unlocked, db, name)
        current = restricted.members(db, case.id)
        if person.id not in current:
            raise UsageError(f"{person.name} is not a member of this case; nothing was changed")
        if person.role in {restricted.HEAD, restricted.CHAIR} and not (
            person.id == unlocked.user.id or unlocked.signer.recovery
        ):
            raise NotAllowed(
                f"{person.name} is this case's manager ({person.role}); only they can step "
                "aside, or the holder of the recovery key ('--recovery'); nothing was changed"
            )
        if current == [person.id]:
            raise NotAllowed(
                f"{person.name} is the case's last member; grant someone else access first",
                hint="the recovery key can always open the case",
            )
        restricted.drop(db, case.id, person.id)
        ring = ring.turned()
        vouched.require(db)
        restricted.seal(db, case.id, ring, restricted.holders(db, case.id))
        _record(unlocked, db, case, ring, ACCESS_REVOKED, person)
        # Listed before the end: a member who revoked themselves can no longer read the case.
        return _listing(unlocked, db, case, person.name)


def _person(unlocked: Unlocked, db: Db, name: str) -> restricted.Person:
    """The user called `name`, found as every command finds one (`NotFound` if none)."""
    info = _user_info(unlocked.keys, unlocked.vault._find_target(db, name))
    return restricted.Person(info.id, info.name, info.role.value, info.active)


def _active_person(unlocked: Unlocked, db: Db, name: str) -> restricted.Person:
    person = _person(unlocked, db, name)
    if not person.active:
        raise NotFound(f"{person.name} is disabled; nothing was changed")
    return person


def _refuse_subject(db: Db, case: Case, ring: KeyRing, person: restricted.Person) -> None:
    disclosure = casefile.build(db, case, ring, {}).disclosure
    subjects = restricted.subjects_of(disclosure.data)
    if restricted.same_name(person.name) in subjects:
        raise NotAllowed(
            f"{person.name} is named as a subject of this allegation and can never be given "
            "access; nothing was changed"
        )


def _record(
    unlocked: Unlocked,
    db: Db,
    case: Case,
    ring: KeyRing,
    kind: str,
    person: restricted.Person,
) -> None:
    payload = {"user": person.name}
    entry = chronology.append(
        db,
        signer=unlocked.signer,
        payload_key=ring,
        kind=kind,
        payload=payload,
        facts={"user": person.id},
        case_id=case.id,
    )
    reference = casefile.format_reference(case.year, case.number)
    summaries.follow(db, case.id, reference, ring, entry, payload)
