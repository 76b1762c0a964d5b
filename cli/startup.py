"""What every run of `safeguard` does first, before any secret is read: it makes sure its
memory cannot be dumped to disk, and removes what a killed `--editor` left in memory-backed
files."""

from __future__ import annotations

import contextlib
import sys

#: prctl(2) option that makes the process not dumpable (Linux).
PR_SET_DUMPABLE = 4


def forbid_core_dumps() -> None:
    """No core file, whatever the shell's `ulimit -c`, and not dumpable: the kernel writes no
    core and lets no other process of the account attach to read the passphrase, the vault's
    keys or the records in memory.  Where either is not available, the other still holds."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def start() -> None:
    forbid_core_dumps()
    from .casework import remove_stale_editor_files

    remove_stale_editor_files()
