"""The `--json` documents of `retention`, `erase` and `hold`, and the erased cases `cases --json`
lists.

Kept beside `documents_json` (which names every other document) and built the same way: from
what the library returns to dicts, each with its `schema`; nothing here opens the vault, writes
or prints, and at load it imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from safeguarding.categories import Categories
    from safeguarding.erasure import Erased, Recorded
    from safeguarding.retention import Dated

SCHEMAS: dict[str, int] = {
    "safeguard.retention": 1,
    "safeguard.erased": 1,
    "safeguard.hold": 1,
    "safeguard.holds": 1,
}


def _head(schema: str) -> dict[str, Any]:
    return {"schema": schema, "schema_version": SCHEMAS[schema]}


def _at(found: Recorded) -> str:
    return found.at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hold(found: Recorded) -> dict[str, Any]:
    """A hold on a case (`person` null), or on a person (`case` null)."""
    return {
        "case": found.reference or None,
        "person": found.person,
        "name": found.name or None,
        "entry": found.entry,
        "at": _at(found),
        "by": found.by,
        "reason": found.reason,
    }


def retention(found: Sequence[Dated]) -> dict[str, Any]:
    """`retention`: each case whose date has come (or every case, with --all), oldest first."""
    return {
        **_head("safeguard.retention"),
        "cases": [
            {
                "case": d.reference,
                "category": d.category,
                "status": d.status,
                "due": None if d.due.on is None else d.due.on.isoformat(),
                "then": d.due.then,
                "rule": d.due.rule,
                "note": d.due.note,
                "hold": None if d.hold is None else _hold(d.hold),
            }
            for d in found
        ],
    }


def erased(found: Recorded, log_emptied: bool | None = None) -> dict[str, Any]:
    """`erase` (with whether the write-ahead log was emptied), and each erased case that
    `cases --json` and `timeline --json` name."""
    document = {
        **_head("safeguard.erased"),
        "case": found.reference,
        "entry": found.entry,
        "erased_at": _at(found),
        "by": found.by,
        "reason": found.reason,
        "forced": found.forced,
        "entries": found.entries,
        "concerns": found.concerns,
        "older_backups_hold_its_keys": True,
    }
    if log_emptied is not None:
        document["log_emptied"] = log_emptied
    return document


def erased_case(found: Recorded) -> dict[str, Any]:
    """An erased case as `cases --json` lists it, beside the others."""
    return {"case": found.reference, "status": "erased", "erasure": erased(found)}


def erasure(done: Erased) -> dict[str, Any]:
    return erased(done.erasure, done.log_emptied)


def hold(found: Recorded, released: bool = False) -> dict[str, Any]:
    """`hold CASE|PERSON` and `hold release CASE|PERSON`."""
    return {**_head("safeguard.hold"), **_hold(found), "released": released}


def holds(found: Sequence[Recorded]) -> dict[str, Any]:
    """`hold list`: the holds in force."""
    return {**_head("safeguard.holds"), "holds": [_hold(h) for h in found]}


def rules(found: Categories) -> dict[str, dict[str, Any] | None]:
    """Each category's retention rule, by code, as `categories --json` gives it: in words, what
    comes then, and the rules for particular outcomes (None: no rule)."""
    age = found.retirement_age
    return {
        c.code: None
        if c.retention is None
        else {
            "rule": c.retention.rule.describe(age),
            "then": c.retention.rule.then,
            "outcomes": {o: r.describe(age) for o, r in c.retention.outcomes.items()},
        }
        for c in found
    }
