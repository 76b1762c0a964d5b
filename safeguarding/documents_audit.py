"""`audit --json`: the views, exports and changes of access, with the failed attempts to unlock
among them in time order.  Built as `documents_json` builds every document: nothing here opens
the vault, writes or prints, and at load it imports only the standard library."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import TYPE_CHECKING

from safeguarding import documents_json
from safeguarding.documents_json import Document

if TYPE_CHECKING:
    from safeguarding.access import Access
    from safeguarding.attempts import Attempt

#: The `action` of a failed attempt to unlock in the `safeguard.audit` array.
UNLOCK_FAILED = "unlock_failed"


def audit(events: Sequence[Access], failed: Sequence[Attempt], *, mine: bool) -> list[Document]:
    """`safeguard.audit`, an array: each event as `documents_json.audit` gives it, and each
    failed attempt placed by its time (the events keep their own order)."""
    logged = zip((e.at for e in events), documents_json.audit(events, mine=mine), strict=True)
    tried = ((a.at, failed_unlock(a)) for a in failed)
    return [document for _, document in heapq.merge(logged, tried, key=lambda pair: pair[0])]


def failed_unlock(attempt: Attempt) -> Document:
    """A failed attempt to unlock: unsigned, and in no case's record (`entry`, `number` and
    `case` null); `who` is the name as given, null (as `account` and `terminal` are) where it
    was not sealed to the reader's key; `tried` is "passphrase" or "recovery key"."""
    return {
        "entry": None,
        "number": None,
        "at": attempt.at.isoformat(),
        "who": attempt.name,
        "case": None,
        "action": UNLOCK_FAILED,
        "format": None,
        "redacted": False,
        "output": None,
        "tried": attempt.tried,
        "account": attempt.account,
        "terminal": attempt.terminal,
    }
