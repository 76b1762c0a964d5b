"""Memory and leftovers: a running `safeguard` cannot be dumped to disk, the plain passphrase
variable is warned about, a killed export leaves no plaintext with a name, vi/vim/nvim keep no
copies of the text, and a killed `--editor`'s file is removed by the next run."""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from safeguarding.cli import casework, credentials

from tests import timeline_case as tc
from tests.conftest import invoke, run, safeguard_executable, write_secret

# A phrase of the case's account (tests/timeline_case.py), found in every export of it.
CANARY = b"I looked at my daughter's phone last night"


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tc.Built:
    case = tc.build_case(tmp_path)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(case.path))
    monkeypatch.setenv("SAFEGUARD_USER", tc.DSL)
    secret = write_secret(tmp_path / "passphrase", tc.DSL_PASSPHRASE)
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE_FILE", str(secret))
    return case


def exports_to(reference: str) -> list[str]:
    """The file names of the case's recorded exports."""
    result = invoke("audit", "--case", reference, "--json")
    assert result.exit_code == 0, result.stderr
    return [e["output"] for e in json.loads(result.stdout) if e["action"] == "exported"]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# Core dumps -------------------------------------------------------------------------------


def allow_core_dumps() -> None:
    """In the child before it runs: core dumps as large as they come."""
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def cores(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith("core")]


def wait_sleeping(pid: int, seconds: float = 60) -> None:
    """Until `pid` sleeps in SQLite's busy wait (what it does while another holds the lock)."""
    deadline = time.monotonic() + seconds
    seen = 0
    while time.monotonic() < deadline:
        try:
            wchan = Path(f"/proc/{pid}/wchan").read_text()
        except OSError:
            wchan = ""
        seen = seen + 1 if "nanosleep" in wchan else 0
        if seen >= 3:
            return
        time.sleep(0.1)
    pytest.skip("cannot see the process wait for the lock here (/proc/PID/wchan)")


