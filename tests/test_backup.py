"""Backups: taken without a secret while others write, checked, listed, monitored and restored
without ever losing what is already there."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeguarding import backup, backup_create, chronology, clock, files, restore, storage
from safeguarding.errors import CheckFailed
from safeguarding.server import Location, Server
from safeguarding.vault import Role, Unlocked, Vault
from tests.conftest import FAST_KDF, PASSPHRASE, VaultInfo, invoke, on_both_engines, run
from tests.pgserver import PgServer
from tests.reliability import run_unprivileged, tiny_filesystem

# Helpers -----------------------------------------------------------------------------------


def unlock(info: VaultInfo, path: Location | None = None) -> Unlocked:
    return Vault.open(path or info.path).unlock(info.user, info.passphrase)


def append_notes(info: VaultInfo, count: int, text: str = "a note") -> None:
    """Append vault-level entries straight through the library (no case commands needed)."""
    unlocked = unlock(info)
    try:
        with storage.writing(unlocked.vault.connection) as db:
            for n in range(count):
                chronology.append(
                    db,
                    signer=unlocked.signer,
                    payload_key=unlocked.keys.field_key,
                    kind="note",
                    payload={"text": text, "n": n},
                )
    finally:
        unlocked.close()


def head_of(info: VaultInfo) -> chronology.Checkpoint:
    unlocked = unlock(info)
    try:
        return unlocked.head()
    finally:
        unlocked.close()


def backups_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("safeguard-*.db"))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in a folder and its bytes (but the lock's pid), to show nothing changed."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != backup.LOCK_NAME
    }


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "expected a message on stderr"
    return lines[0]


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "backups"
    path.mkdir(mode=0o700)
    return path


# Create ------------------------------------------------------------------------------------


def test_create_is_quiet_and_writes_a_private_backup_with_a_true_manifest(
    vault: VaultInfo, folder: Path
) -> None:
    append_notes(vault, 3)
    result = invoke("backup", "create", str(folder))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    [db] = backups_in(folder)
    assert backup.BACKUP_NAME.match(db.name)
    manifest_file = db.with_suffix(".json")
    for path in (db, manifest_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    manifest = json.loads(manifest_file.read_text())
    assert manifest["sha256"] == hashlib.sha256(db.read_bytes()).hexdigest()
    assert manifest["size"] == db.stat().st_size
    assert manifest["entries"] == 5  # vault created, alice added, three notes
    head = head_of(vault)
    assert manifest["checkpoint"] == {"seq": head.seq, "mac": head.mac_hex}
    with contextlib.closing(storage.connect(vault.path)) as connection:
        assert manifest["schema_revision"] == storage.read_revision(connection)
    assert manifest["schema_revision"] in storage.KNOWN_REVISIONS
    assert manifest["tool_version"] and manifest["created_at"].endswith("Z")
    # A backup is one self-contained file: nothing else beside it but the lock.
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [db.name, manifest_file.name, backup.LOCK_NAME]
    )


def test_create_needs_no_passphrase_and_verbose_and_json_say_what_was_done(
    vault: VaultInfo, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAFEGUARD_PASSPHRASE")
    monkeypatch.delenv("SAFEGUARD_USER")
    verbose = invoke("backup", "create", str(folder), "--verbose")
    assert verbose.exit_code == 0, verbose.stderr
    assert len(verbose.stderr.strip().splitlines()) == 1
    assert "Backed up 2 entries" in verbose.stderr
    as_json = invoke("backup", "create", str(folder), "--json")
    document = json.loads(as_json.stdout)
    assert Path(document["backup"]).exists() and document["entries"] == 2
    assert len(backups_in(folder)) == 2


def test_two_backups_in_the_same_second_do_not_clobber_each_other(
    vault: VaultInfo, folder: Path
) -> None:
    moment = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    first = backup.create(vault.path, folder, now=moment)
    append_notes(vault, 1)
    second = backup.create(vault.path, folder, now=moment)
    assert first.path != second.path
    assert first.manifest.entries == 2 and second.manifest.entries == 3
    assert backup.check(first.path).ok and backup.check(second.path).ok


def test_backup_files_hold_no_canary_plaintext(vault: VaultInfo, folder: Path) -> None:
    canary_name = "Canary Quillfeather"
    canary_text = "CANARY-7f3a-disclosure-text"
    unlocked = unlock(vault)
    unlocked.add_user(canary_name, Role.DEPUTY, "canary passphrase 1", kdf=FAST_KDF)
    unlocked.close()
    append_notes(vault, 2, text=canary_text)
    created = backup.create(vault.path, folder)
    for path in folder.iterdir():
        data = path.read_bytes()
        for canary in (canary_name, canary_text):
            assert canary.encode() not in data, path.name
            assert canary.encode("utf-16-le") not in data, path.name
    # ...and yet the records are all in there: a restore gives them back.
    restored = restore.restore(created.path, folder.parent / "restored.db")
    unlocked = unlock(vault, restored.path)
    try:
        assert canary_name in [user.name for user in unlocked.users()]
        assert unlocked.verify().entries == 5
    finally:
        unlocked.close()


def test_the_copy_reports_progress_up_to_every_page(vault: VaultInfo, folder: Path) -> None:
    append_notes(vault, 50, text="x" * 2000)
    seen: list[tuple[int, int]] = []
    backup_create.PAGES_PER_STEP, saved = 4, backup_create.PAGES_PER_STEP
    try:
        backup.create(vault.path, folder, progress=lambda done, total: seen.append((done, total)))
    finally:
        backup_create.PAGES_PER_STEP = saved
    assert len(seen) > 2
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1][0] == seen[-1][1]


APPENDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from safeguarding import chronology, storage
    from safeguarding.vault import Vault

    from safeguarding.server import location

    vault = Vault.open(location(sys.argv[1]))
    unlocked = vault.unlock("alice", sys.argv[2])
    stop = Path(sys.argv[3])
    n = 0
    while not stop.exists():
        with storage.writing(vault.connection) as db:
            chronology.append(
                db,
                signer=unlocked.signer,
                payload_key=unlocked.keys.field_key,
                kind="note",
                payload={"text": "written during a backup " * 20, "n": n},
            )
        n += 1
    print(n)
    """
)


