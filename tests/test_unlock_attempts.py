"""Failed attempts to unlock: recorded without the secret, shown by `audit`, told at the next
unlock, slowing repeated guesses; recording them never changes what a failure says."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from safeguarding import attempts, migrate, pg, storage
from safeguarding.server import Server
from tests.conftest import (
    PASSPHRASE,
    SetClock,
    VaultInfo,
    invoke,
    on_both_engines,
    pauses_of,
    run,
    stored_bytes,
    vault_files,
)
from tests.reliability import record_case

CANARY = "canary-Q7x9-not-the-passphrase"
WRONG = "wrong passphrase for 'alice'; nothing was changed"


def rows(path: Path | Server) -> list[tuple[Any, ...]]:
    sql = "SELECT id, at, tried, name_tag, details, cleared_at FROM unlock_attempts ORDER BY id"
    if isinstance(path, Server):
        connection = storage.open_connection(path)
        try:
            return [tuple(row) for row in connection.execute(sql).fetchall()]
        finally:
            connection.close()
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


def on_disk(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in vault_files(path))


@contextmanager
def writing_elsewhere(path: Path | Server) -> Iterator[None]:
    """Another command's write under way, holding the vault (on a server, its head's lock)."""
    if isinstance(path, Server):
        holder = pg.connect(path, storage.DEFAULT_BUSY_TIMEOUT)
        holder.execute("BEGIN")
        holder.execute(pg.HEAD_LOCK)  # held from here until the ROLLBACK
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with closing(sqlite3.connect(path, isolation_level=None)) as sqlite_holder:
        sqlite_holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            sqlite_holder.execute("ROLLBACK")


@on_both_engines
def test_a_wrong_passphrase_is_recorded_and_shown_by_audit_without_the_secret(
    vault: VaultInfo, set_clock: SetClock, request: pytest.FixtureRequest
) -> None:
    set_clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    failed = run("cases", env={"SAFEGUARD_PASSPHRASE": CANARY})
    assert failed.returncode == 3
    assert WRONG in failed.stderr and "Traceback" not in failed.stderr

    recorded = rows(vault.path)
    assert len(recorded) == 1
    _, at, tried, _, details, cleared = recorded[0]
    assert (at[:16], tried, cleared) == ("2026-11-25T10:00", "passphrase", None)
    # The name, the account and the terminal are sealed: nothing of them, nor of the secret,
    # is on disk in clear.
    stored = stored_bytes(vault, request)
    assert b"alice" not in stored and "alice" not in details
    assert CANARY.encode() not in stored and CANARY.encode().hex().encode() not in stored

    set_clock(datetime(2026, 11, 25, 10, 5, tzinfo=UTC))
    shown = run("audit")
    assert shown.returncode == 0, shown.stderr
    line = next(line for line in shown.stdout.splitlines() if "failed to unlock" in line)
    assert "alice" in line and "with a passphrase" in line and "account" in line
    # The successful unlock that ran the audit was told, once, in one line.
    told = [line for line in shown.stderr.splitlines() if "failed attempt" in line]
    assert len(told) == 1
    assert "1 failed attempt to unlock as alice since your last unlock" in told[0]
    assert "safeguard audit" in told[0]
    assert CANARY not in shown.stdout + shown.stderr + failed.stdout + failed.stderr

    again = run("audit", "--json")
    assert "failed attempt" not in again.stderr  # told once: the count starts again
    found = [d for d in json.loads(again.stdout) if d["action"] == "unlock_failed"]
    assert len(found) == 1
    assert found[0]["who"] == "alice" and found[0]["tried"] == "passphrase"
    assert found[0]["entry"] is None and found[0]["case"] is None
    assert found[0]["at"].startswith("2026-11-25T10:00")
    assert isinstance(found[0]["account"], str) and found[0]["account"]
    assert CANARY not in again.stdout


@on_both_engines
def test_a_name_that_is_no_user_and_a_wrong_recovery_key_are_recorded(
    vault: VaultInfo, request: pytest.FixtureRequest
) -> None:
    nobody = invoke("--user", "Mr Nobody", "cases")
    assert nobody.exit_code == 3 and "there is no user 'Mr Nobody'" in nobody.stderr
    wrong_key = "AAAA-" * 7 + "AAAA"
    refused = invoke("verify", "--recovery", env={"SAFEGUARD_RECOVERY_KEY": wrong_key})
    assert refused.exit_code == 3, refused.stderr
    assert "does not open this vault" in refused.stderr
    assert [row[2] for row in rows(vault.path)] == ["passphrase", "recovery key"]
    assert wrong_key.encode() not in stored_bytes(vault, request)

    shown = invoke("audit")
    assert shown.exit_code == 0, shown.stderr
    lines = [line for line in shown.stdout.splitlines() if "failed to unlock" in line]
    assert len(lines) == 2
    assert "Mr Nobody" in lines[0] and "with a passphrase" in lines[0]
    assert "alice" in lines[1] and "with the recovery key" in lines[1]
    # Only alice's own failure is told to alice.
    assert "1 failed attempt to unlock as alice" in shown.stderr
    # `--case` and `--mine` are about the cases' records: the attempts are not among them.
    assert "failed to unlock" not in invoke("audit", "--mine").stdout


@on_both_engines
def test_repeated_failures_wait_longer_each_time_and_an_unlock_resets_it(
    vault: VaultInfo, pauses: list[float]
) -> None:
    def fail(name: str = "alice") -> None:
        result = invoke("--user", name, "cases", env={"SAFEGUARD_PASSPHRASE": CANARY})
        assert result.exit_code == 3

    for _ in range(3):
        fail()
    assert pauses == []  # the first three are not slowed
    for _ in range(7):
        fail()
    assert pauses == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    # Another name is not slowed by alice's failures.
    fail("bob")
    assert len(pauses) == 7

    pauses.clear()
    unlocked = invoke("cases")
    assert unlocked.exit_code == 0, unlocked.stderr
    assert pauses == [30.0]  # the right passphrase waits too: the wait comes before the check
    assert "10 failed attempts to unlock as alice" in unlocked.stderr
    assert "checking in 30 s" in unlocked.stderr

    pauses.clear()
    for _ in range(4):
        fail()
    assert pauses == [1.0]  # counted again from the unlock


def test_the_wait_holds_across_processes(vault: VaultInfo, tmp_path: Path) -> None:
    for _ in range(5):
        assert run("cases", env={"SAFEGUARD_PASSPHRASE": CANARY}).returncode == 3
    assert pauses_of(tmp_path) == [1.0, 2.0]
    waited = run("cases", env={"SAFEGUARD_PASSPHRASE": CANARY})
    assert waited.returncode == 3
    assert "5 failed attempts to unlock as alice since the last unlock: checking in 4 s" in (
        waited.stderr
    )
    assert WRONG in waited.stderr


def test_the_delay_is_doubling_and_capped() -> None:
    assert [attempts.wait_after(n) for n in range(12)] == [
        0,
        0,
        0,
        1,
        2,
        4,
        8,
        16,
        30,
        30,
        30,
        30,
    ]
    assert attempts.wait_after(10_000) == attempts.LONGEST_WAIT


def read_only_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every connection the commands open refuses to write, as SQLite does for a vault it may
    only read."""
    connect = storage.connect

    def read_only(path: Path, busy_timeout: float = storage.DEFAULT_BUSY_TIMEOUT) -> Any:
        connection = connect(path, busy_timeout)
        connection.execute("PRAGMA query_only = ON")
        return connection

    monkeypatch.setattr(storage, "connect", read_only)


