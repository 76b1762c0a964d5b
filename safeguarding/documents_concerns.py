"""The `--json` documents of the concern commands: `concern`, `concerns`, `inbox` and `triage`.

Kept beside `documents_json` (which names every other document) and built the same way: from
what the library returns to dicts, each with its `schema`; nothing here opens the vault, writes
or prints, and at load it imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from safeguarding.concerns import Item, Reported, Triaged, Waiting

SCHEMAS: dict[str, int] = {
    "safeguard.concern": 1,
    "safeguard.concerns": 1,
    "safeguard.inbox": 1,
    "safeguard.inbox.waiting": 1,
    "safeguard.triage": 1,
}


def _head(schema: str) -> dict[str, Any]:
    return {"schema": schema, "schema_version": SCHEMAS[schema]}


def reported(done: Reported) -> dict[str, Any]:
    return {
        **_head("safeguard.concern"),
        "concern": done.number,
        "entry": done.entry,
        "recorded_at": done.recorded_at,
        "readers": done.readers,
        "not_sealed_to": done.left_out,
        "kept_from": done.kept_from,
        "tell_the_chair": done.unread,
    }


def _item(item: Item, *, text: bool) -> dict[str, Any]:
    found: dict[str, Any] = {
        "concern": item.number,
        "entry": item.entry,
        "recorded_at": item.recorded_at,
        "at": item.content.at,
        "about": [{"name": a.name, "role": a.role} for a in item.content.about],
        "where": item.content.where,
        "state": item.state,
    }
    if item.author:
        found["author"] = item.author
    if item.decided is not None:
        d = item.decided
        found["decided"] = {
            "by": d.by,
            "at": d.at,
            "case": d.case,
            "number": d.number,
            "reason": d.reason,
        }
    if text:
        found["text"] = item.content.text
        found["observations"] = item.content.observations
        found["done"] = item.content.done
    return found


def mine(items: Sequence[Item]) -> dict[str, Any]:
    return {**_head("safeguard.concerns"), "concerns": [_item(i, text=True) for i in items]}


def inbox(items: Sequence[Item], hours: dict[int, float], *, read: bool) -> dict[str, Any]:
    """The inbox: what each concern says only when it was `read` (`inbox N`, which records the
    reading); the list gives who and when, as the table does."""
    listed = [_item(i, text=read) | {"working_hours": hours[i.number]} for i in items]
    return {**_head("safeguard.inbox"), "concerns": listed}


def waiting(items: Sequence[Waiting], oldest_hours: float | None, limit: float) -> dict[str, Any]:
    return {
        **_head("safeguard.inbox.waiting"),
        "ok": oldest_hours is None or oldest_hours <= limit,
        "waiting": len(items),
        "oldest_working_hours": None if oldest_hours is None else round(oldest_hours, 1),
        "older_than": limit,
    }


def triaged(done: Triaged, *, opened: bool = False) -> dict[str, Any]:
    return {
        **_head("safeguard.triage"),
        "concern": done.number,
        "entry": done.entry,
        "outcome": done.outcome,
        "case": done.case,
        "opened": opened,
    }
