"""The scratch file a new vault is built in, beside the name it will be published under.

It is named `.NAME.XXXXXXXX.creating` and held under an exclusive `flock` for as long as its
maker runs; the kernel drops the lock when the maker ends, however it ends (SIGKILL included).
So a scratch file of that name whose lock can be taken is provably a leftover, and is removed.
Nothing here touches any other file, or a scratch file another process still holds.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import stat
from pathlib import Path

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
