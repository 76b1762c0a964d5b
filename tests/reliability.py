"""Helpers for the reliability tests: running the CLI without root's powers, tiny filesystems,
and reading a case back through the library."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, PLAIN_WARNING, safeguard_executable

# Root ignores file permissions; dropping these capabilities makes it obey them like anyone.
DROP_ROOT_POWERS = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    return DROP_ROOT_POWERS


def run_unprivileged(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run(
        [*unprivileged_prefix(), safeguard_executable(), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )
    result.stderr = PLAIN_WARNING.sub("", result.stderr)  # tested in tests/test_leftovers.py
    return result


@contextmanager
def tiny_filesystem(where: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of `size_kib` mounted at `where` (skips the test where mounting is not allowed)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tiny filesystem needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path, leave_bytes: int) -> None:
    """Fill the filesystem holding `folder` until about `leave_bytes` are free."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    with open(folder / "filler", "wb") as handle:
        handle.write(b"\0" * max(0, free - leave_bytes))


def open_casebook(path: Path, user: str = "alice", passphrase: str = PASSPHRASE) -> Any:
    """The library's casebook on `path`, under the packaged categories (close its `unlocked`)."""
    from safeguarding import categories, config
    from safeguarding.cases import Casebook
    from safeguarding.vault import Vault

    unlocked = Vault.open(path).unlock(user, passphrase)
    return Casebook(unlocked, categories.load(), config.load())


def record_case(path: Path) -> str:
    """A disclosure recorded through the library; its reference."""
    from safeguarding.entries import Disclosure, Subject

    book = open_casebook(path)
    try:
        return str(
            book.open(
                Disclosure(
                    category="staff-misuse",
                    subjects=(Subject("Daniel Price", "staff"),),
                    disclosed_by="Karen Webb",
                    relationship="parent",
                    where="the school office",
                    text="He has been messaging my daughter.",
                )
            ).reference
        )
    finally:
        book.unlocked.close()


def case_entries(path: Path, reference: str) -> list[Any]:
    """The case's entries as the library reads them back."""
    book = open_casebook(path)
    try:
        return list(book.read(reference).entries)
    finally:
        book.unlocked.close()


def chain_seqs(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [int(seq) for (seq,) in db.execute("SELECT seq FROM entries ORDER BY seq")]
