"""Time as the vault stores it: UTC instants in one fixed, sortable text form.

Stored timestamps go into the chain MAC byte for byte, so their format must never change.
"""

from __future__ import annotations

from datetime import UTC, datetime

STORED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now() -> datetime:
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """The stored form of an aware datetime, e.g. ``2026-11-24T09:05:00.000000Z``."""
    if moment.tzinfo is None:
        raise ValueError("stored times must be timezone-aware")
    return moment.astimezone(UTC).strftime(STORED_FORMAT)


def from_text(text: str) -> datetime:
    """A stored time back as an aware datetime (`fromisoformat` reads the stored form, and is
    many times faster than `strptime` over a long chronology)."""
    return datetime.fromisoformat(text).astimezone(UTC)
