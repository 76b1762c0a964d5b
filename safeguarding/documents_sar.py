"""The `--json` documents of `sar`, `sar list` and `sar done`, and the answer a request's
`--format json` writes.

Built the same way as `documents_json`'s: from what the library returns to dicts, each with its
`schema`; nothing here opens the vault, writes or prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from safeguarding import documents_json, documents_people

if TYPE_CHECKING:
    from safeguarding.personfile import ChildFile
    from safeguarding.sar import Made, Request

SCHEMAS: dict[str, int] = {
    "safeguard.sar": 1,
    "safeguard.sar.list": 1,
    "safeguard.sar.done": 1,
    "safeguard.sar.answer": 1,
}


def _head(schema: str) -> dict[str, Any]:
    return {"schema": schema, "schema_version": SCHEMAS[schema]}


def _at(moment: Any) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _request(found: Request, today: date) -> dict[str, Any]:
    return {
        "sar": found.number,
        "person": found.person,
        "name": found.name,
        "received": found.received.isoformat(),
        "due": found.due.isoformat(),
        "state": found.state(today),
        "entry": found.entry,
        "at": _at(found.at),
        "by": found.by,
        "format": found.format,
        "to": found.to,
        "cases": list(found.cases),
        "received_cases": [{"school": s, "case": c} for s, c in found.received_cases],
        "left_out": list(found.left_out),
        "done_entry": found.done,
        "done_at": _at(found.done_at),
        "done_by": found.done_by or None,
    }


def made(done: Made, today: date) -> dict[str, Any]:
    """`sar PERSON`: the request recorded, and where its answer went."""
    return {
        **_head("safeguard.sar"),
        **_request(done.request, today),
        "path": str(done.path),
        "checkpoint": done.checkpoint,
        "unshown_characters": done.unshown,
        "again": done.again,
    }


def requests(found: Sequence[Request], today: date) -> dict[str, Any]:
    """`sar list`: every request, oldest first, with its state."""
    return {**_head("safeguard.sar.list"), "requests": [_request(r, today) for r in found]}


def marked_done(found: Request, today: date) -> dict[str, Any]:
    """`sar done N`."""
    return {**_head("safeguard.sar.done"), **_request(found, today)}


def overdue(found: Request) -> dict[str, Any]:
    """An unanswered request past its response date, as `cases --overdue --json` lists it
    beside the cases."""
    what = f"response to the subject access request of person {found.person}"
    return {
        "sar": found.number,
        "person": found.person,
        "status": "overdue",
        "overdue": [{"what": what, "due": found.due.isoformat()}],
    }


def answer(file: ChildFile, request: Request) -> dict[str, Any]:
    """What a request's `--format json` writes: the cover letter, every case about the person
    or naming them (other people's names withheld), and the received files' entries."""
    t = file.combined
    return {
        **_head("safeguard.sar.answer"),
        "sar": request.number,
        "school": t.school,
        "produced_at": t.produced_at.isoformat(),
        "checkpoint": str(t.checkpoint),
        "redacted": True,
        "person": documents_people.person_fields(file.person),
        "received": request.received.isoformat(),
        "due": request.due.isoformat(),
        "cover": [{"label": label, "value": value} for label, value in t.cover],
        "cases": [documents_json.case(view) for view in file.cases],
        "received_files": [
            {
                "title": item.title,
                "at": item.at.isoformat(),
                "author": item.author,
                "facts": [{"label": f.label, "value": f.value} for f in item.facts],
                "text": item.text,
                "observations": item.observations,
            }
            for item in t.items
            if item.id < 0
        ],
    }