@on_both_engines
def test_a_backup_taken_while_another_process_appends_verifies_and_restores_whole(
    vault: VaultInfo, folder: Path, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(vault.path), PASSPHRASE, str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while head_of(vault).seq < 50:
            assert writer.poll() is None, "the appending process died"
            assert time.monotonic() < deadline, "the appending process made no progress"
            time.sleep(0.05)
        runs = [run("backup", "create", str(folder), "--json") for _ in range(3)]
    finally:
        stop.touch()
        appended = int(writer.communicate(timeout=30)[0])
    for result in runs:
        assert result.returncode == 0, result.stderr
    assert appended > 50
    manifests = [json.loads(result.stdout) for result in runs]
    assert [m["entries"] for m in manifests] == sorted(m["entries"] for m in manifests)
    assert manifests[-1]["entries"] > manifests[0]["entries"], "the writer was not writing"
    for number, manifest in enumerate(manifests):
        copy = Path(manifest["backup"])
        # The full check (the passphrase is in the environment): chain, decryption, checkpoint.
        checked = run("backup", "verify", str(copy), "--json")
        assert checked.returncode == 0, checked.stderr
        assert json.loads(checked.stdout)["full"] is True
        target = tmp_path / f"restored-{number}.db"
        restored = run("restore", str(copy), "--to", str(target))
        assert restored.returncode == 0, restored.stderr
        unlocked = unlock(vault, target)
        try:
            seq, mac = manifest["checkpoint"]["seq"], manifest["checkpoint"]["mac"]
            report = unlocked.verify([chronology.Checkpoint.parse(f"{seq}:{mac}")])
            assert report.entries == manifest["entries"]
            with storage.reading(unlocked.vault.connection) as db:
                numbers = [
                    chronology.open_payload(unlocked.keys.field_key, entry)["n"]
                    for entry in chronology.iter_rows(db)
                    if entry.kind == "note"
                ]
            assert numbers == list(range(manifest["entries"] - 2))
        finally:
            unlocked.close()


# The lock -----------------------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from safeguarding import backup

    with backup.folder_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        sys.stdin.readline()
    """
)


def test_a_second_overlapping_backup_is_refused_across_processes(
    vault: VaultInfo, folder: Path
) -> None:
    backup.create(vault.path, folder)
    before = snapshot(folder)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        refused = run("backup", "create", str(folder))
        assert refused.returncode == 5
        message = one_line(refused.stderr)
        assert "another safeguard backup is already running" in message
        assert f"process {holder.pid}" in message
        assert snapshot(folder) == before, "the refused run left a file behind or changed one"
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=10)
    # Once the first run has finished (or died), the next one goes ahead.
    assert run("backup", "create", str(folder)).returncode == 0
    assert len(backups_in(folder)) == 2


STALE_HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
    os.pwrite(fd, (sys.argv[2] + "\\n").encode(), 0)  # a PID that is not the holder's
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("locked", flush=True)
    sys.stdin.readline()
    """
)


