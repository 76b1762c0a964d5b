"""The checks of `verify` that need nothing but one signed entry: that its signature holds,
and that its stored hash is the hash of what was signed.  They are made in the order the walk
meets them, in batches, by worker processes on every core for a long chronology, while the walk
goes on; the first entry that fails is named all the same.  Nothing here writes or holds a key.
"""

from __future__ import annotations

import hmac
import os
from collections import deque
from typing import TYPE_CHECKING

from safeguarding import crypto
from safeguarding.chronology import hash_of
from safeguarding.custody import fail

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

#: One entry's check, a plain tuple (as cheap to send to a worker as can be): its seq, the
#: public key it must be signed with, its signature, its signed bytes and its stored hash.
Check = tuple[int, bytes, bytes, bytes, bytes]

# What failed, in the order they are checked.
_SIGNATURE, _HASH = "signature", "hash"


def _first_failure(checks: list[Check]) -> tuple[int, str] | None:
    """The first check in `checks` that fails, as (seq, what failed), or None."""
    holds = crypto.signature_holds
    compare = hmac.compare_digest
    for seq, key, signature, body, mac in checks:
        if not holds(key, signature, body):
            return seq, _SIGNATURE
        if not compare(hash_of(body, signature), mac):
            return seq, _HASH
    return None


class EntryChecks:
    """Checks, in batches of `batch`, answered in the order made: the first entry that fails is
    named as soon as its batch is answered, and at the latest by `settle`, which the walk calls
    at its end and before it reports any problem of its own.  With `parallel`, the batches are
    checked by worker processes on every core, at most `ahead` batches per core at a time."""

    def __init__(self, *, parallel: bool, batch: int, ahead: int) -> None:
        self.pending: list[Check] = []
        self.futures: deque[Future[tuple[int, str] | None]] = deque()
        self.pool: ProcessPoolExecutor | None = None
        self.failed = False
        self.batch = batch
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        self.ahead = ahead * cores
        if parallel and cores > 1:
            self.pool = _workers(cores)

    def signed(self, seq: int, key: bytes, signature: bytes, body: bytes, mac: bytes) -> None:
        """Entry `seq`'s signature of `body` holds under `key`, and its stored hash is `mac`."""
        self.pending.append((seq, key, signature, body, mac))
        if len(self.pending) >= self.batch:
            self._send()

    def _send(self) -> None:
        checks, self.pending = self.pending, []
        if not checks:
            return
        if self.pool is None:
            self._raise_for(_first_failure(checks))
            return
        self.futures.append(self.pool.submit(_first_failure, checks))
        futures = self.futures
        while futures and (len(futures) > self.ahead or futures[0].done()):
            self._raise_for(futures.popleft().result())

    def settle(self) -> None:
        """Raise `CheckFailed` for the first check so far that fails (unless one was named
        already)."""
        if self.failed:
            return
        self._send()
        while self.futures:  # in the order sent: the first failing batch is the earliest
            self._raise_for(self.futures.popleft().result())

    def _raise_for(self, failure: tuple[int, str] | None) -> None:
        if failure is None:
            return
        self.failed = True
        self.pending.clear()  # later entries: the first failure is the one to name
        seq, what = failure
        if what == _SIGNATURE:
            raise fail(
                f"entry {seq} has been altered, reordered or forged (its signature does not hold)"
            )
        raise fail(f"entry {seq}'s stored hash has been altered")

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _workers(cores: int) -> ProcessPoolExecutor | None:
    """A pool of `cores` forked worker processes, or None where processes cannot be forked.
    Imported here, so that a command which reads one case never loads multiprocessing."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork"))
