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

from safeguarding import files
from safeguarding.vault import Vault
from tests.conftest import PASSPHRASE, PLAIN_WARNING, run, safeguard_executable
from tests.reliability import run_unprivileged

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


def test_init_in_a_folder_it_cannot_write_says_so_in_one_line(target: Path) -> None:
    target.parent.chmod(0o500)
    try:
        result = run_unprivileged("init")
    finally:
        target.parent.chmod(0o700)
    assert result.returncode == 5, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"safeguard: could not write the vault at {target} (permission denied); "
        "no vault was created"
    )
    assert _leftovers(target.parent) == []


# `init` in a real process that kills itself (SIGKILL: no clean-up can run) at one point.
KILLED_AT = textwrap.dedent(
    """
    import os, signal, sys
    from safeguarding.cli.app import main

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    point = sys.argv.pop(1)
    if point == "publish":  # the key is shown; the vault is about to be linked into place
        os.link = die
    else:  # the vault is linked into place; its temporary name is not yet removed
        link = os.link

        def link_then_die(*args, **kwargs):
            link(*args, **kwargs)
            die()

        os.link = link_then_die
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
    assert len(left) == 1 and files.TEMP_NAME.fullmatch(left[0])

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
    killed = _init_killed_at("linked")
    assert killed.returncode == -signal.SIGKILL
    shown = KEY.search(killed.stdout)
    assert shown is not None and target.exists()
    vault = Vault.open(target)
    try:
        vault.unlock_with_recovery_key(shown.group())  # raises if it is not this vault's key
    finally:
        vault.close()
    assert len(_leftovers(target.parent)) == 2  # the vault, and its temporary name

    again = run("init")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert _leftovers(target.parent) == ["vault.db"]  # the temporary name is gone
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
    assert [n for n in _leftovers(target.parent) if files.is_temp_name(n)] == []


# A process holding a vault's temporary file (and SQLite's WAL beside it) until told to end.
HOLDING = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from safeguarding import files

    with files.PrivateFile(Path(sys.argv[1]), named=True) as held:
        Path(f"{held.temp_path}-wal").write_bytes(b"")
        print(held.temp_path.name, flush=True)
        sys.stdin.readline()
    """
)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_temporary_file_still_held_by_a_running_init_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "vault.db"
    with subprocess.Popen(
        [sys.executable, "-c", HOLDING, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None
        held = tmp_path / holder.stdout.readline().strip()
        dead = _dead_pid()
        stale = tmp_path / f".safeguard-{dead}-{'0123abcd' * 2}.part"
        stale.write_bytes(b"killed init")
        Path(f"{stale}-wal").write_bytes(b"")
        orphan = tmp_path / f".safeguard-{dead}-{'89abcdef' * 2}.part-shm"
        orphan.write_bytes(b"")
        others = [
            tmp_path / f".safeguard-{dead}.part",  # not the pattern
            tmp_path / f".safeguard-{dead}-{'0123ABCD' * 2}.part",  # not ours: upper-case hex
            tmp_path / ".vault.db.0123abcd.creating",  # not a private file's at all
        ]
        for other in others:
            other.write_bytes(b"someone else's")
        link = tmp_path / f".safeguard-{dead}-{'fedcba98' * 2}.part"
        link.symlink_to(tmp_path / "elsewhere")
        try:
            removed = files.remove_stale(tmp_path)
            assert sorted(removed) == sorted([stale.name, f"{stale.name}-wal", orphan.name])
            assert held.exists() and Path(f"{held}-wal").exists()
            assert all(other.exists() for other in others) and link.is_symlink()
        finally:
            holder.kill()
    # Killed, it could not clear up: the next private file made here does.
    assert held.exists()
    files.write_private(tmp_path / "next.txt", b"x")
    assert not held.exists() and not Path(f"{held}-wal").exists()
