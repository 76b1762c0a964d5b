"""Scratch folders for work on a copy of a vault: made beside the file they serve, locked while
in use, and removed by the next run if a kill left one behind.

A scratch folder is ``.safeguard-scratch-<12 hex digits>`` (0700).  Its maker holds an flock on
it for as long as it lives; the kernel drops that lock when the process dies, however it dies,
so a folder whose lock can be taken belongs to no living run and is removed.  Nothing here may
remove a folder another run still holds, or anything not named as a scratch folder.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

SCRATCH_NAME = re.compile(r"^\.safeguard-scratch-[0-9a-f]{12}$")
#: A folder being made: locked before it takes its name, so no sweep sees it unlocked.  One left
#: by a kill in that moment is empty, and is removed once it is older than `_MAKING_GRACE`.
_MAKING_NAME = re.compile(r"^\.safeguard-scratch-[0-9a-f]{12}\.making$")
_MAKING_GRACE = 60.0


def is_scratch_name(name: str) -> bool:
    return bool(SCRATCH_NAME.match(name) or _MAKING_NAME.match(name))


def sweep(folder: Path) -> list[Path]:
    """Remove the scratch folders in `folder` that no living run holds; gives those removed."""
    removed: list[Path] = []
    try:
        children = list(folder.iterdir())
    except OSError:
        return removed
    for child in children:
        if _MAKING_NAME.match(child.name):
            with suppress(OSError):
                if time.time() - child.lstat().st_mtime > _MAKING_GRACE:
                    os.rmdir(child)  # only ever empty: nothing is put in it before it is named
            continue
        if not SCRATCH_NAME.match(child.name):
            continue
        try:
            fd = os.open(child, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # another run is working in it
            shutil.rmtree(child, ignore_errors=True)
            if not child.exists():
                removed.append(child)
        finally:
            os.close(fd)
    return removed


@contextmanager
def scratch_folder(beside: Path) -> Iterator[Path]:
    """A new, locked scratch folder in the folder `beside`, removed on the way out.

    Stale scratch folders there (of runs that were killed) are removed first.  Raises
    `OSError` if the folder cannot be written.
    """
    sweep(beside)
    token = secrets.token_hex(6)
    final = beside / f".safeguard-scratch-{token}"
    making = beside / f".safeguard-scratch-{token}.making"
    os.mkdir(making, 0o700)
    try:
        fd = os.open(making, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        os.rmdir(making)
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            os.rename(making, final)
        except OSError:
            os.rmdir(making)
            raise
        try:
            yield final
        finally:
            with suppress(OSError):
                shutil.rmtree(final)
    finally:
        os.close(fd)
