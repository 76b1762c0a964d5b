"""Backups, prunes and restores killed at every link, rename and unlink: nothing is left half
there, nothing is called lost that was not, and the next run finishes what the killed one began.

Two ways to kill: in-process, where `os.link`/`os.rename`/`os.unlink`/`os.rmdir` die at their
Nth call and every later call dies too (always run); and a real SIGKILL delivered by `strace`
at the Nth such system call of a real `safeguard` process (when strace is installed).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from datetime import timedelta
from pathlib import Path

import pytest

from safeguarding import backup, clock, restore, scratch
from safeguarding.errors import CheckFailed
from safeguarding.prune import Duration, Policy
from safeguarding.vault import Unlocked, Vault
from tests.conftest import PASSPHRASE, VaultInfo, safeguard_executable
from tests.test_backup import append_notes

DAY = Duration(hours=36)
STRACE = shutil.which("strace")
needs_strace = pytest.mark.skipif(STRACE is None, reason="strace is not installed")


# Dying in-process ------------------------------------------------------------------------------


class Killed(BaseException):
    """Stands for SIGKILL: no `except Exception` catches it, and nothing after it touches a
    file name, because every later link, rename or unlink dies too."""


PATCHED = ("link", "rename", "replace", "unlink", "rmdir")


@contextmanager
def dies_at(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    n: int,
    to: Callable[[str], bool] = lambda _target: True,
) -> Iterator[list[bool]]:
    """Make the `n`th call of `os.<name>` (of those whose last path `to` picks) kill the run;
    yields [whether it did]."""
    real = {function: getattr(os, function) for function in PATCHED}
    dead = [False]
    seen = [0]

    def patch(function: str) -> Callable[..., object]:
        def dying(*args: object, **kwargs: object) -> object:
            if dead[0]:
                raise Killed
            if function == name and to(str(args[-1])):
                seen[0] += 1
                if seen[0] == n:
                    dead[0] = True
                    raise Killed
            return real[function](*args, **kwargs)

        return dying

    with monkeypatch.context() as patched:
        for function in PATCHED:
            patched.setattr(os, function, patch(function))
        yield dead


def kill_points(
    monkeypatch: pytest.MonkeyPatch, name: str, run: Callable[[], object]
) -> Iterator[int]:
    """Yield each N for which `run` died at the Nth `os.<name>`, until one run gets past all."""
    for n in range(1, 60):
        with dies_at(monkeypatch, name, n) as dead, suppress(Killed):
            run()
        if not dead[0]:
            return
        yield n
    raise AssertionError(f"more than 60 calls of os.{name}")


# Dying for real: SIGKILL from strace at the Nth system call ------------------------------------


def traced(args: list[str], calls: str, root: Path) -> list[tuple[str, str]]:
    """Each call of the system calls `calls` a real run in `root` makes: (name, first path)."""
    assert STRACE is not None
    log = root.parent / f"{root.name}.strace"
    subprocess.run(
        [
            STRACE,
            "-f",
            "-qq",
            "-o",
            str(log),
            "-e",
            f"trace={calls}",
            safeguard_executable(),
            *args,
        ],
        cwd=root,
        env=process_env(root),
        capture_output=True,
        check=False,
        timeout=120,
    )
    found = []
    for line in log.read_text().splitlines():
        match = re.match(r'^(?:\d+ +)?(\w+)\((?:AT_FDCWD, |\d+, )?"([^"]*)"', line)
        if match:
            found.append((match[1], match[2]))
    log.unlink()
    return found


def killed_at(args: list[str], call: str, n: int, root: Path) -> None:
    """Run safeguard in `root` and SIGKILL it as it enters its `n`th `call`."""
    assert STRACE is not None
    done = subprocess.run(
        [
            STRACE,
            "-f",
            "-qq",
            "-o",
            os.devnull,
            "-e",
            f"trace={call}",
            "-e",
            f"inject={call}:signal=KILL:when={n}",
            safeguard_executable(),
            *args,
        ],
        cwd=root,
        env=process_env(root),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, (call, n, done.stderr)


def process_env(root: Path) -> dict[str, str]:
    temporary = root / "tmp"
    temporary.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": str(temporary),
        "SAFEGUARD_VAULT": str(root / "vault.db"),
    }


def points(calls: list[tuple[str, str]], keep: Callable[[str, str], bool]) -> list[tuple[str, int]]:
    """(call, N) for each call `keep` picks, N counting that call's every use."""
    seen: dict[str, int] = {}
    chosen = []
    for name, path in calls:
        seen[name] = seen.get(name, 0) + 1
        if keep(name, path):
            chosen.append((name, seen[name]))
    return chosen


