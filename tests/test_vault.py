"""Key slots: each user their own passphrase, re-wrapping, recovery, disabling, and the rules."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from safeguarding import crypto
from safeguarding.errors import NotAllowed, UsageError, VaultUnusable
from safeguarding.vault import Role, Vault
from tests.conftest import DEPUTY_PASSPHRASE, PASSPHRASE, VaultInfo


def slots(path: Path) -> dict[int, tuple[bytes, bytes | None]]:
    with sqlite3.connect(path) as db:
        return {
            row[0]: (row[1], row[2])
            for row in db.execute("SELECT id, salt, wrapped_key FROM key_slots")
        }


def entries(path: Path) -> list[tuple[int, bytes, bytes]]:
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT seq, payload, mac FROM entries ORDER BY seq"))


def test_each_user_unlocks_with_their_own_passphrase(vault: VaultInfo) -> None:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user("Sam Patel", Role.DEPUTY, DEPUTY_PASSPHRASE)
    alice.close()

    sam = Vault.open(vault.path).unlock("sam patel", DEPUTY_PASSPHRASE)
    assert (sam.user.name, sam.user.role) == ("Sam Patel", Role.DEPUTY)
    assert sam.keys.vault_key == alice.keys.vault_key
    sam.close()
    with pytest.raises(NotAllowed, match="wrong passphrase"):
        Vault.open(vault.path).unlock("Sam Patel", PASSPHRASE)
    with pytest.raises(NotAllowed, match="wrong passphrase"):
        Vault.open(vault.path).unlock("alice", DEPUTY_PASSPHRASE)


def test_unknown_user_is_refused(vault: VaultInfo) -> None:
    with pytest.raises(NotAllowed, match="no user 'mallory'"):
        Vault.open(vault.path).unlock("mallory", PASSPHRASE)


def test_passphrase_change_rekeys_the_vault_and_keeps_every_record(vault: VaultInfo) -> None:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user("Sam Patel", Role.DEPUTY, DEPUTY_PASSPHRASE)
    before_slots, before_entries = slots(vault.path), entries(vault.path)
    old_key = alice.keys.vault_key

    alice.set_passphrase(None, "a brand new passphrase")
    after_slots, after_entries = slots(vault.path), entries(vault.path)
    assert after_slots[1][0] != before_slots[1][0]  # alice's slot: a new salt
    # Every other slot keeps its salt (its passphrase) but holds the new epoch's vault key.
    for slot_id in (2, 3):
        assert after_slots[slot_id][0] == before_slots[slot_id][0]
        assert after_slots[slot_id][1] != before_slots[slot_id][1]
    assert after_entries[: len(before_entries)] == before_entries  # records untouched
    assert alice.keys.vault_key != old_key and alice.keys.epoch == 1
    alice.close()

    again = Vault.open(vault.path).unlock("alice", "a brand new passphrase")
    assert again.keys.vault_key == alice.keys.vault_key
    assert again.verify().entries == len(after_entries)
    again.close()
    with pytest.raises(NotAllowed):
        Vault.open(vault.path).unlock("alice", PASSPHRASE)
    Vault.open(vault.path).unlock("Sam Patel", DEPUTY_PASSPHRASE).close()


def test_recovery_key_sets_a_forgotten_passphrase(vault: VaultInfo) -> None:
    Vault.open(vault.path).recover(vault.recovery_key.lower(), "alice", "remembered at last")
    unlocked = Vault.open(vault.path).unlock("alice", "remembered at last")
    assert unlocked.verify().entries == 3
    unlocked.close()


def test_wrong_recovery_key_is_refused(vault: VaultInfo) -> None:
    other = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"
    with pytest.raises(NotAllowed, match="does not open this vault"):
        Vault.open(vault.path).recover(other, "alice", "remembered at last")
    with pytest.raises(NotAllowed, match="not a recovery key"):
        Vault.open(vault.path).recover("1234", "alice", "remembered at last")
    Vault.open(vault.path).unlock("alice", PASSPHRASE).close()


def test_disabled_user_is_refused_even_if_the_flag_is_edited(vault: VaultInfo) -> None:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user("Sam Patel", Role.DEPUTY, DEPUTY_PASSPHRASE)
    alice.disable_user("Sam Patel")
    alice.close()
    with pytest.raises(NotAllowed, match="disabled"):
        Vault.open(vault.path).unlock("Sam Patel", DEPUTY_PASSPHRASE)

    with sqlite3.connect(vault.path) as db:  # someone clears the flag by hand
        db.execute("UPDATE users SET disabled_at = NULL")
    with pytest.raises(NotAllowed, match="wrong passphrase"):
        Vault.open(vault.path).unlock("Sam Patel", DEPUTY_PASSPHRASE)


def test_management_needs_a_dsl_or_head(vault: VaultInfo) -> None:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user("Sam Patel", Role.DEPUTY, DEPUTY_PASSPHRASE)
    alice.close()
    sam = Vault.open(vault.path).unlock("Sam Patel", DEPUTY_PASSPHRASE)
    with pytest.raises(NotAllowed, match="only a DSL or the headteacher"):
        sam.add_user("Jo", Role.DSL, "another passphrase")
    with pytest.raises(NotAllowed, match="only a DSL or the headteacher"):
        sam.set_passphrase("alice", "taking over alice")
    sam.set_passphrase(None, "sam's own new passphrase")
    sam.close()


def test_the_last_dsl_and_oneself_cannot_be_disabled(vault: VaultInfo) -> None:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    with pytest.raises(NotAllowed, match="yourself"):
        alice.disable_user("alice")
    alice.add_user("Head", Role.HEAD, "headteacher passphrase")
    alice.close()
    head = Vault.open(vault.path).unlock("Head", "headteacher passphrase")
    with pytest.raises(NotAllowed, match="last active DSL"):
        head.disable_user("alice")
    head.close()


@pytest.mark.parametrize(
    ("name", "passphrase", "reason"),
    [
        ("bob", "short", "too short"),
        ("bob", "elevenchars", "too short"),
        ("Robert Jones!", "robert jones!", "own name"),
    ],
)
def test_weak_passphrases_are_refused(
    vault: VaultInfo, name: str, passphrase: str, reason: str
) -> None:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    with pytest.raises(UsageError, match=reason):
        alice.add_user(name, Role.DEPUTY, passphrase)
    assert [u.name for u in alice.users()] == ["alice"]
    alice.close()


def test_duplicate_user_is_refused(vault: VaultInfo) -> None:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    with pytest.raises(UsageError, match="already a user"):
        alice.add_user("ALICE", Role.DEPUTY, DEPUTY_PASSPHRASE)
    alice.close()


def test_slot_stores_its_kdf_parameters(tmp_path: Path) -> None:
    params = crypto.KdfParams(iterations=2, memory_kib=2048, lanes=2)
    unlocked, _ = Vault.create(tmp_path / "v.db", "alice", PASSPHRASE, kdf=params)
    unlocked.close()
    with sqlite3.connect(tmp_path / "v.db") as db:
        rows = db.execute(
            "SELECT kdf, kdf_iterations, kdf_memory_kib, kdf_lanes, length(salt) FROM key_slots"
        ).fetchall()
    assert rows == [("argon2id", 2, 2048, 2, 16)] * 2


def test_create_refuses_an_existing_file_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    path.write_bytes(b"precious")
    with pytest.raises(UsageError, match="already exists"):
        Vault.create(path, "alice", PASSPHRASE)
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "v.db"]


def test_open_refuses_a_network_filesystem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguarding import storage

    unlocked, _ = Vault.create(tmp_path / "v.db", "alice", PASSPHRASE)
    unlocked.close()
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\nserver:/export {tmp_path} nfs4 rw 0 0\n")
    monkeypatch.setattr(storage, "MOUNTS_FILE", mounts)
    assert storage.filesystem_type(Path("/usr")) == "ext4"
    with pytest.raises(VaultUnusable, match=r"network filesystem \(nfs4\)"):
        Vault.open(tmp_path / "v.db")
    with pytest.raises(VaultUnusable, match="network filesystem"):
        Vault.create(tmp_path / "new.db", "alice", PASSPHRASE)
    assert not (tmp_path / "new.db").exists()
