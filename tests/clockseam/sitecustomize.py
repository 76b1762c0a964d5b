"""Puts a test's clock into the `safeguard` processes it starts.

The test fixture adds this folder to PYTHONPATH and the shift to the environment; Python runs
this file at start-up, before safeguard. The product itself reads no such variable: outside
the tests nothing can move its clock.
"""

import os
from datetime import timedelta

_shift = os.environ.get("TESTS_CLOCK_SHIFT_SECONDS")
if _shift:
    try:
        from safeguarding import clock
    except ImportError:  # a process of another environment (pip, build): not ours
        pass
    else:
        clock.shift_by(timedelta(seconds=float(_shift)))