def sqlite_side_file(path: str) -> bool:
    return path.endswith(("-journal", "-wal", "-shm"))


# What must hold ---------------------------------------------------------------------------------


def entries_in(path: Path) -> int:
    """The entries in a vault at rest (its WAL folded in), read without writing beside it."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])


def only_whole_backups(folder: Path) -> list[str]:
    """The folder holds whole, verified backups (each .db with its .json) and the lock, and
    nothing else; gives the backups' names."""
    names = sorted(p.name for p in folder.iterdir())
    dbs = [n for n in names if n.endswith(".db")]
    assert names == sorted([backup.LOCK_NAME, *dbs, *(n[:-3] + ".json" for n in dbs)]), names
    for check in backup.list_backups(folder):
        assert check.ok, (check.path.name, check.problem)
    return dbs


def copy_of(template: Path, root: Path) -> Path:
    shutil.copytree(template, root)
    return root


# Create: the manifest first, then the copy -----------------------------------------------------


@pytest.fixture
def create_template(vault: VaultInfo, tmp_path: Path) -> Path:
    """A vault and a backup folder holding last night's backup."""
    template = tmp_path / "create-template"
    template.mkdir()
    shutil.copy2(vault.path, template / "vault.db")
    (template / "backups").mkdir(mode=0o700)
    backup.create(template / "vault.db", template / "backups", now=clock.now() - timedelta(hours=5))
    return template


def check_interrupted_create(root: Path) -> None:
    folder = root / "backups"
    listed = backup.list_backups(folder)
    assert all(c.ok or c.pending for c in listed), [(c.path.name, c.problem) for c in listed]
    pending = [c.path.name for c in listed if c.pending]
    backup.status(folder, DAY)  # last night's still counts; nothing is called lost
    backup.create(root / "vault.db", folder)
    names = only_whole_backups(folder)
    assert set(pending) <= set(names)  # a copy whose manifest was in place was finished
    assert len(names) in (2, 3)


