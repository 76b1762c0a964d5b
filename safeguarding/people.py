"""People: adding, finding and linking the children (and adults) a school's cases are about,
and linking a case's subject to one of them.

A person is added, and two people linked, by a signed vault event of the chronology (sealed
with the field key) written with its row in one transaction; a case's subject is linked by the
disclosure itself or by a `subject_linked` entry of the case, sealed with the case's key.  So a
person's cases are found by opening the cases this user may read: a restricted case says
nothing of itself to anyone else.  Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from safeguarding import casefile, chronology, clock, moments, storage, summaries
from safeguarding.crypto import KeyRing
from safeguarding.db import Case, Db, Entry, Person, PersonLink
from safeguarding.entry_fields import choice, short
from safeguarding.errors import NotFound, UsageError
from safeguarding.people_rows import (
    PERSON_ADDED,
    PERSON_LINKED,
    RELATIONS,
    ROLES,
    SUBJECT_LINKED,
    LinkInfo,
    PersonInfo,
    name_tag,
    opened,
    opened_link,
    same_name,
    sealed_link,
    sealed_row,
    subject_people,
)
from safeguarding.roster import _meta

if TYPE_CHECKING:
    from safeguarding.entries import Disclosure
    from safeguarding.vault import Unlocked

#: A Unique Pupil Number: a letter, eleven digits, and a check digit or letter.
_UPN = re.compile(r"[A-Z][0-9]{11}[0-9A-Z]")


def parse_dob(text: str, today: date) -> date:
    """A date of birth: a day, not after `today`."""
    day = moments.parse_day(text)
    if day > today:
        raise UsageError(
            f"the date of birth {day.isoformat()} is in the future; nothing was saved",
            hint="give the day they were born, e.g. 2015-03-14 or 14/03/2015",
        )
    return day


def check_upn(text: str | None) -> str:
    if not text or not text.strip():
        return ""
    cleaned = text.strip().upper()
    if not _UPN.fullmatch(cleaned):
        raise UsageError(
            "a UPN is 13 characters: a letter, eleven digits and a check digit or letter; "
            "nothing was saved"
        )
    return cleaned


def draft(
    name: str, dob: str, *, year_group: str | None, upn: str | None, role: str, today: date
) -> PersonInfo:
    """A person as given, checked (`UsageError`, exit 2, for anything wrong), not yet added."""
    return PersonInfo(
        id=0,
        name=short(name, "a person's name"),
        dob=parse_dob(dob, today),
        role=choice(role, ROLES, "role"),
        year_group=short(year_group, "the year group") if year_group else "",
        upn=check_upn(upn),
    )


def _append(unlocked: Unlocked, db: Db, kind: str, payload: dict[str, Any], **extra: Any) -> Entry:
    unlocked.require_epoch(db)
    return chronology.append(
        db,
        signer=unlocked.signer,
        payload_key=unlocked.keys.fields,
        kind=kind,
        payload=payload,
        **extra,
    )


def add_in(unlocked: Unlocked, db: Db, person: PersonInfo, now: datetime) -> PersonInfo:
    """Add `person` (a `draft`) in the caller's write transaction: its event and its row."""
    person_id = db.next_id(Person)
    added = PersonInfo(
        person_id, person.name, person.dob, person.role, person.year_group, person.upn
    )
    entry = _append(
        unlocked, db, PERSON_ADDED, added.payload(), facts={"person": person_id}, recorded_at=now
    )
    key, salt = unlocked.keys.field_key, _meta(db).lookup_salt
    db.insert(sealed_row(key, salt, added, entry.seq, entry.recorded_at))
    return opened(key, db.get_one(Person, person_id))


def add(
    unlocked: Unlocked, person: PersonInfo, now: Callable[[], datetime] = clock.now
) -> PersonInfo:
    """Add a person (a `draft`) as a signed vault event, with its row."""
    with storage.guarded(unlocked.vault.path), storage.writing(unlocked.vault.connection) as db:
        return add_in(unlocked, db, person, now())


def everyone(unlocked: Unlocked) -> list[PersonInfo]:
    """Every person, by name and date of birth."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        found = [opened(unlocked.keys.field_key, row) for row in db.all(Person, order="id")]
    return sorted(found, key=lambda p: (same_name(p.name), p.dob, p.id))


def anyone(unlocked: Unlocked) -> bool:
    """Whether the vault keeps any person yet."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        return db.value("SELECT 1 FROM people LIMIT 1") is not None