@pytest.fixture
def core_folder(tmp_path: Path) -> Path:
    """A folder where a process started in it leaves its core file; skips where the kernel
    sends cores elsewhere (a control process that aborts must leave one here)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("core dumps are checked on Linux")
    folder = tmp_path / "cwd"
    folder.mkdir()
    control = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        cwd=folder,
        preexec_fn=allow_core_dumps,
    )
    time.sleep(0.5)
    control.send_signal(signal.SIGABRT)
    control.wait(timeout=60)
    found = cores(folder)
    if not found:
        pytest.skip("this kernel writes core files elsewhere (core_pattern), or not at all")
    for path in found:
        path.unlink()
    return folder


@pytest.fixture
def lock_held(built: tc.Built) -> Iterator[None]:
    holder = sqlite3.connect(built.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def unprivileged() -> list[str]:
    """A command prefix that runs a process as this user with no capabilities, as every other
    process of a shared account runs (root's capabilities would see through any protection)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, and no setpriv to drop capabilities")
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all"]


def others_can_read_environment(pid: int) -> bool:
    """Whether another process of the account can read /proc/PID/environ."""
    reader = [*unprivileged(), sys.executable, "-c", f"open('/proc/{pid}/environ', 'rb').read()"]
    return subprocess.run(reader, capture_output=True, check=False).returncode == 0


def test_an_export_waiting_for_the_lock_cannot_be_dumped(
    built: tc.Built, core_folder: Path, lock_held: None, tmp_path: Path
) -> None:
    control = subprocess.Popen([*unprivileged(), sys.executable, "-c", "input()"], stdin=-1)
    try:
        time.sleep(0.5)
        if not others_can_read_environment(control.pid):
            pytest.skip("other processes of this account cannot read /proc/PID/environ here")
    finally:
        control.kill()
        control.wait()
    process = subprocess.Popen(
        [
            *unprivileged(),
            safeguard_executable(),
            *("export", built.reference, "-f", "txt", "-o", "case.txt"),
        ],
        cwd=core_folder,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=allow_core_dumps,
    )
    try:
        wait_sleeping(process.pid)  # unlocked, the case read: waiting for the write lock
        limits = Path(f"/proc/{process.pid}/limits").read_text()
        line = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
        assert line.split()[4:6] == ["0", "0"], line
        # Not dumpable: no other process of the account may look into it.
        assert not others_can_read_environment(process.pid)
        process.send_signal(signal.SIGABRT)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGABRT
    assert cores(core_folder) == []
    for path in core_folder.iterdir():
        data = path.read_bytes()
        assert CANARY not in data and tc.DSL_PASSPHRASE.encode() not in data, path.name


# The passphrase variable ------------------------------------------------------------------


def test_the_plain_passphrase_variable_is_warned_about_once(
    built: tc.Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAFEGUARD_PASSPHRASE_FILE")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", tc.DSL_PASSPHRASE)
    result = run("cases", plain_warning=True)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warnings == [
        "safeguard: warning: SAFEGUARD_PASSPHRASE can be read by every process of this "
        "account; put the secret in a file only you can read (mode 0600) named by "
        "SAFEGUARD_PASSPHRASE_FILE"
    ]
    # Read twice in one process, it is still said once.
    credentials.forget_warnings()
    assert credentials.passphrase(tc.DSL) == tc.DSL_PASSPHRASE
    assert credentials.passphrase(tc.DSL) == tc.DSL_PASSPHRASE


def test_a_passphrase_file_is_not_warned_about(built: tc.Built) -> None:
    result = run("cases", plain_warning=True)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr


def test_reading_the_plain_variable_twice_warns_once(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", "words")
    credentials.forget_warnings()
    assert credentials.passphrase("alice") == "words"
    assert credentials.passphrase("alice") == "words"
    assert capfd.readouterr().err.count("warning: SAFEGUARD_PASSPHRASE can be read") == 1


# A killed export --------------------------------------------------------------------------


def test_an_export_killed_at_any_moment_leaves_no_unrecorded_plaintext(
    built: tc.Built, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    command = [safeguard_executable(), "export", built.reference, "-f", "txt", "-o"]
    started = time.monotonic()
    whole = subprocess.run([*command, str(folder / "whole.txt")], capture_output=True, check=False)
    took = time.monotonic() - started
    assert whole.returncode == 0, whole.stderr
    (folder / "whole.txt").unlink()
    chance = random.Random(13)
    outcomes = {"published": 0, "not": 0}
    for attempt in range(12):
        name = f"case-{attempt}.txt"
        process = subprocess.Popen(
            [*command, str(folder / name)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(chance.uniform(0.2, 1.0) * took)
        process.kill()
        process.wait()
        recorded = exports_to(built.reference)
        if (folder / name).exists():
            outcomes["published"] += 1
            assert name in recorded, f"run {attempt}: a file with no export recorded"
            assert CANARY in (folder / name).read_bytes()
            (folder / name).unlink()
        else:
            outcomes["not"] += 1
            for left in folder.iterdir():
                assert CANARY not in left.read_bytes(), f"run {attempt}: {left.name} holds text"
    assert sum(outcomes.values()) == 12


# The editor -------------------------------------------------------------------------------


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "is_interactive", lambda: True)


@pytest.fixture
def case(built: tc.Built) -> str:
    return built.reference


def fake_editor(folder: Path, name: str) -> Path:
    """An editor called `name` that records its arguments and writes a note."""
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(folder / 'argv.json')!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        "open(sys.argv[-1], 'w').write('Written in the editor.')\n"
    )
    path.chmod(0o700)
    return path


VIM = ["-n", "-i", "NONE", "-c", "set nobackup nowritebackup noundofile"]
NVIM = ["-n", "-i", "NONE", "-c", "set nobackup nowritebackup noundofile shada="]


@pytest.mark.parametrize(
    ("program", "editor", "options"),
    [
        ("vim", "vim", VIM),
        ("vim", "vim -u x", [*VIM, "-u", "x"]),
        ("nvim", "nvim --clean", [*NVIM, "--clean"]),
        ("vim.basic", "vi", VIM),  # vi installed as a link to vim
        ("nvi", "vi", []),  # vi that is not vim: run as given
        ("nano", "nano -R", ["-R"]),
    ],
)
def test_vi_vim_and_nvim_are_told_to_keep_no_copies(
    case: str,
    terminal: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    program: str,
    editor: str,
    options: list[str],
) -> None:
    bin_folder = tmp_path / "bin"
    real = fake_editor(bin_folder, program)
    called = editor.split()[0]
    if called != program:
        (bin_folder / called).symlink_to(real)
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("EDITOR", editor)
    monkeypatch.delenv("VISUAL", raising=False)
    result = invoke("note", case, "--editor", "--json")
    assert result.exit_code == 0, result.stderr
    argv = json.loads((bin_folder / "argv.json").read_text())
    assert argv[:-1] == options
    assert Path(argv[-1]).name.startswith(f"safeguard-edit-{os.getpid()}-")


@pytest.mark.skipif(shutil.which("vim") is None, reason="vim is not installed")
def test_vim_with_a_vimrc_that_keeps_everything_keeps_nothing(
    case: str, terminal: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = tmp_path / "kept"
    for folder in ("undo", "backup", "swap"):
        (kept / folder).mkdir(parents=True)
    vimrc = tmp_path / "vimrc"
    vimrc.write_text(
        "set nocompatible\n"
        f"set undofile undodir={kept}/undo\n"
        f"set backup writebackup backupdir={kept}/backup\n"
        f"set swapfile directory={kept}/swap\n"
        f"set viminfo='100,n{kept}/viminfo\n"
    )
    script = tmp_path / "type.vim"
    script.write_text(
        "call setline(1, 'Typed in vim, kept nowhere else.')\n"
        "let @a = 'yanked'\nwrite\nwrite\nqa!\n"
    )
    monkeypatch.setenv("EDITOR", f"vim -u {vimrc} -es -S {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    result = invoke("note", case, "--editor", "--json")
    assert result.exit_code == 0, result.stderr
    timeline = json.loads(invoke("timeline", case, "--json").stdout)
    assert timeline["entries"][-1]["text"].startswith("Typed in vim, kept nowhere else.")
    assert sorted(str(p.relative_to(kept)) for p in kept.rglob("*")) == [
        "backup",
        "swap",
        "undo",
    ]


def plant(folder: Path, name: str, owner: int | None = None) -> Path:
    path = folder / name
    path.write_text("Half-written text of a killed editor")
    if owner is not None:
        os.chown(path, owner, -1)
    return path


def test_stale_editor_files_of_this_user_are_removed_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    shm = tmp_path / "shm"
    shm.mkdir()
    monkeypatch.setattr(casework, "memory_folder", lambda: shm)
    stale = plant(shm, f"safeguard-edit-{dead_pid()}-abcd1234.txt")
    live = plant(shm, f"safeguard-edit-{os.getpid()}-abcd1234.txt")
    others = [
        plant(shm, "safeguard-notes.txt"),
        plant(shm, f"safeguard-{dead_pid()}-abcd1234.txt"),
        plant(shm, f"sem.safeguard-edit-{dead_pid()}-abcd1234.txt"),
    ]
    if os.geteuid() == 0:
        others.append(plant(shm, f"safeguard-edit-{dead_pid()}-efgh5678.txt", owner=65534))
    casework.remove_stale_editor_files()
    err = capfd.readouterr().err
    assert err.splitlines() == [
        f"safeguard: warning: removed 1 editor file left in {shm} by a killed --editor "
        "(its text was not saved)"
    ]
    assert not stale.exists()
    assert live.exists() and all(path.exists() for path in others)
    casework.remove_stale_editor_files()
    assert capfd.readouterr().err == ""


@pytest.mark.skipif(
    shutil.which("unshare") is None or os.geteuid() != 0, reason="needs root and unshare"
)
def test_a_run_removes_what_a_killed_editor_left_in_dev_shm(tmp_path: Path) -> None:
    """At start-up, in a real process, with a /dev/shm of its own (so no other run removes
    the planted file first)."""
    stale = f"safeguard-edit-{dead_pid()}-abcd1234.txt"
    script = (
        "mount -t tmpfs -o mode=1777 tmpfs /dev/shm || exit 99\n"
        f"echo text > /dev/shm/{stale}\n"
        "echo text > /dev/shm/someone-elses.txt\n"
        f"{safeguard_executable()} --version >/dev/null\n"
        "ls /dev/shm >&2\n"
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode == 99:
        pytest.skip("cannot mount a private /dev/shm here")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines == [
        "safeguard: warning: removed 1 editor file left in /dev/shm by a killed --editor "
        "(its text was not saved)",
        "someone-elses.txt",
    ]