def test_the_lock_message_never_names_a_process_that_does_not_hold_it(
    vault: VaultInfo, folder: Path
) -> None:
    stale = str(os.getpid())  # alive, but not the holder
    holder = subprocess.Popen(
        [sys.executable, "-c", STALE_HOLDER, str(folder / backup.LOCK_NAME), stale],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        refused = invoke("backup", "create", str(folder))
        assert refused.exit_code == 5
        message = one_line(refused.stderr)
        assert f"another safeguard backup is already running in {folder};" in message
        assert "process" not in message
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=10)


def test_a_run_killed_mid_copy_leaves_no_backup_and_no_stale_lock(
    vault: VaultInfo, folder: Path, tmp_path: Path
) -> None:
    held = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert held.stdout is not None and held.stdout.readline().strip() == "locked"
    # Half a copy, and SQLite's journal beside it, as the run holding the lock would leave them.
    leftover = folder / f".safeguard-{held.pid}-{'0' * 16}.part"
    leftover.write_bytes(b"half a backup from a run that was killed")
    Path(f"{leftover}-journal").write_bytes(b"its journal")
    held.send_signal(signal.SIGKILL)
    held.wait(timeout=10)
    assert invoke("backup", "create", str(folder)).exit_code == 0
    assert not leftover.exists() and not Path(f"{leftover}-journal").exists()
    assert invoke("backup", "list", str(folder), "--json").exit_code == 0
    [entry] = json.loads(invoke("backup", "list", str(folder), "--json").stdout)
    assert entry["verified"] is True


# Bad input for create ------------------------------------------------------------------------


def test_create_into_a_missing_folder_says_so(vault: VaultInfo, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    result = invoke("backup", "create", str(missing))
    assert result.exit_code == 4
    assert f"there is no folder {missing}" in one_line(result.stderr)
    assert "mkdir" in result.stderr
    assert not missing.exists()


def test_create_into_a_file_is_a_usage_error(vault: VaultInfo, tmp_path: Path) -> None:
    a_file = tmp_path / "afile"
    a_file.write_text("keep me")
    result = invoke("backup", "create", str(a_file))
    assert result.exit_code == 2
    assert a_file.read_text() == "keep me"


def test_create_refuses_a_folder_holding_foreign_files_and_touches_none(
    vault: VaultInfo, folder: Path
) -> None:
    (folder / "minutes.docx").write_bytes(b"governors' minutes")
    (folder / "vault.db").write_bytes(b"someone else's file")
    before = snapshot(folder)
    result = invoke("backup", "create", str(folder))
    assert result.exit_code == 2
    assert "holds files that are not safeguard backups" in one_line(result.stderr)
    assert "'minutes.docx'" in result.stderr
    assert snapshot(folder) == before
    pruned = invoke("backup", "prune", str(folder), "--keep-last", "1")
    assert pruned.exit_code == 2
    assert snapshot(folder) == before


@pytest.mark.parametrize("mode", [0o500, 0o000], ids=["read-only", "unreadable"])
def test_create_into_an_unwritable_folder_is_a_clear_error(
    vault: VaultInfo, folder: Path, mode: int
) -> None:
    """A folder the vault's owner cannot write (or even read: made by root for another
    account) is the folder's problem, exit 5, not a usage error."""
    backup.create(vault.path, folder)
    folder.chmod(mode)
    try:
        before = snapshot(folder)
        result = run_unprivileged(
            "--vault", str(vault.path), "backup", "create", str(folder),
            env={"HOME": str(folder.parent)},
        )  # fmt: skip
        assert result.returncode == 5
        message = one_line(result.stderr)
        verb, outcome = (
            ("write to", "no backup was written") if mode else ("read", "nothing was changed")
        )
        assert message == f"safeguard: cannot {verb} {folder} (permission denied); {outcome}"
        assert snapshot(folder) == before
    finally:
        folder.chmod(0o700)


def test_disk_full_while_copying_leaves_no_partial_backup_and_loses_nothing(
    vault: VaultInfo, tmp_path: Path
) -> None:
    append_notes(vault, 200, text="y" * 1000)  # a vault of a few hundred KiB
    with tiny_filesystem(tmp_path / "small", 512) as small:
        first = backup.create(vault.path, small)
        before = snapshot(small)
        result = invoke("backup", "create", str(small))
        assert result.exit_code == 5
        message = one_line(result.stderr)
        assert "full" in message and "no backup was written" in message
        assert snapshot(small) == before
        assert backup.check(first.path).ok


def test_a_file_size_limit_mid_copy_leaves_no_partial_backup(
    vault: VaultInfo, folder: Path
) -> None:
    append_notes(vault, 300, text="z" * 1000)
    backup.create(vault.path, folder)
    before = snapshot(folder)
    limit = 128 * 1024
    assert vault.path.stat().st_size > 2 * limit

    def small_files() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [str(Path(sys.executable).parent / "safeguard"), "backup", "create", str(folder)],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=60,
        check=False,
    )
    assert result.returncode == 5
    assert "no backup was written" in one_line(result.stderr)
    assert snapshot(folder) == before