def matching(unlocked: Unlocked, name: str) -> list[PersonInfo]:
    """The people called `name` (letter case and spacing aside), found by its lookup tag."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        return matching_in(unlocked, db, name)


def matching_in(unlocked: Unlocked, db: Db, name: str) -> list[PersonInfo]:
    tag = name_tag(_meta(db).lookup_salt, name)
    rows = db.all(Person, "name_tag = ?", tag, order="id")
    return [opened(unlocked.keys.field_key, row) for row in rows]


def no_such_person(text: str) -> NotFound:
    return NotFound(
        f"there is no person {text}", hint="'safeguard person list' lists them, with their numbers"
    )


def find_in(unlocked: Unlocked, db: Db, text: str) -> PersonInfo:
    """A person by number, or by name if only one has it."""
    cleaned = text.strip()
    if cleaned.isascii() and cleaned.isdigit() and len(cleaned) < 10:
        row = db.get(Person, int(cleaned))
        if row is None:
            raise no_such_person(cleaned)
        return opened(unlocked.keys.field_key, row)
    found = matching_in(unlocked, db, short(text, "a person's name or number"))
    if not found and cleaned.upper().startswith(f"{casefile.REFERENCE_PREFIX}-"):
        raise UsageError(
            f"{cleaned} is a case's reference: give a person, by number or name",
            hint="'safeguard person list' lists them, with their numbers",
        )
    if not found:
        raise NotFound(
            f"there is no person of that name ({cleaned!r})",
            hint="'safeguard person list' lists them, with their numbers",
        )
    if len(found) > 1:
        raise UsageError(
            f"{len(found)} people have that name; give the number of the one you mean "
            f"({', '.join(str(p.id) for p in found)})",
            hint="'safeguard person list' shows their dates of birth",
        )
    return found[0]


def find(unlocked: Unlocked, text: str) -> PersonInfo:
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        return find_in(unlocked, db, text)


@dataclass(frozen=True)
class Linked:
    """A person linked to another: how (`relation`, as seen from the one shown), and who."""

    relation: str
    person: PersonInfo
    link: int


#: How a link reads from its second person's side ("B is A's parent": A is B's child).
_CONVERSE = {"parent": "child", "carer": "cared for", "sibling": "sibling", "other": "other"}


def links_in(unlocked: Unlocked, db: Db, person_id: int) -> list[Linked]:
    """The people linked to `person_id`, each with what they are to them."""
    key = unlocked.keys.field_key
    found = []
    for row in db.all(PersonLink, "person_a = ? OR person_b = ?", person_id, person_id, order="id"):
        link = opened_link(key, row)
        if link.a == person_id:
            other, relation = link.b, link.relation
        else:
            other, relation = link.a, _CONVERSE.get(link.relation, link.relation)
        found.append(Linked(relation, opened(key, db.get_one(Person, other)), link.id))
    return found


def link(
    unlocked: Unlocked, first: str, second: str, relation: str, now: Callable[[], datetime]
) -> tuple[PersonInfo, PersonInfo, LinkInfo]:
    """Link two people: `second` is `first`'s `relation` (sibling, parent, carer, other)."""
    relation = choice(relation, RELATIONS, "link")
    with storage.guarded(unlocked.vault.path), storage.writing(unlocked.vault.connection) as db:
        a, b = find_in(unlocked, db, first), find_in(unlocked, db, second)
        if a.id == b.id:
            raise UsageError("a person cannot be linked to themselves; nothing was saved")
        for existing in links_in(unlocked, db, a.id):
            if existing.person.id == b.id:
                raise UsageError(
                    f"people {a.id} and {b.id} are already linked (as {existing.relation}); "
                    "nothing was saved"
                )
        link_id = db.next_id(PersonLink)
        payload = {"link": link_id, "a": a.id, "b": b.id, "as": relation}
        facts = {"link": link_id, "people": [a.id, b.id]}
        entry = _append(unlocked, db, PERSON_LINKED, payload, facts=facts, recorded_at=now())
        made = LinkInfo(link_id, a.id, b.id, relation, entry.seq)
        db.insert(sealed_link(unlocked.keys.field_key, made))
    return a, b, made


# A person's cases ----------------------------------------------------------------------------

_LINKING = "kind IN ('disclosure', 'subject_linked')"


def case_links(unlocked: Unlocked, db: Db) -> Iterator[tuple[Case, KeyRing, dict[str, int]]]:
    """Each case this user may read, its keys, and the people its subjects are linked to (by
    subject name as matched): the last link of each subject stands."""
    cases = {case.id: case for case in db.all(Case, order="id")}
    readable: dict[int, KeyRing] = {}
    links: dict[int, dict[str, int]] = {}
    for row in db.all(Entry, _LINKING, order="seq"):
        case = cases.get(row.case_id or 0)
        if case is None:
            continue
        if case.id not in readable:
            if not unlocked.can_read(db, case):
                continue
            readable[case.id] = unlocked.case_ring(db, case)
        payload = chronology.open_payload(readable[case.id], row)
        links.setdefault(case.id, {}).update(subject_people(row.kind, payload))
    for case_id, ring in readable.items():
        yield cases[case_id], ring, links.get(case_id, {})