def test_a_vault_that_cannot_be_written_still_refuses_as_usual(
    vault: VaultInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("cases", env={"SAFEGUARD_PASSPHRASE": CANARY}).exit_code == 3
    read_only_connections(monkeypatch)

    refused = invoke("cases", env={"SAFEGUARD_PASSPHRASE": CANARY})
    assert refused.exit_code == 3
    assert WRONG in refused.stderr
    assert next(line for line in refused.stderr.splitlines() if line.strip()).endswith(WRONG)
    assert len(rows(vault.path)) == 1  # nothing recorded, nothing broken

    # The right passphrase still unlocks, and is told of what it missed though the count
    # cannot be cleared.
    listed = invoke("cases")
    assert listed.exit_code == 0, listed.stderr
    assert "1 failed attempt to unlock as alice" in listed.stderr
    assert [row[5] for row in rows(vault.path)] == [None]  # to be told again next time


@on_both_engines
def test_a_busy_vault_still_refuses_as_usual(vault: VaultInfo) -> None:
    with writing_elsewhere(vault.path):
        refused = run("cases", env={"SAFEGUARD_PASSPHRASE": CANARY})
    assert refused.returncode == 3
    assert WRONG in refused.stderr and "busy" not in refused.stderr
    assert rows(vault.path) == []  # the write gave up rather than hold up the refusal


def test_unreadable_details_do_not_stop_the_audit(vault: VaultInfo) -> None:
    assert invoke("cases", env={"SAFEGUARD_PASSPHRASE": CANARY}).exit_code == 3
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE unlock_attempts SET details = 'not json'")
    shown = invoke("audit")
    assert shown.exit_code == 0, shown.stderr
    assert "(unknown)" in shown.stdout and "failed to unlock with a passphrase" in shown.stdout


def test_a_0004_vault_upgrades_keeping_its_records(vault: VaultInfo) -> None:
    reference = record_case(vault.path)
    engine = storage.make_engine(vault.path)  # the vault as 0004 left it
    try:
        from alembic import command

        with engine.begin() as connection:
            command.downgrade(migrate._config(connection), "0004")
    finally:
        engine.dispose()
    refused = invoke("cases")
    assert refused.exit_code == 5 and "safeguard db upgrade" in refused.stderr

    upgraded = invoke("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert f"from 0004 to {storage.HEAD_REVISION}" in upgraded.stderr
    assert migrate.status(vault.path).revision == storage.HEAD_REVISION
    assert rows(vault.path) == []

    assert invoke("cases", env={"SAFEGUARD_PASSPHRASE": CANARY}).exit_code == 3
    assert len(rows(vault.path)) == 1
    assert reference in invoke("cases").stdout
    verified = invoke("verify")
    assert verified.exit_code == 0, verified.stdout + verified.stderr


def test_old_attempts_are_kept_after_an_unlock(vault: VaultInfo, set_clock: SetClock) -> None:
    start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    for minutes in (0, 1):
        set_clock(start + timedelta(minutes=minutes))
        assert invoke("cases", env={"SAFEGUARD_PASSPHRASE": CANARY}).exit_code == 3
    set_clock(start + timedelta(hours=1))
    assert invoke("cases").exit_code == 0
    cleared = [row[5] for row in rows(vault.path)]
    assert len(cleared) == 2 and all(c and c.startswith("2026-11-25T09:00") for c in cleared)
    shown = invoke("audit")
    assert shown.stdout.count("failed to unlock") == 2
    assert PASSPHRASE not in shown.stdout


def test_checking_a_backup_never_waits_for_the_attempts_it_holds(
    vault: VaultInfo, tmp_path: Path, pauses: list[float]
) -> None:
    for _ in range(5):
        assert invoke("cases", env={"SAFEGUARD_PASSPHRASE": CANARY}).exit_code == 3
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o700)
    assert invoke("backup", "create", str(backups)).exit_code == 0
    (backup,) = backups.glob("safeguard-*.db")
    pauses.clear()
    checked = invoke("backup", "verify", str(backup), "--full")
    assert checked.exit_code == 0, checked.stderr
    assert pauses == []
    # The vault itself still counts them.
    assert invoke("cases").exit_code == 0
    assert pauses == [4.0]


def test_a_full_disk_still_refuses_as_usual(tmp_path: Path) -> None:
    from safeguarding.vault import Vault
    from tests.conftest import FAST_KDF
    from tests.reliability import fill, tiny_filesystem

    with tiny_filesystem(tmp_path / "disk", 2048) as disk:
        path = disk / "vault.db"
        Vault.create(path, "alice", PASSPHRASE, kdf=FAST_KDF)[0].close()
        env = {"SAFEGUARD_VAULT": str(path), "SAFEGUARD_USER": "alice"}
        # A reader keeps the files SQLite needs beside the vault, so the vault still opens on
        # the full disk, and only writing fails.
        holder = sqlite3.connect(path)
        try:
            holder.execute("SELECT count(*) FROM entries").fetchone()
            fill(disk, 0)
            refused = run("cases", env={**env, "SAFEGUARD_PASSPHRASE": CANARY})
            listed = run("cases", env={**env, "SAFEGUARD_PASSPHRASE": PASSPHRASE})
        finally:
            holder.close()
        assert refused.returncode == 3, refused.stderr
        assert WRONG in refused.stderr and "Traceback" not in refused.stderr
        assert "full" not in refused.stderr
        assert listed.returncode == 0, listed.stderr
        assert rows(path) == []
        assert CANARY.encode() not in on_disk(path)


def test_the_details_are_sealed_only_to_those_who_hold_the_vault_key(
    vault: VaultInfo, tmp_path: Path
) -> None:
    """A member of staff has key pairs of their own but no vault key, and no business reading
    who tried to unlock: the details of a failed attempt are never sealed to them."""
    from tests.conftest import write_secret

    secret = write_secret(tmp_path / "staff", "a teacher's own passphrase")
    added = invoke(
        "user", "add", "Tess Teacher", "--role", "staff",
        env={"SAFEGUARD_NEW_PASSPHRASE_FILE": str(secret)},
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert run("cases", env={"SAFEGUARD_PASSPHRASE": CANARY}).returncode == 3
    with sqlite3.connect(vault.path) as db:
        slots = db.execute("SELECT purpose, wrapped_key, exchange_public FROM key_slots").fetchall()
    holders = {bytes(public).hex() for _, wrapped, public in slots if wrapped is not None}
    staff = [bytes(public).hex() for purpose, _, public in slots if purpose == "staff"]
    sealed_to = set(json.loads(rows(vault.path)[-1][4]))
    assert staff and sealed_to == holders
    assert not sealed_to & set(staff)


def test_a_member_of_staff_failing_to_unlock_is_recorded_slowed_and_told(
    vault: VaultInfo, pauses: list[float]
) -> None:
    from safeguarding.vault import Role, Vault

    staff, right = "Tess Teacher", "tess passphrase 2026"
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user(staff, Role.STAFF, right)
    alice.close()

    def as_staff(passphrase: str) -> Any:
        return invoke("--user", staff, "concerns", env={"SAFEGUARD_PASSPHRASE": passphrase})

    for _ in range(4):
        failed = as_staff(CANARY)
        assert failed.exit_code == 3
        assert failed.stderr.strip().endswith(
            f"wrong passphrase for '{staff}'; nothing was changed"
        )
    assert pauses == [1.0]  # the fourth waited, as any user's would
    assert len(rows(vault.path)) == 4
    assert CANARY.encode() not in on_disk(vault.path)

    pauses.clear()
    opened = as_staff(right)
    assert opened.exit_code == 0, opened.stderr
    assert pauses == [2.0]
    told = [line for line in opened.stderr.splitlines() if "failed attempt" in line]
    assert "4 failed attempts to unlock as Tess Teacher since the last unlock" in told[0]
    assert len(told) == 2 and "since your last unlock" in told[1]
    assert "safeguard audit" in told[1]
    assert "failed attempt" not in as_staff(right).stderr  # told once

    shown = invoke("audit")
    assert shown.exit_code == 0, shown.stderr
    lines = [line for line in shown.stdout.splitlines() if "failed to unlock" in line]
    assert len(lines) == 4 and all(staff in line for line in lines)


def test_a_key_put_in_a_slot_by_hand_reads_no_attempt(vault: VaultInfo) -> None:
    """Who tried to unlock is sealed only to slots the chronology vouches for: with a public
    key planted in the recovery slot, the attempt is still recorded, its details sealed to no
    one."""
    from safeguarding import crypto

    planted = crypto.new_exchange_key().public_key().public_bytes_raw()
    with sqlite3.connect(vault.path) as db:
        db.execute(
            "UPDATE key_slots SET exchange_public = ? WHERE purpose = 'recovery'", (planted,)
        )
    assert run("cases", env={"SAFEGUARD_PASSPHRASE": CANARY}).returncode == 3
    recorded = rows(vault.path)
    assert len(recorded) == 1
    assert json.loads(recorded[0][4]) == {}
