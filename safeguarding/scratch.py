"""Scratch space beside the file it serves, locked while in use, removed by the next run if a
kill left it behind: folders for work on a copy of a vault (backups, restores), and the file a
new vault is built in.

The kernel drops an `flock` when its holder ends, however it ends (SIGKILL included), so a
scratch folder or file whose lock can be taken belongs to no living run and is removed.

- A scratch folder is ``.safeguard-scratch-<12 hex digits>`` (0700), locked by its maker.
- A new vault is built in ``.NAME.XXXXXXXX.creating`` beside NAME, locked by its `init`.

Nothing here may remove anything another run still holds, or anything not named as above.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import stat
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


# The file a new vault is built in ------------------------------------------------------------

SUFFIX = ".creating"
#: What SQLite may keep beside a database while it is open.
COMPANIONS = ("-wal", "-shm", "-journal")


def _pattern(target: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(target.name)}\.[0-9a-f]{{8}}{re.escape(SUFFIX)}")


class Scratch:
    """A scratch file for `target`, created empty (0600) and locked by this process."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self._descriptor: int | None = descriptor

    @classmethod
    def claim(cls, target: Path) -> Scratch:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        while True:
            path = target.with_name(f".{target.name}.{secrets.token_hex(4)}{SUFFIX}")
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            # Another init clearing leftovers could take the lock in the instant between the
            # file's creation and our lock, and remove it: then the name is not ours; try again.
            if _same_file(path, descriptor):
                return cls(path, descriptor)
            os.close(descriptor)

    def remove(self) -> None:
        """Remove the scratch file and anything SQLite left beside it; keep the lock."""
        _remove(self.path)

    def release(self) -> None:
        """Remove the scratch file, then drop the lock.  Safe to call twice."""
        self.remove()
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def clear_stale(target: Path) -> list[Path]:
    """Remove the scratch files for `target` that no running process holds (a killed `init`
    left them), and their SQLite companions; return the scratch files removed."""
    folder = target.parent
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []  # no folder yet (nothing to clear), or one we cannot list
    pattern = _pattern(target)
    removed = []
    for name in names:
        path = folder / name
        if pattern.fullmatch(name) and _removed_if_stale(path):
            removed.append(path)
        elif _orphan_companion(pattern, folder, name):
            path.unlink(missing_ok=True)
    return removed


def _removed_if_stale(path: Path) -> bool:
    """Remove `path` if it is our kind of file (regular, ours) and nobody holds its lock."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        facts = os.fstat(descriptor)
        if not stat.S_ISREG(facts.st_mode) or facts.st_uid != os.getuid():
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its maker is still running
        if not _same_file(path, descriptor):
            return False
        # Locked by us, and still the file under that name: nobody can be using it.
        _remove(path)
        return True
    finally:
        os.close(descriptor)


def _orphan_companion(pattern: re.Pattern[str], folder: Path, name: str) -> bool:
    """A `-wal`, `-shm` or `-journal` of a scratch file that is itself gone."""
    for companion in COMPANIONS:
        if name.endswith(companion) and pattern.fullmatch(name[: -len(companion)]):
            return not (folder / name[: -len(companion)]).exists()
    return False


def _same_file(path: Path, descriptor: int) -> bool:
    try:
        named = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _remove(path: Path) -> None:
    # The companions first: a kill in between never leaves one without its scratch file.
    for companion in COMPANIONS:
        Path(f"{path}{companion}").unlink(missing_ok=True)
    path.unlink(missing_ok=True)