def test_disk_full_while_writing_the_manifest_leaves_nothing_behind(
    vault: VaultInfo, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup.create(vault.path, folder)
    before = snapshot(folder)
    real = files.PrivateFile.write_all

    def full_disk(private: files.PrivateFile, data: bytes) -> None:
        real(private, data[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.PrivateFile, "write_all", full_disk)
    result = invoke("backup", "create", str(folder))
    assert result.exit_code == 5
    assert one_line(result.stderr) == (
        f"safeguard: the disk holding {folder} is full; no backup was written"
    )
    assert snapshot(folder) == before


def test_create_from_a_missing_vault_is_a_clear_error(tmp_path: Path, folder: Path) -> None:
    result = invoke("--vault", str(tmp_path / "nope.db"), "backup", "create", str(folder))
    assert result.exit_code == 5
    assert "no vault at" in one_line(result.stderr)
    assert backups_in(folder) == []


# Verify --------------------------------------------------------------------------------------


@pytest.fixture
def one_backup(vault: VaultInfo, folder: Path) -> Path:
    append_notes(vault, 3)
    return backup.create(vault.path, folder).path


def test_verify_without_a_passphrase_checks_hash_integrity_and_schema(
    vault: VaultInfo, one_backup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAFEGUARD_PASSPHRASE")
    result = invoke("backup", "verify", str(one_backup), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) | {"checkpoint": None} == {
        "schema": "safeguard.backup.verify",
        "schema_version": 1,
        "ok": True,
        "backup": str(one_backup),
        "full": False,
        "entries": 5,
        "checkpoint": None,
        "erased_since": [],
        "compared_with": str(vault.path),
    }
    before = one_backup.read_bytes()
    assert invoke("backup", "verify", str(one_backup)).stdout == ""
    assert one_backup.read_bytes() == before
    assert sorted(p.name for p in one_backup.parent.iterdir() if "-wal" in p.name) == []


def test_verify_catches_an_edited_entry_with_the_manifest_rewritten(
    vault: VaultInfo, one_backup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Someone edits a MAC inside the backup and rewrites the manifest to match.
    with sqlite3.connect(one_backup) as conn:
        conn.execute("DROP TRIGGER IF EXISTS entries_no_update")
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'entries'"
        ).fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("UPDATE entries SET event_at = '2020-01-01T00:00:00.000000Z' WHERE seq = 3")
    conn.close()
    manifest_file = backup.manifest_path(one_backup)
    manifest = json.loads(manifest_file.read_text())
    manifest["sha256"] = hashlib.sha256(one_backup.read_bytes()).hexdigest()
    manifest["size"] = one_backup.stat().st_size
    manifest_file.write_text(json.dumps(manifest))

    # Without a passphrase, the backup's own signatures show it (they did not before)...
    monkeypatch.delenv("SAFEGUARD_PASSPHRASE")
    quick = invoke("backup", "verify", str(one_backup))
    assert quick.exit_code == 1
    assert "entry 3 has been altered" in one_line(quick.stderr)
    # ...and with one, as before.
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", vault.passphrase)
    full = invoke("backup", "verify", str(one_backup))
    assert full.exit_code == 1
    assert "entry 3 has been altered" in one_line(full.stderr)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("truncate", "truncated"),
        ("flip", "sha256 does not match"),
        ("other-manifest", "does not match its manifest"),
        ("edited-manifest", "head is not the one its manifest records"),
        ("no-manifest", "there is no manifest"),
        ("garbage-manifest", "cannot be read as JSON"),
    ],
)
def test_a_damaged_backup_or_manifest_fails_verify_and_restore(
    vault: VaultInfo, one_backup: Path, tmp_path: Path, damage: str, expected: str
) -> None:
    manifest_file = backup.manifest_path(one_backup)
    if damage == "truncate":
        one_backup.write_bytes(one_backup.read_bytes()[:-4096])
    elif damage == "flip":
        flip_byte(one_backup, one_backup.stat().st_size // 2)
    elif damage == "other-manifest":
        append_notes(vault, 1)
        other = backup.create(vault.path, one_backup.parent)
        shutil.copyfile(backup.manifest_path(other.path), manifest_file)
    elif damage == "edited-manifest":
        manifest = json.loads(manifest_file.read_text())
        manifest["entries"] += 1
        manifest["checkpoint"]["seq"] += 1
        manifest_file.write_text(json.dumps(manifest))
    elif damage == "no-manifest":
        manifest_file.unlink()
    else:
        manifest_file.write_text("{not json")
    result = invoke("backup", "verify", str(one_backup))
    assert result.exit_code == 1
    message = one_line(result.stderr)
    assert message.startswith(f"safeguard: the backup {one_backup.name} does not verify")
    assert expected in message

    target = tmp_path / "restored" / "vault.db"
    refused = invoke("restore", str(one_backup), "--to", str(target))
    assert refused.exit_code == 1
    assert expected in refused.stderr
    assert not target.parent.exists() or list(target.parent.iterdir()) == []


def test_the_manifest_given_instead_of_the_backup_says_so(one_backup: Path, tmp_path: Path) -> None:
    manifest = backup.manifest_path(one_backup)
    for command in (
        ["restore", str(manifest), "--to", str(tmp_path / "r.db")],
        ["backup", "verify", str(manifest)],
    ):
        result = invoke(*command)
        assert result.exit_code == 2, result.stderr
        assert "give the backup's .db file, not its manifest" in one_line(result.stderr)
        assert "bytes but its manifest says" not in result.stderr
    assert not (tmp_path / "r.db").exists()


def test_verify_a_missing_backup_is_not_found(tmp_path: Path) -> None:
    result = invoke("backup", "verify", str(tmp_path / "safeguard-20260101T000000Z.db"))
    assert result.exit_code == 4
    assert "there is no backup" in one_line(result.stderr)


def test_verify_of_a_backup_from_an_older_schema_is_full(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backup made by 0.1.0 (schema 0002, before signatures) verifies in full."""
    from tests.test_release_fixtures import ALEX, FIXTURE

    old = tmp_path / "old.db"
    shutil.copyfile(FIXTURE / "vault.db", old)
    os.chmod(old, 0o600)
    created = backup.create(old, folder)
    assert created.manifest.schema_revision == "0002"
    result = invoke("backup", "verify", str(created.path), "--json", env=ALEX)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["full"] is True


def downgrade(path: Path, revision: str) -> None:
    from alembic import command

    from safeguarding import migrate

    engine = storage.make_engine(path)
    try:
        with engine.begin() as conn:
            command.downgrade(migrate._config(conn), revision)
    finally:
        engine.dispose()


# List and status -----------------------------------------------------------------------------


@on_both_engines
def test_list_shows_every_backup_newest_first_and_which_verify(
    vault: VaultInfo, folder: Path
) -> None:
    day = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    made = [backup.create(vault.path, folder, now=day + timedelta(days=n)) for n in range(3)]
    flip_byte(made[1].path, made[1].path.stat().st_size // 2)
    (folder / "lost+found").mkdir()
    listed = json.loads(invoke("backup", "list", str(folder), "--json").stdout)
    assert [item["backup"] for item in listed] == [m.path.name for m in reversed(made)]
    assert [item["verified"] for item in listed] == [True, False, True]
    assert listed[0]["taken_at"] == "2026-11-22T02:00:00Z" and listed[0]["entries"] == 2
    table = invoke("backup", "list", str(folder))
    assert table.exit_code == 0
    for m in made:
        assert m.path.name in table.stdout
    assert "2026-11-21 02:00" in table.stdout and "sha256" in table.stdout


@on_both_engines
def test_status_is_quiet_when_a_recent_backup_verifies(vault: VaultInfo, folder: Path) -> None:
    backup.create(vault.path, folder)
    result = invoke("backup", "status", str(folder), "--max-age", "36h")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    verbose = invoke("backup", "status", str(folder), "--max-age", "36h", "--verbose")
    assert "newest verified backup" in verbose.stderr


def test_status_fails_when_the_newest_verified_backup_is_too_old(
    vault: VaultInfo, folder: Path
) -> None:
    old = backup.create(vault.path, folder, now=clock.now() - timedelta(hours=40))
    fresh_but_broken = backup.create(vault.path, folder)
    flip_byte(fresh_but_broken.path, 200)
    result = invoke("backup", "status", str(folder), "--max-age", "36h")
    assert result.exit_code == 1
    message = one_line(result.stderr)
    assert "older than 36h" in message and old.path.name in message


def test_status_fails_when_the_newest_backup_does_not_verify(
    vault: VaultInfo, folder: Path
) -> None:
    # An older backup within --max-age verifies, but damage to the newest must still alert
    # (it used to exit 0 silently).
    old = backup.create(vault.path, folder, now=clock.now() - timedelta(hours=20))
    assert invoke("backup", "status", str(folder), "--max-age", "36h").exit_code == 0
    fresh_but_broken = backup.create(vault.path, folder)
    flip_byte(fresh_but_broken.path, 200)
    result = invoke("backup", "status", str(folder), "--max-age", "36h")
    assert result.exit_code == 1 and result.stdout == ""
    message = one_line(result.stderr)
    assert f"{fresh_but_broken.path.name}, does not verify: its sha256" in message
    assert old.path.name in result.stderr  # the hint names the newest that verifies
    as_json = json.loads(
        invoke("backup", "status", str(folder), "--max-age", "36h", "--json").stdout
    )
    assert as_json["ok"] is False and fresh_but_broken.path.name in as_json["problem"]


def test_status_fails_with_no_backups_or_no_folder(tmp_path: Path, folder: Path) -> None:
    empty = invoke("backup", "status", str(folder), "--max-age", "36h")
    assert empty.exit_code == 1 and "there are no backups" in empty.stderr
    missing = invoke("backup", "status", str(tmp_path / "gone"), "--max-age", "36h")
    assert missing.exit_code == 4
    bad_age = invoke("backup", "status", str(folder), "--max-age", "soon")
    assert bad_age.exit_code == 2 and "not a duration" in bad_age.stderr


# Prune ----------------------------------------------------------------------------------------


def test_prune_over_dated_backups_keeps_exactly_the_right_ones(
    vault: VaultInfo, folder: Path
) -> None:
    start = datetime(2026, 8, 1, 2, 0, tzinfo=UTC)
    moments = [start + timedelta(days=n) for n in range(92)]  # 1 Aug to 31 Oct, nightly
    moments.append(datetime(2026, 10, 31, 14, 0, tzinfo=UTC))  # a second one on the last day
    for moment in moments:
        backup.create(vault.path, folder, now=moment)
    args = ["--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "3"]

    dry = invoke("backup", "prune", str(folder), *args, "--dry-run")
    assert dry.exit_code == 0
    assert len(backups_in(folder)) == 93, "a dry run removed something"

    result = invoke("backup", "prune", str(folder), *args)
    assert result.exit_code == 0
    kept = sorted(b.name for b in backups_in(folder))
    expected = sorted(
        backup.backup_name(datetime(2026, *md, h, 0, tzinfo=UTC))
        for md, h in [
            ((10, 31), 14),  # the newest: daily, weekly, monthly (October)
            ((10, 30), 2),
            ((10, 29), 2),
            ((10, 28), 2),
            ((10, 27), 2),
            ((10, 26), 2),  # (week 44 is already kept by 31 Oct)
            ((10, 25), 2),  # the seventh day, and a Sunday: week 43
            ((10, 18), 2),  # week 42
            ((10, 11), 2),  # week 41
            ((9, 30), 2),  # September
            ((8, 31), 2),  # August
        ]
    )
    assert kept == expected
    removed = [line.split()[-1] for line in result.stdout.splitlines()]
    assert len(removed) == 93 - len(expected)
    assert all(line.startswith("removed safeguard-") for line in result.stdout.splitlines())
    assert dry.stdout.replace("would remove", "removed") == result.stdout
    for name in kept:
        assert (folder / name).with_suffix(".json").exists()
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(
        n.replace(".db", ".json") for n in kept
    )


def test_prune_never_removes_the_newest_backup_that_verifies(
    vault: VaultInfo, folder: Path
) -> None:
    day = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    made = [backup.create(vault.path, folder, now=day + timedelta(days=n)) for n in range(4)]
    for broken in made[2:]:
        flip_byte(broken.path, 300)
    result = invoke("backup", "prune", str(folder), "--keep-last", "1", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    kept = {item["backup"]: item["reasons"] for item in document["kept"]}
    assert kept == {made[3].path.name: ["last"], made[1].path.name: ["newest verified"]}
    assert document["removed"] == [made[2].path.name, made[0].path.name]
    assert sorted(b.name for b in backups_in(folder)) == sorted(kept)


def test_prune_with_no_rule_removes_nothing(vault: VaultInfo, folder: Path) -> None:
    backup.create(vault.path, folder)
    result = invoke("backup", "prune", str(folder))
    assert result.exit_code == 2 and "say which backups to keep" in result.stderr
    assert len(backups_in(folder)) == 1


def test_prune_quiet_says_nothing(vault: VaultInfo, folder: Path) -> None:
    for n in range(3):
        backup.create(vault.path, folder, now=datetime(2026, 1, 1 + n, tzinfo=UTC))
    result = invoke("backup", "prune", str(folder), "--keep-daily", "1", "--quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert len(backups_in(folder)) == 1


# Restore ---------------------------------------------------------------------------------------


@on_both_engines
def test_restore_puts_a_verified_vault_in_place(
    vault: VaultInfo, one_backup: Path, tmp_path: Path
) -> None:
    target = tmp_path / "drill" / "vault.db"
    result = invoke("restore", str(one_backup), "--to", str(target))
    assert (result.exit_code, result.stdout) == (0, "")
    # What was put where, said on success without --verbose.
    said = " ".join(result.stderr.split())
    assert said.startswith(f"Restored the backup {one_backup} (5 entries, taken 20")
    assert f") to {target} Compared with the school's vault ({vault.path}): no case" in said
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    checked = invoke("--vault", str(target), "verify", "--json")
    assert checked.exit_code == 0, checked.stderr
    assert json.loads(checked.stdout)["entries"] == 5
    assert [p.name for p in target.parent.iterdir()] == ["vault.db"]


def test_restore_never_overwrites_without_force(
    vault: VaultInfo, one_backup: Path, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere.db"
    target.write_bytes(b"something precious")
    result = invoke("restore", str(one_backup), "--to", str(target))
    assert result.exit_code == 2
    assert f"{target} already exists; nothing was changed" in one_line(result.stderr)
    assert "--force" in result.stderr
    assert target.read_bytes() == b"something precious"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".elsewhere")) == []


def test_restore_onto_the_live_vault_refuses_and_force_moves_it_aside(
    vault: VaultInfo, one_backup: Path
) -> None:
    append_notes(vault, 4)  # the live vault is now ahead of the backup
    live_before = vault.path.read_bytes()
    refused = invoke("restore", str(one_backup), "--to", str(vault.path))
    assert refused.exit_code == 2
    assert vault.path.read_bytes() == live_before

    forced = invoke("restore", str(one_backup), "--to", str(vault.path), "--force")
    assert forced.exit_code == 0, forced.stderr
    [aside] = list(vault.path.parent.glob("vault.db.replaced-*"))
    assert f"The vault that was at {vault.path} is kept as {aside}" in forced.stderr
    assert aside.read_bytes() == live_before
    assert unlock(vault, aside).verify().entries == 9
    assert invoke("verify", "--json").exit_code == 0
    assert json.loads(invoke("verify", "--json").stdout)["entries"] == 5


def test_restore_refuses_a_vault_that_is_in_use(vault: VaultInfo, one_backup: Path) -> None:
    append_notes(vault, 1)
    reader = sqlite3.connect(vault.path, isolation_level=None)
    try:
        # A reader holds a snapshot while the WAL has frames it has not seen folded in.
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM entries").fetchone()
        append_notes(vault, 1)
        before = {p.name: p.read_bytes() for p in vault.path.parent.glob("vault.db*")}
        result = invoke("restore", str(one_backup), "--to", str(vault.path), "--force")
        assert result.exit_code == 5
        assert "is in use by another safeguard command; nothing was changed" in result.stderr
        after = {p.name: p.read_bytes() for p in vault.path.parent.glob("vault.db*")}
        assert after.keys() == before.keys()
        assert after["vault.db"] == before["vault.db"]
    finally:
        reader.close()


def test_restore_removes_stale_wal_and_shm(one_backup: Path, tmp_path: Path) -> None:
    target = tmp_path / "fresh.db"
    Path(f"{target}-wal").write_bytes(os.urandom(8192))
    Path(f"{target}-shm").write_bytes(os.urandom(32768))
    result = invoke("restore", str(one_backup), "--to", str(target))
    assert result.exit_code == 0, result.stderr
    checked = invoke("--vault", str(target), "verify", "--json")
    assert checked.exit_code == 0, checked.stderr
    assert json.loads(checked.stdout)["entries"] == 5


def test_restore_a_backup_onto_itself_is_refused(one_backup: Path) -> None:
    before = one_backup.read_bytes()
    result = invoke("restore", str(one_backup), "--to", str(one_backup), "--force")
    assert result.exit_code == 2
    assert one_backup.read_bytes() == before


# verify --checkpoints ----------------------------------------------------------------------


@on_both_engines
def test_a_vault_rolled_back_behind_a_backup_is_caught(
    vault: VaultInfo, folder: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    append_notes(vault, 2)
    old_copy = tmp_path / "old-vault.db"
    if isinstance(vault.path, Server):
        (tmp_path / "old").mkdir()
        old_copy = backup.create(vault.path, tmp_path / "old").path
    else:
        shutil.copyfile(vault.path, old_copy)  # the vault as it was (every connection closed)
    append_notes(vault, 3)
    backup.create(vault.path, folder)
    backup.create(vault.path, folder)
    checked = invoke("verify", "--checkpoints", str(folder))
    assert checked.exit_code == 0
    assert f"; agrees with 2 backup checkpoints in {folder}" in one_line(checked.stdout)
    document = json.loads(invoke("verify", "--checkpoints", str(folder), "--json").stdout)
    assert document["checkpoints_checked"] == 2

    # Someone puts the older vault back: its own chain is perfect...
    if isinstance(vault.path, Server):  # the schema emptied and the older copy loaded
        server: PgServer = request.getfixturevalue("pg_server")
        schema = vault.path.schema
        server.admin(f"DROP SCHEMA {schema} CASCADE; CREATE SCHEMA {schema} AUTHORIZATION {schema}")
        assert invoke("restore", str(old_copy), "--to", str(vault.path)).exit_code == 0
    else:
        shutil.copyfile(old_copy, vault.path)
    assert invoke("verify").exit_code == 0
    # ...but the backup's checkpoint knows it once had more.
    caught = invoke("verify", "--checkpoints", str(folder))
    assert caught.exit_code == 1
    assert "rolled back to entry 4" in one_line(caught.stderr)


@on_both_engines
def test_verify_checkpoints_needs_manifests_of_this_vault(
    vault: VaultInfo, folder: Path, tmp_path: Path
) -> None:
    empty = invoke("verify", "--checkpoints", str(folder))
    assert empty.exit_code == 4 and "no backup manifests" in empty.stderr
    other, _ = Vault.create(tmp_path / "other.db", "bob", PASSPHRASE, kdf=FAST_KDF)
    other.close()
    backup.create(tmp_path / "other.db", folder)
    foreign = invoke("verify", "--checkpoints", str(folder))
    assert foreign.exit_code == 1
    assert "none of the 1 backups" in one_line(foreign.stderr)
    # Backing this vault up into the other vault's folder is refused, as a vault replaced...
    with pytest.raises(CheckFailed, match="is of another vault"):
        backup.create(vault.path, folder)
    aside = tmp_path / "aside"  # ...until its backups are moved aside, as the hint says
    aside.mkdir()
    for path in list(folder.glob("safeguard-*")):
        path.rename(aside / path.name)
    backup.create(vault.path, folder)
    assert invoke("verify", "--checkpoints", str(folder)).exit_code == 0


def test_a_checkpoint_in_other_digits_is_a_usage_error(vault: VaultInfo) -> None:
    # "²" is a digit to str.isdigit but not to int: it was an internal error (exit 70).
    for seq in ("²", "٣", "1" * 40):
        result = invoke("verify", "--checkpoint", f"{seq}:0123456789abcdef")
        assert result.exit_code == 2, result.stderr
        assert "is not a checkpoint" in result.stderr


# db upgrade ------------------------------------------------------------------------------------


def test_db_upgrade_takes_a_backup_first(vault: VaultInfo, tmp_path: Path) -> None:
    if len(storage.KNOWN_REVISIONS) < 2:
        pytest.skip("only one schema revision so far")
    old = storage.KNOWN_REVISIONS[-2]
    downgrade(vault.path, old)
    result = invoke("db", "upgrade")
    assert result.exit_code == 0, result.stderr
    [taken] = backups_in(vault.path.parent / "backups")
    assert backup.check(taken).ok
    assert json.loads(taken.with_suffix(".json").read_text())["schema_revision"] == old
    assert taken.name in result.stderr.replace("\n", "")
    assert invoke("db", "upgrade").exit_code == 0
    assert len(backups_in(vault.path.parent / "backups")) == 1, "no upgrade, no backup"


def test_db_upgrade_does_not_migrate_when_the_backup_fails(
    vault: VaultInfo, tmp_path: Path
) -> None:
    if len(storage.KNOWN_REVISIONS) < 2:
        pytest.skip("only one schema revision so far")
    old = storage.KNOWN_REVISIONS[-2]
    downgrade(vault.path, old)
    (tmp_path / "blocked").write_text("a file where the backup folder should be")
    result = invoke("db", "upgrade", "--backup-dir", str(tmp_path / "blocked"))
    assert result.exit_code == 2
    status = json.loads(invoke("db", "status", "--json").stdout)
    assert status["revision"] == old
