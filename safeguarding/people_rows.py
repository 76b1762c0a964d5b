"""People as the vault stores them: each a row whose fields are sealed with the field key, with
a lookup tag for the name, and each link between two people a row with its relation sealed.

Every row is what a signed vault event of the chronology records (`person_added`,
`person_linked`), which `people_checks` holds it to.  A case's subject is linked to a person in
the case's own chronology (the disclosure's subjects, or a `subject_linked` entry), sealed with
the case's key: a restricted case's links are its members' alone.  Nothing here prints or reads
the clock.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from safeguarding import crypto
from safeguarding.db import Db, Person, PersonLink
from safeguarding.vocabulary import Kind

#: The chronology's kinds for people: vault events, and a case's entry.
PERSON_ADDED = "person_added"
PERSON_LINKED = "person_linked"
SUBJECT_LINKED = Kind.SUBJECT_LINKED.value
#: A person's file read: shown on screen, or exported (each case read also records its own).
FILE_VIEWED = "file_viewed"
FILE_EXPORTED = "file_exported"
#: A subject access request answered (a person's information, redacted), and marked done.
SAR_MADE, SAR_DONE = "sar_made", "sar_done"

ROLES = ("pupil", "staff", "parent", "other")
RELATIONS = ("sibling", "parent", "carer", "other")
#: What a `person_added` entry seals.
PAYLOAD_KEYS = ("person", "name", "dob", "year_group", "upn", "role")


@dataclass(frozen=True)
class PersonInfo:
    """A person, decrypted.  `year_group` and `upn` are empty when not known."""

    id: int
    name: str
    dob: date
    role: str
    year_group: str = ""
    upn: str = ""
    created_at: str = ""
    seq: int = 0

    def payload(self) -> dict[str, Any]:
        """What the `person_added` entry seals: everything the row holds."""
        return {
            "person": self.id,
            "name": self.name,
            "dob": self.dob.isoformat(),
            "year_group": self.year_group,
            "upn": self.upn,
            "role": self.role,
        }

    @property
    def label(self) -> str:
        """The person as a list shows them: name and date of birth, to tell namesakes apart."""
        return f"{self.name} (born {self.dob.isoformat()})"


@dataclass(frozen=True)
class LinkInfo:
    id: int
    a: int
    b: int
    relation: str
    seq: int = 0


def same_name(name: str) -> str:
    """A name as matched: NFKC, case-folded, its spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def name_tag(salt: bytes, name: str) -> bytes:
    """The lookup tag of a person's name: the same for any spelling that `same_name` makes
    alike, so `record` finds a person without opening every row."""
    return crypto.lookup_tag(salt, same_name(name))


def _value(person: PersonInfo, column: str) -> str:
    if column == "dob":
        return person.dob.isoformat()
    return str(getattr(person, column))


def sealed_row(key: bytes, salt: bytes, person: PersonInfo, seq: int, at: str) -> Person:
    """The row for `person`, its fields sealed with the field `key`."""

    def seal(column: str) -> bytes:
        text = _value(person, column)
        return crypto.seal_text(key, text, table="people", row=person.id, column=column)

    return Person(
        id=person.id,
        seq=seq,
        name_tag=name_tag(salt, person.name),
        name=seal("name"),
        dob=seal("dob"),
        year_group=seal("year_group"),
        upn=seal("upn"),
        role=seal("role"),
        created_at=at,
    )


def opened(key: bytes, row: Person) -> PersonInfo:
    """A person's row, decrypted (`crypto.DecryptionError` if it was altered or moved)."""

    def text(column: str) -> str:
        sealed = getattr(row, column)
        return crypto.open_text(key, sealed, table="people", row=row.id, column=column)

    return PersonInfo(
        id=row.id,
        name=text("name"),
        dob=date.fromisoformat(text("dob")),
        role=text("role"),
        year_group=text("year_group"),
        upn=text("upn"),
        created_at=row.created_at,
        seq=row.seq,
    )


def sealed_link(key: bytes, link: LinkInfo) -> PersonLink:
    relation = crypto.seal_text(
        key, link.relation, table="person_links", row=link.id, column="relation"
    )
    return PersonLink(link.id, link.seq, link.a, link.b, relation)


def opened_link(key: bytes, row: PersonLink) -> LinkInfo:
    relation = crypto.open_text(
        key, row.relation, table="person_links", row=row.id, column="relation"
    )
    return LinkInfo(row.id, row.person_a, row.person_b, relation, row.seq)


def reseal(db: Db, old: bytes, new: bytes, salt: bytes) -> None:
    """Seal every person and link again under the field key `new` (a re-key): call inside
    `storage.writing`."""
    for row in db.all(Person):
        db.update(sealed_row(new, salt, opened(old, row), row.seq, row.created_at))
    for link in db.all(PersonLink):
        db.update(sealed_link(new, opened_link(old, link)))


def subject_people(kind: str, payload: dict[str, Any]) -> dict[str, int]:
    """The people a case entry links its subjects to, by subject name (as matched): a
    disclosure's subjects that name one, or a `subject_linked` entry's subject."""
    found: dict[str, int] = {}
    if kind == Kind.DISCLOSURE:
        for subject in payload.get("subjects", []):
            if isinstance(subject, dict) and isinstance(subject.get("person"), int):
                found[same_name(str(subject.get("name", "")))] = int(subject["person"])
    elif kind == SUBJECT_LINKED and isinstance(payload.get("person"), int):
        found[same_name(str(payload.get("subject", "")))] = int(payload["person"])
    return found