def cases_of(unlocked: Unlocked, db: Db, person_id: int) -> list[tuple[Case, KeyRing]]:
    """The cases about `person_id` that this user may read, oldest first."""
    return [
        (case, ring)
        for case, ring, linked in case_links(unlocked, db)
        if person_id in linked.values()
    ]


def link_case(
    unlocked: Unlocked,
    person_text: str,
    reference: str,
    subject: str | None,
    now: Callable[[], datetime],
) -> tuple[PersonInfo, str, int, int]:
    """Link a subject of case `reference` to a person, as a signed entry of the case: the
    subject named `subject`, or the one of the person's name, or the case's only subject.
    The person, the subject, and the entry's place in the chronology and number in the case."""
    with storage.guarded(unlocked.vault.path), storage.writing(unlocked.vault.connection) as db:
        person = find_in(unlocked, db, person_text)
        case = casefile.find_case(db, reference)
        ring = unlocked.case_ring(db, case, writing=True)
        ref = casefile.format_reference(case.year, case.number)
        names, linked = _subjects(db, case, ring)
        chosen = _subject(names, subject or person.name, subject is not None, ref)
        if linked.get(same_name(chosen)) == person.id:
            raise UsageError(f"{chosen} in {ref} is already linked to person {person.id}")
        payload = {
            "subject": chosen,
            "person": person.id,
            "name": person.name,
            "dob": person.dob.isoformat(),
        }
        entry = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=ring,
            kind=SUBJECT_LINKED,
            payload=payload,
            case_id=case.id,
            recorded_at=now(),
        )
        summary = summaries.follow(db, case.id, ref, ring, entry, payload)
    return person, chosen, entry.seq, summary.entries


def _subjects(db: Db, case: Case, ring: KeyRing) -> tuple[list[str], dict[str, int]]:
    names: list[str] = []
    linked: dict[str, int] = {}
    for row in db.all(Entry, f"case_id = ? AND {_LINKING}", case.id, order="seq"):
        payload = chronology.open_payload(ring, row)
        if row.kind == "disclosure" and not names:
            names = [str(s.get("name", "")) for s in payload.get("subjects", [])]
        linked.update(subject_people(row.kind, payload))
    return names, linked


def _subject(names: list[str], wanted: str, named: bool, reference: str) -> str:
    for name in names:
        if same_name(name) == same_name(wanted):
            return name
    if not named and len(names) == 1:
        return names[0]
    raise UsageError(
        f"{reference} has no subject of that name; nothing was saved"
        if named
        else f"{reference} has {len(names)} subjects; say which with --subject NAME",
        hint=f"'safeguard timeline {reference}' shows its subjects",
    )


# A disclosure's subjects ---------------------------------------------------------------------

#: The role a person added from a case's subject is given, by the subject's role.
ROLE_OF_SUBJECT = {
    "pupil": "pupil",
    "ex-pupil": "pupil",
    "staff": "staff",
    "volunteer": "staff",
    "parent": "parent",
    "other": "other",
}


@dataclass(frozen=True)
class Wanted:
    """The person a subject is to be linked to: one known (`person`), or one matched by
    name and date of birth and added if there is none (`draft`), or, `new`, one added."""

    person: int | None = None
    draft: PersonInfo | None = None
    new: bool = False


def resolve(
    unlocked: Unlocked,
    db: Db,
    disclosure: Disclosure,
    wanted: Sequence[Wanted | None],
    now: datetime,
) -> Disclosure:
    """The disclosure with each subject linked to the person `wanted` for it (in order; None:
    not linked), people added as needed, in the caller's write transaction."""
    subjects = []
    for subject, want in zip(disclosure.subjects, wanted, strict=True):
        if want is None:
            subjects.append(subject)
            continue
        person = want.person
        if person is None:
            person = _matched_or_added(unlocked, db, subject.name, want, now)
        elif db.get(Person, person) is None:
            raise no_such_person(str(person))
        subjects.append(dataclasses.replace(subject, person=person))
    return dataclasses.replace(disclosure, subjects=tuple(subjects))


def _matched_or_added(unlocked: Unlocked, db: Db, name: str, want: Wanted, now: datetime) -> int:
    draft = want.draft
    assert draft is not None
    if not want.new:
        same = [p for p in matching_in(unlocked, db, name) if p.dob == draft.dob]
        if len(same) > 1:
            raise UsageError(
                f"{len(same)} people of that name were born on {draft.dob.isoformat()}; "
                "nothing was saved",
                hint="give --subject-id with the number of the one you mean "
                "('safeguard person list')",
            )
        if same:
            return same[0].id
    return add_in(unlocked, db, dataclasses.replace(draft, name=name), now).id
