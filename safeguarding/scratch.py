"""Scratch folders beside the file they serve, for work on a copy of a vault (the full check
of a backup, before a restore), locked while in use and removed by the next run if a kill
left them behind.

The kernel drops an `flock` when its holder ends, however it ends (SIGKILL included), so a
scratch folder whose lock can be taken belongs to no living run and is removed.  A scratch
folder is ``.safeguard-scratch-<12 hex digits>`` (0700), locked by its maker.

Nothing here may remove anything another run still holds, or anything not named as above.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

SCRATCH_NAME = re.compile(r"^\.safeguard-scratch-[0-9a-f]{12}$")


def is_scratch_name(name: str) -> bool:
    return SCRATCH_NAME.match(name) is not None


def sweep(folder: Path) -> list[Path]:
    """Remove the scratch folders in `folder` that no living run holds; gives those removed."""
    removed: list[Path] = []
    try:
        children = list(folder.iterdir())
    except OSError:
        return removed
    for child in children:
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
    while True:
        folder = beside / f".safeguard-scratch-{secrets.token_hex(6)}"
        os.mkdir(folder, 0o700)
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except FileNotFoundError:
            continue
        # Between the mkdir and the lock, another run's sweep may take it for a dead run's and
        # remove it: then it is not the folder at that name any more, and a new one is made.
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(folder, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield folder
    finally:
        try:
            with suppress(OSError):
                shutil.rmtree(folder)
        finally:
            os.close(fd)
