"""The `--json` documents of people and the child's file: `person add`, `list`, `show`, `link`
and `link-case`, and `file` (which `export --file --format json` writes too).

Built as `documents_json` builds its documents, each with its `schema`, from what the library
returns; nothing here opens the vault, writes or prints.  The file is one document that holds
each of its cases whole (`safeguard.case`, as a case's own export has it) and the order of
their entries in one chronology, so it can be carried as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from safeguarding import documents_json
from safeguarding.transfers import last_standing

if TYPE_CHECKING:
    from safeguarding.people import Linked
    from safeguarding.people_rows import PersonInfo
    from safeguarding.personfile import ChildFile, FileExported

SCHEMAS: dict[str, int] = {
    "safeguard.person": 1,
    "safeguard.person.list": 1,
    "safeguard.person.link": 1,
    "safeguard.person.link-case": 1,
    "safeguard.file": 1,
    "safeguard.file.export": 1,
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


def child_file(made: ChildFile) -> Document:
    """The child's file: the cover sheet, every case whole, and one chronology naming each
    entry by its case and its place in the vault's chronology."""
    t = made.combined
    return {
        **_head("safeguard.file"),
        "school": t.school,
        "produced_at": t.produced_at.isoformat(),
        "produced_by": t.produced_by,
        "checkpoint": str(t.checkpoint),
        "redacted": t.redacted,
        "person": person_fields(made.person),
        "linked": _linked(made.links),
        "open_cases": list(made.open_cases),
        "key_people": list(made.key_people),
        "last_transfer": _last_transfer(made),
        "received": [
            {
                "school": r.school,
                "sent_by": r.sent_by,
                "sent_at": r.sent_at.isoformat(),
                "their_checkpoint": r.checkpoint,
                "received_at": r.received_at.isoformat(),
                "received_by": r.received_by,
                "file": r.document,
            }
            for r in made.received
        ],
        "chronology": [
            {"case": case, "entry": item.id, "number": item.number, "at": item.at.isoformat()}
            for case, item in made.order
        ],
        "cases": [documents_json.case(view) for view in made.cases],
    }


def _last_transfer(made: ChildFile) -> Document | None:
    last = last_standing(made.sent)
    if last is None:
        return None
    return {
        "transfer": last.number,
        "school": last.school,
        "sent_at": last.sent_at.isoformat(),
        "state": last.state,
        "received_at": None if last.receipt is None else last.receipt.at.isoformat(),
    }


def file_exported(done: FileExported) -> Document:
    """`export --file PERSON --json`: what was written, and where it is recorded."""
    return {
        **_head("safeguard.file.export"),
        "person": done.person.id,
        "format": done.format,
        "output": None if done.path is None else str(done.path),
        "cases": list(done.cases),
        "entry": done.entry,
        "checkpoint": done.checkpoint,
    }
