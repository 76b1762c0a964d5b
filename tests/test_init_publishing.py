"""`init` shows the recovery key before the vault appears under its name: if the key cannot be
shown, or `init` is killed before publishing, there is no vault, and the next `init` works and
removes what the killed one left.  Real processes, killed at named points."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from safeguarding import scratch
from safeguarding.vault import Vault
from tests.conftest import PASSPHRASE, PLAIN_WARNING, run, safeguard_executable

KEY = re.compile(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){7}")


def _leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name != "key.txt")


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "school"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(folder / "vault.db"))
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    return folder / "vault.db"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize("json_flag", [["--json"], []], ids=["json", "panel"])
def test_init_whose_key_cannot_be_shown_leaves_no_vault(target: Path, json_flag: list[str]) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [safeguard_executable(), "init", *json_flag],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert PLAIN_WARNING.sub("", result.stderr).splitlines()[0] == (
        "safeguard: could not show the recovery key on standard output (no space left on "
        "device); no vault was created"
    )
    assert _leftovers(target.parent) == []
    again = run("init", "--json")
    assert again.returncode == 0, again.stderr


def test_init_with_stdout_closed_leaves_no_vault(target: Path) -> None:
    result = subprocess.run(
        ["sh", "-c", 'exec "$0" init >&-', safeguard_executable()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "could not show the recovery key on standard output (it is closed)" in result.stderr
    assert _leftovers(target.parent) == []


# `init` in a real process that kills itself (SIGKILL: no clean-up can run) at one point.
KILLED_AT = textwrap.dedent(
    """
    import os, signal, sys
    from safeguarding import storage
    from safeguarding.cli.app import main

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    point = sys.argv.pop(1)
    if point == "publish":  # the key is shown; the vault is about to be linked into place
        os.link = die
    else:  # the vault is linked into place; its scratch name is not yet removed
        storage.fsync_directory = die
    sys.argv[0] = "safeguard"
    main()
    """
)


def _init_killed_at(point: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILLED_AT, point, "init"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_init_killed_after_showing_the_key_leaves_no_vault_and_the_next_init_clears_up(
    target: Path,
) -> None:
    killed = _init_killed_at("publish")
    assert killed.returncode == -signal.SIGKILL
    assert KEY.search(killed.stdout)  # the key was shown
    assert not target.exists()
    left = _leftovers(target.parent)
    assert len(left) == 1 and re.fullmatch(r"\.vault\.db\.[0-9a-f]{8}\.creating", left[0])

    again = run("init", "--json")
    assert again.returncode == 0, again.stderr
    assert _leftovers(target.parent) == ["vault.db"]
    shown = KEY.search(again.stdout)
    assert shown is not None
    vault = Vault.open(target)
    try:
        vault.unlock_with_recovery_key(shown.group())
    finally:
        vault.close()


def test_init_killed_just_after_publishing_leaves_a_vault_whose_key_was_shown(
    target: Path,
) -> None:
    killed = _init_killed_at("fsync")
    assert killed.returncode == -signal.SIGKILL
    shown = KEY.search(killed.stdout)
    assert shown is not None and target.exists()
    vault = Vault.open(target)
    try:
        vault.unlock_with_recovery_key(shown.group())  # raises if it is not this vault's key
    finally:
        vault.close()
    assert len(_leftovers(target.parent)) == 2  # the vault, and its scratch name

    again = run("init")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert _leftovers(target.parent) == ["vault.db"]  # the scratch name is gone
    assert run("verify").returncode == 0


def test_init_killed_as_soon_as_its_key_appears_leaves_nothing_or_a_vault_it_opens(
    target: Path,
) -> None:
    """An outside SIGKILL the moment the key is on screen: whichever side of the publishing it
    lands, there is no vault whose key nobody saw."""
    with subprocess.Popen(
        [safeguard_executable(), "init"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stdout is not None
        shown = None
        for line in process.stdout:
            shown = KEY.search(line)
            if shown:
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=60)
    assert shown is not None
    published = target.exists()
    if published:
        vault = Vault.open(target)
        try:
            vault.unlock_with_recovery_key(shown.group())
        finally:
            vault.close()
    again = run("init")
    assert again.returncode == (2 if published else 0), again.stderr
    assert [n for n in _leftovers(target.parent) if n.endswith(".creating")] == []


def test_a_scratch_file_still_held_by_a_running_init_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "vault.db"
    held = scratch.Scratch.claim(target)
    stale = tmp_path / ".vault.db.0123abcd.creating"
    stale.write_bytes(b"killed init")
    Path(f"{stale}-wal").write_bytes(b"")
    orphan = tmp_path / ".vault.db.89abcdef.creating-shm"
    orphan.write_bytes(b"")
    others = [
        tmp_path / ".vault.db.creating",  # not the pattern
        tmp_path / ".other.db.0123abcd.creating",  # another vault's
        tmp_path / ".vault.db.0123ABCD.creating",  # not ours: upper-case hex
    ]
    for other in others:
        other.write_bytes(b"someone else's")
    link = tmp_path / ".vault.db.fedcba98.creating"
    link.symlink_to(tmp_path / "elsewhere")
    try:
        assert scratch.clear_stale(target) == [stale]
        assert held.path.exists()
        assert not Path(f"{stale}-wal").exists() and not orphan.exists()
        assert all(other.exists() for other in others) and link.is_symlink()
    finally:
        held.release()
    assert not held.path.exists()
