"""The chain: an honest vault verifies; edits made behind SQLite's back are named."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from safeguarding.chronology import Checkpoint
from safeguarding.errors import CheckFailed, UsageError
from safeguarding.vault import Role, Unlocked, Vault
from tests.conftest import PASSPHRASE, VaultInfo, invoke


def grow(vault: VaultInfo, users: int = 5) -> Unlocked:
    """A vault of 2 + users entries (vault created, alice added, then one per user)."""
    unlocked = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    for number in range(users):
        unlocked.add_user(f"User {number}", Role.DEPUTY, f"passphrase number {number}")
    return unlocked


def tamper(path: Path, *statements: str) -> None:
    """What someone with sqlite3 and the file could do: drop the triggers, then edit."""
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER entries_no_update")
        db.execute("DROP TRIGGER entries_no_delete")
        for statement in statements:
            db.execute(statement)


def test_honest_vault_verifies(vault: VaultInfo) -> None:
    unlocked = grow(vault)
    report = unlocked.verify()
    assert report.entries == 7
    assert report.head == unlocked.head()


def test_triggers_refuse_update_and_delete(vault: VaultInfo) -> None:
    with sqlite3.connect(vault.path) as db:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE entries SET kind = 'note' WHERE seq = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM entries WHERE seq = 2")


def test_flipped_byte_is_named(vault: VaultInfo) -> None:
    unlocked = grow(vault)
    with sqlite3.connect(vault.path) as db:
        payload = bytearray(db.execute("SELECT payload FROM entries WHERE seq = 5").fetchone()[0])
    payload[20] ^= 0x40
    tamper(vault.path)
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE entries SET payload = ? WHERE seq = 5", (bytes(payload),))
    with pytest.raises(CheckFailed, match="entry 5 has been altered"):
        unlocked.verify()


def test_edited_time_is_named(vault: VaultInfo) -> None:
    unlocked = grow(vault)
    tamper(vault.path, "UPDATE entries SET event_at = '2020-01-01T00:00:00.000000Z' WHERE seq = 4")
    with pytest.raises(CheckFailed, match="entry 4 has been altered"):
        unlocked.verify()


def test_deleted_row_is_named(vault: VaultInfo) -> None:
    unlocked = grow(vault)
    tamper(vault.path, "DELETE FROM entries WHERE seq = 4")
    with pytest.raises(CheckFailed, match="entry 4 is missing"):
        unlocked.verify()


def test_swapped_payloads_are_named(vault: VaultInfo) -> None:
    unlocked = grow(vault)
    tamper(
        vault.path,
        "UPDATE entries SET payload = (SELECT payload FROM entries WHERE seq = 6) WHERE seq = 4",
    )
    with pytest.raises(CheckFailed, match="entry 4 has been altered"):
        unlocked.verify()


def test_removed_tail_is_caught_with_a_checkpoint(vault: VaultInfo) -> None:
    unlocked = grow(vault)
    checkpoint = unlocked.head()
    assert checkpoint.seq == 7
    with sqlite3.connect(vault.path) as db:
        mac5 = db.execute("SELECT mac FROM entries WHERE seq = 5").fetchone()[0]
    tamper(
        vault.path,
        "DELETE FROM entries WHERE seq > 5",
    )
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE vault_meta SET head_seq = 5, head_mac = ?", (mac5,))

    # Without a checkpoint the shortened chain holds, but a user it no longer adds is left...
    with pytest.raises(CheckFailed, match="user 5 is not in the chronology"):
        unlocked.verify()
    # ...with one, the rollback itself is named.
    with pytest.raises(
        CheckFailed,
        match=r"entry 7 from checkpoint .* is missing: the vault has been rolled back to entry 5",
    ):
        unlocked.verify([checkpoint])


def test_removed_tail_without_rolling_back_the_head_is_caught(vault: VaultInfo) -> None:
    unlocked = grow(vault)
    tamper(vault.path, "DELETE FROM entries WHERE seq > 5")
    with pytest.raises(CheckFailed, match="entries 6 to 7 are missing"):
        unlocked.verify()
    tamper_more = "DELETE FROM entries WHERE seq > 4"
    with sqlite3.connect(vault.path) as db:
        db.execute(tamper_more)
        db.execute("UPDATE vault_meta SET head_seq = 5")
    with pytest.raises(CheckFailed, match="entry 5 is missing"):
        unlocked.verify()


def test_checkpoint_that_does_not_match_is_named(vault: VaultInfo) -> None:
    unlocked = grow(vault)
    with pytest.raises(CheckFailed, match="entry 3 does not match checkpoint"):
        unlocked.verify([Checkpoint(3, "00" * 32)])
    assert unlocked.verify([Checkpoint.parse(str(unlocked.head())[:20])]).entries == 7


@pytest.mark.parametrize(
    "text", ["", "12", "x:abcdef0123456789", "3:zz", "3:abc", "-1:" + "a" * 16]
)
def test_malformed_checkpoints_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="not a checkpoint"):
        Checkpoint.parse(text)


def test_verify_command_names_the_damage(vault: VaultInfo) -> None:
    grow(vault).close()
    good = invoke("verify", "--json")
    assert good.exit_code == 0, good.stderr
    tamper(vault.path, "UPDATE entries SET kind = 'forged' WHERE seq = 6")
    bad = invoke("verify")
    assert bad.exit_code == 1
    assert "entry 6 has been altered" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_verify_command_with_checkpoint_catches_rollback(vault: VaultInfo) -> None:
    unlocked = grow(vault)
    checkpoint = str(unlocked.head())
    unlocked.close()
    with sqlite3.connect(vault.path) as db:
        mac4 = db.execute("SELECT mac FROM entries WHERE seq = 4").fetchone()[0]
    tamper(vault.path, "DELETE FROM entries WHERE seq > 4")
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE vault_meta SET head_seq = 4, head_mac = ?", (mac4,))
    alone = invoke("verify")  # the users whose addition was cut are still there
    assert alone.exit_code == 1 and "is not in the chronology" in alone.stderr
    result = invoke("verify", "--checkpoint", checkpoint, "--json")
    assert result.exit_code == 1
    assert "rolled back to entry 4" in result.stderr
    assert '"ok": false' in result.stdout


def test_a_forged_user_row_is_named(vault: VaultInfo) -> None:
    unlocked = grow(vault, users=2)
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE users SET name = (SELECT name FROM users WHERE id = 1) WHERE id = 2")
    with pytest.raises(CheckFailed, match="user 2 does not decrypt"):
        unlocked.verify()
