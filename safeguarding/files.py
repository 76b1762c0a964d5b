"""Private files: the one way safeguard writes a file that may hold something personal.

    with files.PrivateFile(path) as private:   # 0600, made before anything is read
        private.write_all(data)                # every byte, then fsync
        private.publish(replace=False)         # now, and only now, it has its name

or in one call, `files.write_private(path, data)`.

A private file has no name while it is written: on Linux it is an `O_TMPFILE` in the folder it
goes to, which vanishes with the process however that ends, and it is published with `linkat`
through `/proc/self/fd/N`.  Where the filesystem has no nameless files it is written under a
temporary name in the same folder, `.safeguard-PID-RANDOM.part`, removed on every way out; a
process killed outright cannot remove it, so the next private file made in that folder removes
those of processes that are gone.

Publishing links the file under its name (so an existing file is never replaced unless asked),
or, where the filesystem refuses links (EPERM, EXDEV, ENOTSUP: a FAT USB stick), renames it
there; then the folder is fsynced, so the name survives a power cut.  Nothing here knows what
the file holds; errors are the `OSError`s of the step that failed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import stat
import sys
from pathlib import Path
from types import TracebackType

#: Errors with which a filesystem says it has no hard links (FAT answers EPERM).
LINKS_REFUSED = frozenset({errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP})
#: Errors with which `open(O_TMPFILE)` says the filesystem (or kernel) has no nameless files.
NO_NAMELESS_FILES = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL})

TEMP_PREFIX = ".safeguard-"
TEMP_SUFFIX = ".part"
_TEMP_NAME = re.compile(r"\.safeguard-(\d{1,10})-[0-9a-f]{16}\.part")
_PROC_FD = Path("/proc/self/fd")
_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def temp_name() -> str:
    """A temporary name that says which process made it, so a later run can tell a stale one."""
    return f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{TEMP_SUFFIX}"


def process_is_gone(pid: int) -> bool:
    """True when no process `pid` exists (one of another user's counts as existing)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it exists, it is someone else's
        return False
    return False


def remove_stale(folder: Path, pattern: re.Pattern[str] = _TEMP_NAME) -> list[str]:
    """Remove this user's files in `folder` named by `pattern` (its first group a PID) whose
    process is gone; their names.  Anything else (another pattern, another owner, a link, a
    live process's) stays."""
    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        found = pattern.fullmatch(name)
        if found is None or not process_is_gone(int(found.group(1))):
            continue
        path = folder / name
        try:
            status = path.lstat()
            if stat.S_ISREG(status.st_mode) and status.st_uid == os.geteuid():
                path.unlink()
                removed.append(name)
        except OSError:
            continue
    return removed


def fsync_folder(folder: Path) -> None:
    """Make the names in `folder` durable (a filesystem that cannot sync a folder has nothing
    to do)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _rename_no_replace(source: Path, target: Path) -> None:
    """Rename `source` to `target`, never replacing a file there (FileExistsError)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = getattr(libc, "renameat2", None)
        if renameat2 is not None:
            result = renameat2(
                _AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), _RENAME_NOREPLACE
            )
            if result == 0:
                return
            code = ctypes.get_errno()
            if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
                raise OSError(code, os.strerror(code), str(target))
    # No atomic "rename unless there": check, then rename (what a FAT stick leaves us).
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
    os.rename(source, target)


class PrivateFile:
    """A 0600 file being written for `path`, which gets its name only from `publish`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.folder = path.parent
        self.published = False
        self._temp: Path | None = None  # the temporary name, where there is one
        self._fd: int | None = None
        remove_stale(self.folder)
        self._fd = self._open_nameless()
        if self._fd is None:
            self._temp = self.folder / temp_name()
            self._fd = os.open(
                self._temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600
            )

    def _open_nameless(self) -> int | None:
        if not hasattr(os, "O_TMPFILE") or not _PROC_FD.is_dir():
            return None
        try:
            return os.open(self.folder, os.O_TMPFILE | os.O_RDWR, 0o600)
        except OSError as error:
            if error.errno in NO_NAMELESS_FILES:
                return None
            raise

    @property
    def nameless(self) -> bool:
        return self._temp is None

    def write_all(self, data: bytes) -> None:
        """Write every byte of `data`, then fsync: on return the content is on disk."""
        assert self._fd is not None, "the file is closed"
        _write_all(self._fd, data)
        os.fsync(self._fd)

    def publish(self, *, replace: bool = False) -> None:
        """Give the written file its name: a file already at `path` is replaced only with
        `replace` (else FileExistsError, and nothing changes)."""
        assert self._fd is not None and not self.published
        if self._temp is None:
            self._temp = self._name_nameless()
        if replace:
            os.replace(self._temp, self.path)
        else:
            self._place(self._temp)
        self._temp = None
        self.published = True
        self.discard()
        fsync_folder(self.folder)

    def _place(self, temp: Path) -> None:
        try:
            os.link(temp, self.path, follow_symlinks=False)
        except OSError as error:
            if error.errno not in LINKS_REFUSED:
                raise
            _rename_no_replace(temp, self.path)
        else:
            temp.unlink()

    def _name_nameless(self) -> Path:
        """A temporary name for the nameless file, beside its final one: by `linkat`, or where
        links are refused, by copying it into a new temporary file."""
        assert self._fd is not None
        temp = self.folder / temp_name()
        folder_fd = os.open(self.folder, os.O_RDONLY)
        try:
            # An explicit folder makes os.link call linkat(AT_SYMLINK_FOLLOW): the magic link
            # names the open file itself.
            os.link(_PROC_FD / str(self._fd), temp.name, dst_dir_fd=folder_fd, follow_symlinks=True)
            return temp
        except OSError as error:
            if error.errno not in LINKS_REFUSED:
                raise
        finally:
            os.close(folder_fd)
        copy = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            offset = 0
            while chunk := os.pread(self._fd, 1 << 20, offset):
                _write_all(copy, chunk)
                offset += len(chunk)
            os.fsync(copy)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        finally:
            os.close(copy)
        return temp

    def discard(self) -> None:
        """Close the file and remove whatever is not published (safe to call twice)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._temp is not None:
            with contextlib.suppress(FileNotFoundError):
                self._temp.unlink()
            self._temp = None

    def __enter__(self) -> PrivateFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.discard()


def write_private(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write `data` to a new 0600 file at `path` atomically: all of it or nothing there."""
    with PrivateFile(path) as private:
        private.write_all(data)
        private.publish(replace=replace)
