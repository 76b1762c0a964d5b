"""A timeline as one JSON document: `safeguard timeline --json` and `export --format json`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from safeguarding.timeline import MARKING, REDACTION_NOTICE, Item, Timeline

SCHEMA_VERSION = 1


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "at": _iso(item.at),
        "recorded_at": _iso(item.recorded_at),
        "late": item.late,
        "author": item.author,
        "text": item.text,
        "amends": item.amends,
        "amended_by": list(item.amended_by),
        "data": item.data,
    }


def to_json(t: Timeline) -> dict[str, Any]:
    """The full structured case (schema version 1): what `export --format json` writes."""
    return {
        "schema": "safeguard.case",
        "schema_version": SCHEMA_VERSION,
        "case": t.reference,
        "school": t.school,
        "marking": MARKING,
        "redacted": t.redacted,
        **({"redaction": REDACTION_NOTICE} if t.redacted else {}),
        "produced_at": _iso(t.produced_at),
        "produced_by": t.produced_by,
        "checkpoint": str(t.checkpoint),
        "category": {"code": t.category_code, "title": t.category_title, "section": t.section},
        "subjects": [{"name": name, "role": role} for name, role in t.subjects],
        "status": t.status,
        "stage": t.stage,
        "opened_at": _iso(t.opened_at),
        "closed_at": _iso(t.closed_at),
        "outcome": t.outcome,
        "referrals": list(t.referrals),
        "next": {
            "title": t.next_title,
            "due": t.next_due.isoformat() if t.next_due else None,
            "overdue": t.next_overdue,
        },
        "overdue": list(t.overdue),
        "actions": [
            {
                "action": a.number,
                "text": a.text,
                "owner": a.owner,
                "due": a.due.isoformat(),
                "set_at": _iso(a.set_at),
                "done_at": _iso(a.done_at),
                "overdue": a.overdue,
            }
            for a in t.actions
        ],
        "entries": [item_json(item) for item in t.items],
    }
