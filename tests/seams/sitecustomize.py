"""Puts a test's clock and key-derivation cost into the `safeguard` processes it starts.

The test fixture adds this folder to PYTHONPATH and sets the variables below; Python runs this
file at start-up, before safeguard. The product itself reads no such variable: outside the
tests nothing can move its clock or lower its cost.
"""

import os
from datetime import timedelta

_shift = os.environ.get("TESTS_CLOCK_SHIFT_SECONDS")
_kdf = os.environ.get("TESTS_KDF")
if _shift or _kdf:
    try:
        from safeguarding import clock, crypto
    except ImportError:  # a process of another environment (pip, build): not ours
        pass
    else:
        if _shift:
            clock.shift_by(timedelta(seconds=float(_shift)))
        if _kdf:
            iterations, memory_kib, lanes = (int(part) for part in _kdf.split(","))
            crypto.DEFAULT_KDF = crypto.KdfParams(iterations, memory_kib, lanes)
