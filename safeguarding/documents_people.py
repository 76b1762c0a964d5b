"""The `--json` documents of people: `person add`, `list`, `show`, `link` and `link-case`.

Built as `documents_json` builds its documents, each with its `schema`, from what the library
returns; nothing here opens the vault, writes or prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from safeguarding.people import Linked
    from safeguarding.people_rows import PersonInfo

SCHEMAS: dict[str, int] = {
    "safeguard.person": 1,
    "safeguard.person.list": 1,
    "safeguard.person.link": 1,
    "safeguard.person.link-case": 1,
}

Document = dict[str, Any]


def _head(schema: str) -> Document:
    return {"schema": schema, "schema_version": SCHEMAS[schema]}


def person_fields(person: PersonInfo) -> Document:
    return {
        "person": person.id,
        "name": person.name,
        "dob": person.dob.isoformat(),
        "year_group": person.year_group or None,
        "upn": person.upn or None,
        "role": person.role,
        "added_at": person.created_at,
        "entry": person.seq,
    }


def _linked(links: Sequence[Linked]) -> list[Document]:
    return [
        {"as": link.relation, "person": link.person.id, "name": link.person.name} for link in links
    ]


def person(found: PersonInfo, links: Sequence[Linked] = (), cases: Sequence[str] = ()) -> Document:
    """`person add` and `person show`: the person, those linked to them, and their cases
    (those the reader may read)."""
    return {
        **_head("safeguard.person"),
        **person_fields(found),
        "linked": _linked(links),
        "cases": list(cases),
    }


def people(found: Sequence[PersonInfo]) -> Document:
    return {**_head("safeguard.person.list"), "people": [person_fields(p) for p in found]}


def linked(first: PersonInfo, second: PersonInfo, relation: str, entry: int) -> Document:
    return {
        **_head("safeguard.person.link"),
        "person": first.id,
        "linked": second.id,
        "as": relation,
        "entry": entry,
    }


def case_linked(found: PersonInfo, case: str, subject: str, entry: int, number: int) -> Document:
    return {
        **_head("safeguard.person.link-case"),
        "person": found.id,
        "case": case,
        "subject": subject,
        "entry": entry,
        "number": number,
    }
