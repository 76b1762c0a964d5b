"""Python's cycle collector held off while a command builds many objects that all live until
it ends.

Listing ten thousand cases makes several hundred thousand objects, none in a cycle, and keeps
them all until the list is drawn; the collector, started every few hundred new objects, walks
the growing heap again and again for nothing (a sixth of `cases`' time at that size; less, but
still something, for a long case's timeline or export, and a person's file).  Reference
counting still frees everything as usual; only the search for cycles waits until the block
ends, and the collector runs again as it did before, counting what the block made as long-lived
(it is looked at again only in a full collection).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Within the block, no automatic cycle collection; after it, as it was."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What the block made joins the oldest generation, as if it had lived through many
        # collections; turned back on straight away, the collector would first walk it all.
        gc.freeze()
        gc.unfreeze()
        if was:
            gc.enable()