@pytest.mark.parametrize("call", ["link", "unlink"])
def test_a_create_killed_at_any_link_or_unlink_is_finished_or_gone(
    create_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    roots: list[Path] = []

    def run() -> None:
        roots.append(copy_of(create_template, tmp_path / f"run-{call}-{len(roots)}"))
        backup.create(roots[-1] / "vault.db", roots[-1] / "backups")

    killed = list(kill_points(monkeypatch, call, run))
    assert killed, "the run made no such call"
    for root in roots[: len(killed)]:
        check_interrupted_create(root)


def test_a_create_killed_between_its_two_links_leaves_a_pending_backup_not_a_lost_one(
    create_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_of(create_template, tmp_path / "run")
    folder = root / "backups"

    def naming_the_copy(target: str) -> bool:
        return backup.BACKUP_NAME.match(Path(target).name) is not None

    # The manifest is in place; the link that would name the copy dies.
    with dies_at(monkeypatch, "link", 1, to=naming_the_copy), pytest.raises(Killed):
        backup.create(root / "vault.db", folder)
    [pending] = [c for c in backup.list_backups(folder) if not c.ok]
    assert pending.pending and "not in place yet" in (pending.problem or "")
    assert not pending.path.exists() and backup.manifest_path(pending.path).exists()
    assert backup.status(folder, DAY).newest.path != pending.path
    backup.prune(folder, Policy(last=5))  # the next run, whichever it is, finishes it
    assert backup.verify(pending.path).manifest == pending.manifest
    only_whole_backups(folder)


def test_what_a_killed_create_of_0_1_0_left_is_finished_by_the_next(
    vault: VaultInfo, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    made = backup.create(vault.path, folder, now=clock.now() - timedelta(hours=5))
    # 0.1.0 wrote a copy as `.safeguard-<12 hex>.tmp`: killed after its manifest was linked.
    made.path.rename(folder / ".safeguard-0123456789ab.tmp")
    (folder / ".safeguard-abcdefabcdef.json.tmp").write_bytes(b"{")
    [pending] = backup.list_backups(folder)
    assert pending.pending, pending.problem
    backup.create(vault.path, folder)
    names = only_whole_backups(folder)
    assert made.path.name in names and len(names) == 2


@needs_strace
@pytest.mark.slow
def test_a_real_create_killed_at_each_link_and_unlink_heals(
    create_template: Path, tmp_path: Path
) -> None:
    args = ["backup", "create", "backups"]
    calls = traced(args, "link,linkat,unlink", copy_of(create_template, tmp_path / "probe"))

    def ours(name: str, path: str) -> bool:
        return "backups/" in path and not sqlite_side_file(path)

    chosen = points(calls, ours)
    assert sum(name in ("link", "linkat") for name, _ in chosen) == 2
    for number, (call, n) in enumerate(chosen):
        root = copy_of(create_template, tmp_path / f"killed-{number}")
        killed_at(args, call, n, root)
        check_interrupted_create(root)


# Prune: the manifest is taken back before the file goes ----------------------------------------


@pytest.fixture
def prune_template(vault: VaultInfo, tmp_path: Path) -> Path:
    """Four nightly backups, the newest last night."""
    template = tmp_path / "prune-template"
    folder = template / "backups"
    folder.mkdir(parents=True, mode=0o700)
    for nights in (4, 3, 2, 1):
        backup.create(vault.path, folder, now=clock.now() - timedelta(days=nights, hours=-1))
    return template


def check_interrupted_prune(root: Path) -> None:
    folder = root / "backups"
    for manifest in folder.glob("*.json"):
        assert manifest.with_suffix(".db").exists(), f"a lone manifest {manifest.name}"
    assert all(c.ok for c in backup.list_backups(folder))
    backup.status(folder, DAY)  # no alarm the next morning
    backup.prune(folder, Policy(last=1))
    [kept] = only_whole_backups(folder)
    assert kept == max(p.name for p in (root.parent / "prune-template/backups").glob("*.db"))


@pytest.mark.parametrize("call", ["rename", "unlink"])
def test_a_prune_killed_at_any_rename_or_unlink_never_leaves_a_lone_manifest(
    prune_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    roots: list[Path] = []

    def run() -> None:
        roots.append(copy_of(prune_template, tmp_path / f"run-{call}-{len(roots)}"))
        backup.prune(roots[-1] / "backups", Policy(last=1))

    killed = list(kill_points(monkeypatch, call, run))
    assert len(killed) >= 3  # one for each backup removed, at least
    for root in roots[: len(killed)]:
        check_interrupted_prune(root)


def test_a_prune_mark_is_finished_but_a_lone_manifest_is_kept_and_alerted(
    vault: VaultInfo, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    made = [
        backup.create(vault.path, folder, now=clock.now() - timedelta(days=n)) for n in (3, 2, 1)
    ]
    # A prune killed after taking back the oldest's manifest: its mark is proof of its decision.
    oldest = backup.BackupFile.from_path(made[0].path)
    assert oldest is not None
    os.rename(oldest.manifest_path, oldest.mark_path)
    assert [b.name for b in backup.scan(folder)] == [m.path.name for m in reversed(made[1:])]
    backup.status(folder, DAY)
    # A backup file lost behind safeguard's back: its manifest is the only evidence.
    made[1].path.unlink()
    with pytest.raises(CheckFailed, match="missing"):
        backup.status(folder, DAY)
    backup.prune(folder, Policy(last=5))
    assert not made[0].path.exists() and not oldest.mark_path.exists()
    assert backup.manifest_path(made[1].path).exists(), "prune removed evidence of a loss"
    with pytest.raises(CheckFailed, match=made[1].path.name):
        backup.status(folder, DAY)


@needs_strace
@pytest.mark.slow
def test_a_real_prune_killed_at_each_rename_and_unlink_heals(
    prune_template: Path, tmp_path: Path
) -> None:
    args = ["backup", "prune", "backups", "--keep-last", "1", "--quiet"]
    calls = traced(args, "rename,unlink", copy_of(prune_template, tmp_path / "probe"))
    chosen = points(calls, lambda _name, path: path.startswith("backups/"))
    assert len(chosen) == 9  # three backups: a rename and two unlinks each
    for number, (call, n) in enumerate(chosen):
        root = copy_of(prune_template, tmp_path / f"killed-{number}")
        killed_at(args, call, n, root)
        check_interrupted_prune(root)


# Restore --force: PATH always holds a vault ------------------------------------------------------


@pytest.fixture
def restore_template(vault: VaultInfo, tmp_path: Path) -> Path:
    """A backup, and a live vault that has moved on since."""
    template = tmp_path / "restore-template"
    folder = template / "backups"
    folder.mkdir(parents=True, mode=0o700)
    backup.create(vault.path, folder, now=clock.now() - timedelta(hours=5))
    append_notes(vault, 4)
    (template / "school").mkdir()
    shutil.copy2(vault.path, template / "school" / "vault.db")
    return template


def unlocker(vault: Vault) -> Unlocked:
    return vault.unlock("alice", PASSPHRASE)


def kept_aside(target: Path) -> list[int]:
    return [entries_in(p) for p in target.parent.glob(f"{target.name}.replaced-*[0-9Z]")]


def check_interrupted_restore(root: Path, old: int, new: int) -> None:
    target = root / "school" / "vault.db"
    assert target.exists(), "no vault at PATH"
    now_there = entries_in(target)
    assert now_there in (old, new)
    assert now_there == old or old in kept_aside(target), "the old vault is gone"
    temporary = root / "tmp"  # the processes' TMPDIR: nothing of the vault's goes there
    assert not temporary.exists() or list(temporary.iterdir()) == []
    [made] = backup.scan(root / "backups")
    restore.restore(made.path, target, force=True, unlock=unlocker)
    assert entries_in(target) == new
    assert old in kept_aside(target)
    leftovers = [p.name for p in target.parent.iterdir() if scratch.is_scratch_name(p.name)]
    assert leftovers == []


def counts(template: Path) -> tuple[int, int]:
    """The entries in the live vault, and in the backup."""
    [made] = backup.list_backups(template / "backups")
    assert made.manifest is not None
    return entries_in(template / "school" / "vault.db"), made.manifest.entries


@pytest.mark.parametrize("call", ["link", "rename", "unlink", "rmdir"])
def test_a_restore_killed_at_any_link_rename_or_unlink_leaves_a_vault_at_path(
    restore_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    call: str,
) -> None:
    old, new = counts(restore_template)
    assert old != new
    roots: list[Path] = []

    def run() -> None:
        roots.append(copy_of(restore_template, tmp_path / f"run-{call}-{len(roots)}"))
        [made] = backup.scan(roots[-1] / "backups")
        restore.restore(made.path, roots[-1] / "school" / "vault.db", force=True, unlock=unlocker)

    killed = list(kill_points(monkeypatch, call, run))
    assert killed
    for root in roots[: len(killed)]:
        check_interrupted_restore(root, old, new)


@needs_strace
@pytest.mark.slow
def test_a_real_restore_killed_at_each_link_rename_and_unlink_leaves_a_vault_at_path(
    restore_template: Path, tmp_path: Path
) -> None:
    old, new = counts(restore_template)
    [made] = backup.scan(restore_template / "backups")
    args = ["restore", f"backups/{made.name}", "--to", "school/vault.db", "--force"]
    probe = copy_of(restore_template, tmp_path / "probe")
    calls = traced(args, "link,linkat,rename,unlink,unlinkat,rmdir", probe)

    def chosen(name: str, path: str) -> bool:
        # Our own steps, and the full check's (SQLite's files beside its copy): not the live
        # vault's WAL, which SQLite removes as the check that it is not in use closes.
        return name != "unlink" or not sqlite_side_file(path) or "/check.db-" in path

    kill = points(calls, chosen)
    assert any("/check.db-" in path for _, path in calls), "no trace of the full check"
    assert {"linkat", "rename", "unlinkat", "rmdir"} <= {name for name, _ in kill}
    for number, (call, n) in enumerate(kill):
        root = copy_of(restore_template, tmp_path / f"killed-{number}")
        killed_at(args, call, n, root)
        check_interrupted_restore(root, old, new)


def test_a_restore_killed_during_its_check_leaves_its_scratch_beside_path_for_the_next_run(
    restore_template: Path, tmp_path: Path
) -> None:
    old, new = counts(restore_template)
    root = copy_of(restore_template, tmp_path / "run")
    env = process_env(root)
    # The full check waits for the passphrase, its copy already made: the moment to kill it.
    fifo = root / "passphrase"
    os.mkfifo(fifo, 0o600)
    env.pop("SAFEGUARD_PASSPHRASE", None)
    env["SAFEGUARD_PASSPHRASE_FILE"] = str(fifo)
    [made] = backup.scan(root / "backups")
    target = root / "school" / "vault.db"
    waiting = subprocess.Popen(
        [safeguard_executable(), "restore", str(made.path), "--to", str(target), "--force"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(target.parent.glob(".safeguard-scratch-*/check.db")):
            assert waiting.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        waiting.kill()
        waiting.wait()
    [left] = [p for p in target.parent.iterdir() if scratch.SCRATCH_NAME.match(p.name)]
    assert list((root / "tmp").iterdir()) == []
    assert entries_in(target) == old
    check_interrupted_restore(root, old, new)
    assert not left.exists()


def test_a_scratch_folder_in_use_is_never_swept_and_a_dead_runs_is(tmp_path: Path) -> None:
    beside = tmp_path / "school"
    beside.mkdir()
    dead = beside / ".safeguard-scratch-0123456789ab"  # what a killed run leaves: no lock
    dead.mkdir()
    (dead / "check.db").write_bytes(b"x")
    (beside / ".safeguard-scratch-notours").mkdir()
    with scratch.scratch_folder(beside) as mine:
        assert not dead.exists()
        (mine / "work").write_bytes(b"x")
        assert scratch.sweep(beside) == []
        assert (mine / "work").exists()
    assert [p.name for p in beside.iterdir()] == [".safeguard-scratch-notours"]


def test_a_full_backup_verify_works_beside_the_backup_and_create_tolerates_it(
    vault: VaultInfo, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    made = backup.create(vault.path, folder)
    seen: list[list[str]] = []

    def unlock_and_look(opened: Vault) -> Unlocked:
        seen.append(sorted(p.name for p in folder.iterdir() if scratch.is_scratch_name(p.name)))
        # Another nightly run at the same moment neither refuses the folder nor sweeps it.
        backup.create(vault.path, folder, now=clock.now() + timedelta(seconds=1))
        return unlocker(opened)

    assert backup.verify(made.path, unlock_and_look).full
    assert len(seen[0]) == 1
    assert [p.name for p in folder.iterdir() if scratch.is_scratch_name(p.name)] == []
    assert len(only_whole_backups(folder)) == 2
