"""A timeline as a document: plain data (dicts, lists and strings, ready for JSON) that the PDF
and HTML templates lay out, so both show the same headings, entries and amendments.

Recorded text enters only through `show`, the renderer's way of making it displayable (control
characters made visible; for the PDF, characters no font has written as codes).  The data is
never turned into markup here: each template places it as text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from safeguarding.timeline import (
    MARKING,
    Item,
    Timeline,
    action_status,
    header_facts,
    paragraphs,
    stub,
)

Show = Callable[[str], str]
Document = dict[str, Any]


def build(t: Timeline, show: Show) -> Document:
    """Everything a rendering of `t` shows, with every recorded string passed through `show`."""
    marking = MARKING + (" · REDACTED" if t.redacted else "")
    return {
        "title": f"Safeguarding chronology: {show(t.reference)}",
        "reference": show(t.reference),
        "school": show(t.school),
        "marking": marking,
        "redaction": t.notice if t.redacted else None,
        "facts": [
            {"label": label, "value": _paragraphs(show, value)} for label, value in header_facts(t)
        ],
        "days": [
            {
                "id": day.day.isoformat(),
                "title": day.day.strftime("%A %d %B %Y"),
                "entries": [_entry(t, item, show) for item in day.items],
            }
            for day in t.days
        ],
        "actions": [
            {
                "number": str(a.number),
                "text": _paragraphs(show, a.text),
                "owner": show(a.owner),
                "due": a.due.isoformat(),
                "status": action_status(t, a),
                "overdue": a.done_at is None and a.overdue,
            }
            for a in t.actions
        ],
        "checkpoint": [
            show(
                f"{t.checkpoint_short} (entry {t.checkpoint.seq} of {t.school}'s vault). Check "
                f"this copy against that vault, there, with: safeguard verify --checkpoint "
                f"{t.checkpoint_short}"
            ),
            show(
                f"Produced {t.when(t.produced_at)} by {t.produced_by} with safeguard. {MARKING}."
                + (" REDACTED." if t.redacted else "")
            ),
        ],
        "footer": show(
            f"Produced {t.when(t.produced_at)} by {t.produced_by} · checkpoint "
            f"{t.checkpoint_short} · {MARKING}"
        ),
        "produced_at": t.produced_at.isoformat(),
    }


def _paragraphs(show: Show, text: str) -> list[dict[str, Any]]:
    """Recorded text as runs of lines that read one way (a file's final line ending dropped)."""
    shown = show(text).rstrip("\r\n")
    return [{"text": run, "rtl": rtl} for run, rtl in paragraphs(shown)]


def _entry(t: Timeline, item: Item, show: Show, nested: bool = False) -> dict[str, Any]:
    head = f"{show(item.title)} · entry {item.number} · {show(item.by)}"
    if nested:
        head = f"Corrected by entry {item.number} · {show(item.author)} · {t.when(item.at)}"
    entry: dict[str, Any] = {
        "id": item.number,
        "time": t.local(item.at).strftime("%H:%M"),
        "at": t.local(item.at).isoformat(),
        "head": head,
        "late": f"Recorded late, {t.when(item.recorded_at)}" if item.late else None,
        "stub": None,
        "facts": [],
        "text": [],
        "observations": [],
        "after": [],
        "amendments": [],
    }
    pointer = None if nested else stub(t, item)
    if pointer is not None:
        entry["stub"] = list(pointer)
        return entry
    entry["facts"] = [
        {"label": fact.label, "value": show(fact.value)}
        for fact in item.facts
        if not (nested and fact.label == "Corrects")
    ]
    if item.text:
        entry["text"] = _paragraphs(show, item.text)
    entry["after"] = [
        {"label": fact.label, "value": _paragraphs(show, fact.value)} for fact in item.after
    ]
    if item.observations:
        entry["observations"] = _paragraphs(show, item.observations)
    # A correction shows beneath what it corrects; one itself corrected, its correction beneath.
    for amendment_id in item.amended_by:
        amendment = t.item(amendment_id)
        if amendment is not None and amendment_id > item.id:
            entry["amendments"].append(_entry(t, amendment, show, nested=True))
    return entry
