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
