"""Puts a test's clock and key-derivation cost into the `safeguard` processes it starts, and
notes (in the file `TESTS_UNLOCK_PAUSES` names) the waits after failed unlocks instead of
sleeping them.

The test fixture adds this folder to PYTHONPATH and sets the variables below; Python runs this
file at start-up, before safeguard. The product itself reads no such variable: outside the
tests nothing can move its clock or lower its cost.
"""

import os
from datetime import timedelta

_shift = os.environ.get("TESTS_CLOCK_SHIFT_SECONDS")
_kdf = os.environ.get("TESTS_KDF")
_pauses = os.environ.get("TESTS_UNLOCK_PAUSES")
if _shift or _kdf or _pauses:
    try:
        from safeguarding import attempts, clock, crypto
    except ImportError:  # a process of another environment (pip, build): not ours
        pass
    else:
        if _shift:
            clock.shift_by(timedelta(seconds=float(_shift)))
        if _kdf:
            iterations, memory_kib, lanes = (int(part) for part in _kdf.split(","))
            crypto.DEFAULT_KDF = crypto.KdfParams(iterations, memory_kib, lanes)
        if _pauses:

            def _note(seconds: float, where: str = _pauses) -> None:
                with open(where, "a", encoding="utf-8") as notes:
                    notes.write(f"{seconds}\n")

            attempts.pause = _note
