"""Time as the vault stores it: UTC instants in one fixed, sortable text form, and `now()`.

`now()` is the one place the code reads the time. Tests move it with `shift_to`; in the
product only `safeguard demo` does, with `simulated`, for its throwaway vault alone, so a time
recorded in a real vault is always the machine's own. Stored timestamps are covered by the
chain, byte for byte, so their format must never change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

STORED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# How far the clock is moved from the machine's (zero outside tests). A shift, not a frozen
# instant: time still runs, so entries recorded one after another keep their order.
_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def shift_to(moment: datetime) -> timedelta:
    """Make `now()` read `moment` from here on, and give the shift (for a child process)."""
    global _offset
    if moment.tzinfo is None:
        raise ValueError("the clock is set to a timezone-aware moment")
    _offset = moment - datetime.now(UTC)
    return _offset


@contextmanager
def simulated(moment: datetime) -> Iterator[None]:
    """`now()` reads `moment` inside the block, running on from it, and as before after it.

    For `safeguard demo`, which runs real commands on its throwaway vault at the moments of a
    worked case: never read from the environment, so nothing outside the process can move it.
    """
    global _offset
    before = _offset
    shift_to(moment)
    try:
        yield
    finally:
        _offset = before


def shift_by(offset: timedelta) -> None:
    """Move the clock by a shift another process measured with `shift_to`."""
    global _offset
    _offset = offset


def to_text(moment: datetime) -> str:
    """The stored form of an aware datetime, e.g. ``2026-11-24T09:05:00.000000Z``."""
    if moment.tzinfo is None:
        raise ValueError("stored times must be timezone-aware")
    return moment.astimezone(UTC).strftime(STORED_FORMAT)


def from_text(text: str) -> datetime:
    """A stored time back as an aware datetime (`fromisoformat` reads the stored form, and is
    many times faster than `strptime` over a long chronology)."""
    return datetime.fromisoformat(text).astimezone(UTC)
