"""Private files: the one way safeguard writes a file (a new vault, a backup and its manifest,
a restored vault, an export).

    with files.PrivateFile(path) as private:   # 0600, made before anything is read
        private.write_all(data)                # every byte, then fsync
        private.publish(replace=False)         # now, and only now, it has its name

or in one call, `files.write_private(path, data)`.

A private file has no name while it is written: on Linux it is an `O_TMPFILE` in the folder it
goes to, which vanishes with the process however that ends, and it is published with `linkat`
through `/proc/self/fd/N`.  A file that another program writes by its name (SQLite: a new vault,
a backup's copy) is made `named`, and so is every file where the filesystem has no nameless
files: it is written under a temporary name in the same folder, `.safeguard-PID-RANDOM.part`
(`temp_path`), removed, with whatever SQLite kept beside it, on every way out; a process killed
outright cannot remove it, so the next private file made in that folder removes those of
processes that are gone.

Publishing links the file under its name (so an existing file is never replaced unless asked),
or, where the filesystem refuses links (EPERM, EXDEV, ENOTSUP: a FAT USB stick), renames it
there; with `replace`, it is renamed over whatever is there, in one step.  Then the folder is
fsynced, so the name survives a power cut.  Nothing here knows what the file holds; errors are
the `OSError`s of the step that failed.
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
LINKS_REFUSED = frozenset({errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK})
#: Errors with which `open(O_TMPFILE)` says the filesystem (or kernel) has no nameless files.
NO_NAMELESS_FILES = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL})

TEMP_PREFIX = ".safeguard-"
TEMP_SUFFIX = ".part"
#: A temporary name, its first group the PID of the process that made it.
TEMP_NAME = re.compile(r"\.safeguard-(\d{1,10})-[0-9a-f]{16}\.part")
#: What SQLite may keep beside a database it has open: a temporary file's are named after it.
COMPANIONS = ("-journal", "-wal", "-shm")
_PROC_FD = Path("/proc/self/fd")
_CHUNK = 1 << 20
_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def temp_name() -> str:
    """A temporary name that says which process made it, so a later run can tell a stale one."""
    return f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{TEMP_SUFFIX}"


def is_temp_name(name: str) -> bool:
    """Whether `name` is a private file's temporary name, or that of a file SQLite keeps
    beside one."""
    return TEMP_NAME.fullmatch(_without_companion(name)) is not None


def _without_companion(name: str) -> str:
    for companion in COMPANIONS:
        if name.endswith(companion):
            return name[: -len(companion)]
    return name


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


def remove_stale(
    folder: Path, pattern: re.Pattern[str] = TEMP_NAME, *, ours_too: bool = False
) -> list[str]:
    """Remove this user's files in `folder` named by `pattern` (its first group a PID) whose
    process is gone, and what SQLite left beside any such file that is gone; their names.
    Anything else (another pattern, another owner, a link, a live process's) stays.

    With `ours_too`, this process's own count as gone: only for a caller that has no private
    file open in `folder` (a backup run clearing its folder, under the folder's lock)."""
    removed: list[str] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return removed
    for name in names:
        found = pattern.fullmatch(name)
        if found is None:
            continue
        pid = int(found.group(1))
        gone = (ours_too and pid == os.getpid()) or process_is_gone(pid)
        if gone and _remove_own_file(folder / name):
            removed.append(name)
    for name in names:
        base = _without_companion(name)
        orphan = base != name and pattern.fullmatch(base) and not os.path.lexists(folder / base)
        if orphan and _remove_own_file(folder / name):
            removed.append(name)
    return removed


def _remove_own_file(path: Path) -> bool:
    """Remove `path` if it is a regular file of this user's (never a link or a folder)."""
    try:
        status = path.lstat()
        if stat.S_ISREG(status.st_mode) and status.st_uid == os.geteuid():
            path.unlink()
            return True
    except OSError:
        pass
    return False


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


def place(temp: Path, path: Path) -> None:
    """Give the complete file at `temp` the name `path`, and take `temp` away, never replacing
    a file at `path` (FileExistsError, and nothing changes): by a hard link, or where the
    filesystem refuses links, by a rename.  The caller fsyncs the folder."""
    try:
        os.link(temp, path, follow_symlinks=False)
    except OSError as error:
        if error.errno not in LINKS_REFUSED:
            raise
        _rename_no_replace(temp, path)
    else:
        temp.unlink()


def _create_named(folder: Path) -> tuple[Path, int]:
    """A new, empty 0600 file under a temporary name in `folder`, open for reading and writing."""
    temp = folder / temp_name()
    return temp, os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)


class PrivateFile:
    """A 0600 file being written for `path`, which gets its name only from `publish`.  A
    `named` one has a temporary name from the start, `temp_path`, for a program that writes
    files by name; that program must have closed it (SQLite: no journal or WAL left) before
    it is published."""

    def __init__(self, path: Path, *, named: bool = False) -> None:
        self.path = path
        self.folder = path.parent
        self.published = False
        self._temp: Path | None = None  # the temporary name, where there is one
        self._fd: int | None = None
        remove_stale(self.folder)
        if not named:
            self._fd = self._open_nameless()
        if self._fd is None:
            self._temp, self._fd = _create_named(self.folder)

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

    @property
    def temp_path(self) -> Path:
        """The temporary name the file is written under (a `named` file's)."""
        assert self._temp is not None, "a nameless file has no name to be written by"
        return self._temp

    def write(self, data: bytes) -> None:
        """Write every byte of `data` (`sync` makes them durable)."""
        assert self._fd is not None, "the file is closed"
        _write_all(self._fd, data)

    def sync(self) -> None:
        """Put what is written on disk, whoever wrote it (fsync)."""
        assert self._fd is not None, "the file is closed"
        os.fsync(self._fd)

    def write_all(self, data: bytes) -> None:
        """Write every byte of `data`, then fsync: on return the content is on disk."""
        self.write(data)
        self.sync()

    def publish(self, *, replace: bool = False) -> None:
        """Give the written file its name: a file already at `path` is replaced only with
        `replace` (else FileExistsError, and nothing changes)."""
        assert self._fd is not None and not self.published
        if self._temp is None:
            self._name_nameless()
        assert self._temp is not None
        if replace:
            os.rename(self._temp, self.path)  # POSIX: one step, over whatever is there
        else:
            place(self._temp, self.path)
        self._temp = None
        self.published = True
        self.discard()
        fsync_folder(self.folder)

    def _name_nameless(self) -> None:
        """A temporary name for the nameless file, beside its final one: by `linkat`, or where
        links are refused, by copying it into a named temporary file that takes its place."""
        assert self._fd is not None
        temp = self.folder / temp_name()
        folder_fd = os.open(self.folder, os.O_RDONLY)
        try:
            # An explicit folder makes os.link call linkat(AT_SYMLINK_FOLLOW): the magic link
            # names the open file itself.
            os.link(_PROC_FD / str(self._fd), temp.name, dst_dir_fd=folder_fd, follow_symlinks=True)
            self._temp = temp
            return
        except OSError as error:
            if error.errno not in LINKS_REFUSED:
                raise
        finally:
            os.close(folder_fd)
        copy, fd = _create_named(self.folder)
        try:
            offset = 0
            while chunk := os.pread(self._fd, _CHUNK, offset):
                _write_all(fd, chunk)
                offset += len(chunk)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            copy.unlink(missing_ok=True)
            raise
        os.close(self._fd)
        self._fd, self._temp = fd, copy

    def discard(self) -> None:
        """Close the file and remove whatever is not published, with anything SQLite kept
        beside it (safe to call twice)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._temp is not None:
            for companion in COMPANIONS:
                Path(f"{self._temp}{companion}").unlink(missing_ok=True)
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


def second_name(path: Path, name: Path) -> None:
    """Give the file at `path` a second name, `name`, leaving it where it is and never replacing
    a file at `name` (FileExistsError): a hard link, or where the filesystem refuses links, a
    private copy published as `name`.  On return the name is durable."""
    try:
        os.link(path, name, follow_symlinks=False)
    except OSError as error:
        if error.errno not in LINKS_REFUSED:
            raise
        with PrivateFile(name) as copy, path.open("rb") as source:
            while chunk := source.read(_CHUNK):
                copy.write(chunk)
            copy.sync()
            copy.publish()
    else:
        fsync_folder(name.parent)
