"""Members of staff: a slot with their own key pairs and no vault key, and nothing but their
concerns open to them."""

from __future__ import annotations

import sqlite3

import pytest

from safeguarding import crypto, slots
from safeguarding.db import Db, KeySlot
from safeguarding.errors import NotAllowed
from safeguarding.vault import Role, Vault
from tests.conftest import PASSPHRASE, VaultInfo, invoke

STAFF, STAFF_PASSPHRASE = "Tess Teacher", "tess passphrase 2026"


@pytest.fixture
def staffed(vault: VaultInfo) -> VaultInfo:
    """alice (DSL) and Tess Teacher, a member of staff."""
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user(STAFF, Role.STAFF, STAFF_PASSPHRASE)
    alice.close()
    return vault


def test_user_add_staff_gives_a_slot_with_no_vault_key(vault: VaultInfo) -> None:
    added = invoke(
        "user", "add", STAFF, "--role", "staff", env={"SAFEGUARD_NEW_PASSPHRASE": STAFF_PASSPHRASE}
    )
    assert added.exit_code == 0, added.stderr
    listed = invoke("user", "list")
    assert "Member of staff" in listed.stdout
    with sqlite3.connect(vault.path) as db:
        purpose, wrapped, exchange = db.execute(
            "SELECT purpose, wrapped_key, exchange_public FROM key_slots WHERE user_id = 2"
        ).fetchone()
    assert (purpose, wrapped) == ("staff", None)
    assert exchange is not None and len(exchange) == 32


def test_a_staff_slot_opens_their_own_keys_and_no_vault_key(staffed: VaultInfo) -> None:
    vault = Vault.open(staffed.path)
    with sqlite3.connect(staffed.path) as connection:
        slot = Db(connection).first(KeySlot, "purpose = 'staff'")
    assert slot is not None
    assert slots.open_own(slot, "wrong passphrase here") is None
    holder = slots.open_own(slot, STAFF_PASSPHRASE)
    assert holder is not None and holder.exchange_public == slot.exchange_public
    assert slots.unwrap(slot, STAFF_PASSPHRASE, 0) is None  # no vault key to unwrap
    with pytest.raises(NotAllowed, match="member of staff"):
        vault.unlock(STAFF, STAFF_PASSPHRASE)
    vault.close()


@pytest.mark.parametrize(
    "command",
    [
        ["cases"],
        ["timeline", "SG-2026-0001"],
        ["export", "SG-2026-0001", "--format", "json", "--output", "-"],
        ["user", "add", "Someone Else", "--role", "dsl"],
        ["user", "list"],
        ["user", "passwd"],
        ["verify"],
        ["verify", "--no-passphrase"],
        ["checkpoint"],
        ["audit", "--mine"],
        ["note", "SG-2026-0001", "--text-file", "-"],
    ],
)
def test_every_other_command_refuses_a_member_of_staff(
    staffed: VaultInfo, command: list[str]
) -> None:
    before = staffed.path.read_bytes()
    result = invoke(
        "--user",
        STAFF,
        *command,
        input="text\n",
        env={"SAFEGUARD_PASSPHRASE": STAFF_PASSPHRASE},
    )
    assert result.exit_code == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"safeguard: {STAFF} is a member of staff: a member of staff may only report a concern "
        "('safeguard concern') and list their own ('safeguard concerns')"
    ]
    assert result.stdout == ""
    assert staffed.path.read_bytes() == before


def test_a_dsl_resets_a_staff_passphrase_and_the_slot_still_has_no_vault_key(
    staffed: VaultInfo,
) -> None:
    reset = invoke("user", "passwd", STAFF, env={"SAFEGUARD_NEW_PASSPHRASE": "a new one for tess"})
    assert reset.exit_code == 0, reset.stderr
    with sqlite3.connect(staffed.path) as db:
        wrapped = db.execute("SELECT wrapped_key FROM key_slots WHERE purpose = 'staff'").fetchone()
    assert wrapped == (None,)
    assert invoke("verify").exit_code == 0


def test_a_vault_with_staff_verifies(staffed: VaultInfo) -> None:
    assert invoke("verify").exit_code == 0
    assert invoke("verify", "--no-passphrase").exit_code == 0
    assert crypto.DEFAULT_KDF.memory_kib == 1024  # the tests' cheap KDF reached the new slot
