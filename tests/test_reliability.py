"""Bad vaults and hostile conditions: every one gets exit 5 and one line, and nothing is lost."""

from __future__ import annotations

import itertools
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from safeguarding import storage
from safeguarding.vault import Vault
from tests.conftest import (
    DEPUTY_PASSPHRASE,
    FAST_KDF,
    PASSPHRASE,
    VaultInfo,
    invoke,
    run,
    safeguard_executable,
)
from tests.reliability import (
    case_entries,
    chain_seqs,
    fill,
    record_case,
    run_unprivileged,
    tiny_filesystem,
)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and "Traceback" not in stderr
    assert len(lines) <= 2, stderr
    return lines[0]


def entry_count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])


def test_read_only_vault_file_exits_5(vault: VaultInfo) -> None:
    before = vault.path.read_bytes()
    vault.path.chmod(0o400)
    try:
        result = run_unprivileged(
            "user",
            "add",
            "bob",
            "--role",
            "deputy",
            env={"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE},
        )
    finally:
        vault.path.chmod(0o600)
    assert result.returncode == 5, result.stderr
    assert "cannot write" in one_line(result.stderr) or "cannot read" in one_line(result.stderr)
    assert vault.path.read_bytes() == before


def test_read_only_vault_folder_exits_5(vault: VaultInfo) -> None:
    folder = vault.path.parent
    before = vault.path.read_bytes()
    mode = stat.S_IMODE(folder.stat().st_mode)
    folder.chmod(0o500)
    try:
        result = run_unprivileged("verify")
    finally:
        folder.chmod(mode)
    assert result.returncode == 5, result.stderr
    one_line(result.stderr)
    assert vault.path.read_bytes() == before


def test_truncated_vault_exits_5(vault: VaultInfo, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(vault.path.read_bytes()[:8192])
    result = run("--vault", str(truncated), "verify")
    assert result.returncode == 5, result.stderr
    assert "damaged or not a safeguard vault" in one_line(result.stderr)


def test_empty_and_random_files_exit_5(tmp_path: Path) -> None:
    for name, content in (("empty.db", b""), ("random.db", os.urandom(65536))):
        path = tmp_path / name
        path.write_bytes(content)
        result = run("--vault", str(path), "verify", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE})
        assert result.returncode == 5, (name, result.stderr)
        assert "not a safeguard vault" in one_line(result.stderr)
        assert path.read_bytes() == content


def test_writer_that_cannot_get_the_lock_exits_5_and_writes_nothing(vault: VaultInfo) -> None:
    holder = sqlite3.connect(vault.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = run(
            "user",
            "add",
            "bob",
            "--role",
            "deputy",
            env={"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE, "SAFEGUARD_BUSY_TIMEOUT": "0.5"},
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 5, result.stderr
    assert "busy" in one_line(result.stderr)
    assert entry_count(vault.path) == 2
    assert run("verify").returncode == 0


def test_disk_full_is_a_clear_error_and_the_vault_still_verifies(tmp_path: Path) -> None:
    with tiny_filesystem(tmp_path / "small", 1024) as small:
        path = small / "vault.db"
        unlocked, _ = Vault.create(path, "alice", PASSPHRASE, kdf=FAST_KDF)
        unlocked.close()
        env = {
            "SAFEGUARD_VAULT": str(path),
            "SAFEGUARD_USER": "alice",
            "SAFEGUARD_PASSPHRASE": PASSPHRASE,
        }
        fill(small, leave_bytes=0)
        results = [
            run(
                "user",
                "add",
                f"user {n}",
                "--role",
                "deputy",
                env={**env, "SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE},
            )
            for n in range(3)
        ]
        failed = [r for r in results if r.returncode != 0]
        assert failed, "the filesystem never filled up"
        for result in failed:
            assert result.returncode == 5, result.stderr
            assert "full" in one_line(result.stderr)
        succeeded = len(results) - len(failed)
        (small / "filler").unlink()
        check = run("verify", "--json", env=env)
        assert check.returncode == 0, check.stderr
        assert f'"entries": {2 + succeeded}' in check.stdout


# Killed, concurrent and refused writers -----------------------------------------------------

KILLS = 30


def _start_note(case: str, text: str) -> subprocess.Popen[bytes]:
    """`safeguard note CASE --text-file -` as a real process, its text already on stdin."""
    process = subprocess.Popen(
        [safeguard_executable(), "note", case, "--text-file", "-", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None
    process.stdin.write(text.encode())
    process.stdin.close()
    return process


def test_kill_9_loses_no_reported_note_and_leaves_no_partial_one(vault: VaultInfo) -> None:
    case = record_case(vault.path)
    started = time.monotonic()
    calibration = _start_note(case, "calibration note\n")
    assert calibration.wait(timeout=60) == 0
    typical = time.monotonic() - started

    rng = random.Random(7)  # the kills spread over the run, reproducibly
    sent: dict[str, int] = {}
    for attempt in range(KILLS):
        text = f"kill-9 note {attempt} {uuid.uuid4().hex}\nsecond line\r\n"
        started = time.monotonic()
        process = _start_note(case, text)
        if attempt % 5 == 4:
            # Every fifth runs to the end, and times a run again: the machine is shared, and a
            # run grows slower or faster with the tests beside it.
            sent[text] = process.wait(timeout=60)
            typical = time.monotonic() - started
            continue
        time.sleep(rng.uniform(0.2, 1.2) * typical)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        sent[text] = process.wait(timeout=60)

    reported = {text for text, code in sent.items() if code == 0}
    killed = [text for text, code in sent.items() if code == -signal.SIGKILL]
    assert len(reported) + len(killed) == KILLS, sorted(sent.values())  # nothing else failed
    assert len(killed) >= KILLS // 4, "the kills did not spread over the command's run"

    verified = run("verify")
    assert verified.returncode == 0, verified.stderr
    notes = [e.text for e in case_entries(vault.path, case) if e.kind == "note"]
    assert notes[0] == "calibration note\n"
    assert reported <= set(notes), "a note whose command reported success was lost"
    assert set(notes[1:]) <= set(sent), "a note was stored partly or changed"
    assert len(notes) == len(set(notes)), "a note was stored twice"
    assert chain_seqs(vault.path) == list(range(1, len(chain_seqs(vault.path)) + 1))


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from safeguarding.entries import Note
    from tests.reliability import open_casebook

    path, case, name, go = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
    book = open_casebook(path)
    (go.parent / f"ready-{name}").touch()
    while not go.exists():
        time.sleep(0.005)
    for number in range(50):
        book.add(case, Note(text=f"{name} {number}"))
        time.sleep(0.003)  # as people do: a writer waiting on the lock gets its turn
    book.unlocked.close()
    """
)


def test_three_writers_at_once_lose_nothing_and_keep_the_chain_linear(
    vault: VaultInfo, tmp_path: Path
) -> None:
    case = record_case(vault.path)
    go = tmp_path / "go"
    names = ("writer-a", "writer-b", "writer-c")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(vault.path), case, name, str(go)],
            cwd=Path(__file__).parent.parent,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{n}").exists() for n in names):
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.01)
    go.touch()  # all three unlocked: now they append at once
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors

    notes = [e for e in case_entries(vault.path, case) if e.kind == "note"]
    assert len(notes) == 150
    for name in names:  # each writer's notes all there, in the order it wrote them
        mine = [e.text for e in sorted(notes, key=lambda e: e.id) if e.text.startswith(name)]
        assert mine == [f"{name} {number}" for number in range(50)]
    by_seq = [e.text.split()[0] for e in sorted(notes, key=lambda e: e.id)]
    switches = sum(1 for a, b in itertools.pairwise(by_seq) if a != b)
    assert switches > 2, "the writers never overlapped"
    seqs = chain_seqs(vault.path)
    assert seqs == list(range(1, len(seqs) + 1))
    verified = run("verify")
    assert verified.returncode == 0, verified.stderr


def test_a_note_that_cannot_get_the_lock_exits_5_and_writes_nothing(vault: VaultInfo) -> None:
    case = record_case(vault.path)
    before = entry_count(vault.path)
    holder = sqlite3.connect(vault.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        result = run(
            "note",
            case,
            "--text-file",
            "-",
            input="A note that must wait for the lock.\n",
            env={"SAFEGUARD_BUSY_TIMEOUT": "0.5"},
        )
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 5, result.stderr
    line = one_line(result.stderr)
    assert "busy" in line and "SAFEGUARD_BUSY_TIMEOUT" in result.stderr
    assert waited < 30
    assert entry_count(vault.path) == before
    assert run("verify").returncode == 0


def test_a_vault_on_a_network_filesystem_is_refused_in_one_line(
    vault: VaultInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = record_case(vault.path)
    before = vault.path.read_bytes()
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
        f"fileserver:/export/safeguard {vault.path.parent} nfs4 rw,relatime,vers=4.2 0 0\n"
    )
    monkeypatch.setattr(storage, "MOUNTS_FILE", mounts)
    for args in (("note", case, "--text-file", "-"), ("verify",), ("timeline", case)):
        result = invoke(*args, input="A note on a network share.\n")
        assert result.exit_code == 5, (args, result.stderr)
        assert "network filesystem (nfs4)" in one_line(result.stderr)
        assert result.stdout == ""
    assert vault.path.read_bytes() == before


def test_a_note_on_a_full_disk_is_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    with tiny_filesystem(tmp_path / "small", 1024) as small:
        path = small / "vault.db"
        unlocked, _ = Vault.create(path, "alice", PASSPHRASE, kdf=FAST_KDF)
        unlocked.close()
        case = record_case(path)
        env = {
            "SAFEGUARD_VAULT": str(path),
            "SAFEGUARD_USER": "alice",
            "SAFEGUARD_PASSPHRASE": PASSPHRASE,
        }
        fill(small, leave_bytes=0)
        texts = [f"note {n} on a full disk " + "x" * 3000 for n in range(4)]
        results = [run("note", case, "--text-file", "-", input=t, env=env) for t in texts]
        failed = [r for r in results if r.returncode != 0]
        assert failed, "the filesystem never filled up"
        for result in failed:
            assert result.returncode == 5, result.stderr
            assert "full" in one_line(result.stderr)
        (small / "filler").unlink()
        check = run("verify", env=env)
        assert check.returncode == 0, check.stderr
        stored = {e.text for e in case_entries(path, case) if e.kind == "note"}
        assert stored == {t for t, r in zip(texts, results, strict=True) if r.returncode == 0}


def test_opening_a_vault_keeps_the_locks_this_process_already_holds(vault: VaultInfo) -> None:
    """POSIX drops all of a process's locks on a file when any handle to it is closed; checking
    a vault's header must not do that to a transaction this process has open on it."""
    import subprocess
    import sys

    from safeguarding import storage

    holder = sqlite3.connect(vault.path, isolation_level=None)
    holder.execute("BEGIN")
    holder.execute("SELECT count(*) FROM entries").fetchone()  # a reader, mid-transaction
    try:
        storage.check_is_sqlite(vault.path)
        Vault.open(vault.path).close()
        # Leaving WAL mode needs the file to itself: it must see the reader still there.
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys\n"
                "db = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
                "try:\n"
                "    mode = db.execute('PRAGMA journal_mode = DELETE').fetchone()[0]\n"
                "except sqlite3.OperationalError:\n"
                "    mode = 'locked'\n"
                "print('locked' if mode in ('wal', 'locked') else 'switched to ' + mode)\n",
                str(vault.path),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert other.stdout.strip() == "locked"


def test_a_note_waits_out_a_colleague_s_long_write_by_default(vault: VaultInfo) -> None:
    """A colleague's PDF export of a long case holds the write lock for seconds: a note waits
    for it (up to 30 seconds by default) rather than failing.  The lock is held here for 7
    seconds, longer than the 5 that made such a note fail before."""
    case = record_case(vault.path)
    holder = sqlite3.connect(vault.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    note = subprocess.Popen(
        [safeguard_executable(), "note", case, "--text-file", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert note.stdin is not None
    note.stdin.write("Written while a colleague exported.\n")
    note.stdin.close()
    try:
        time.sleep(7)
        assert note.poll() is None, "the note did not wait for the lock"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert note.wait(timeout=60) == 0, note.stderr.read() if note.stderr else ""
    notes = [e.text for e in case_entries(vault.path, case) if e.kind == "note"]
    assert notes == ["Written while a colleague exported.\n"]
