"""Members of staff: a slot with their own key pairs and no vault key, and nothing but their
concerns open to them."""

from __future__ import annotations

import json
import sqlite3

import pytest

from safeguarding import crypto, slots
from safeguarding.db import Db, KeySlot
from safeguarding.errors import NotAllowed
from safeguarding.vault import Role, Vault
from tests.conftest import PASSPHRASE, VaultInfo, invoke, on_both_engines
from tests.flowkit import sql_value

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
        ["user", "passwd", "alice"],
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
        "('safeguard concern'), list their own ('safeguard concerns') and change their own "
        "passphrase ('safeguard user passwd')"
    ]
    assert result.stdout == ""
    assert staffed.path.read_bytes() == before


@on_both_engines
def test_a_dsl_resets_a_staff_passphrase_and_the_slot_still_has_no_vault_key(
    staffed: VaultInfo,
) -> None:
    reset = invoke("user", "passwd", STAFF, env={"SAFEGUARD_NEW_PASSPHRASE": "a new one for tess"})
    assert reset.exit_code == 0, reset.stderr
    staff_slots = "SELECT count(*) FROM key_slots WHERE purpose = 'staff'"
    assert sql_value(staffed.path, staff_slots) == 1
    assert sql_value(staffed.path, staff_slots + " AND wrapped_key IS NULL") == 1
    assert invoke("verify").exit_code == 0


@on_both_engines
def test_a_vault_with_staff_verifies(staffed: VaultInfo) -> None:
    assert invoke("verify").exit_code == 0
    assert invoke("verify", "--no-passphrase").exit_code == 0
    assert crypto.DEFAULT_KDF.memory_kib == 1024  # the tests' cheap KDF reached the new slot


def test_a_member_of_staff_changes_their_own_passphrase(staffed: VaultInfo, say) -> None:  # type: ignore[no-untyped-def]
    new = "a new one for tess, said aloud no more"
    as_tess = {"SAFEGUARD_PASSPHRASE": STAFF_PASSPHRASE}
    reported = invoke(
        "--user", STAFF, "concern", "--about", "Amy", "--about-role", "pupil", "--where", "hall",
        "--text-file", say("Amy said her dad hit her."), env=as_tess,
    )  # fmt: skip
    assert reported.exit_code == 0, reported.stderr
    changed = invoke(
        "--user", STAFF, "user", "passwd", env=as_tess | {"SAFEGUARD_NEW_PASSPHRASE": new}
    )
    assert changed.exit_code == 0, changed.stderr
    assert f"The passphrase of {STAFF} has been changed." in changed.stderr

    old = invoke("--user", STAFF, "concerns", env=as_tess)
    assert old.exit_code == 3 and "wrong passphrase" in old.stderr
    mine = invoke("--user", STAFF, "concerns", "--json", env={"SAFEGUARD_PASSPHRASE": new})
    assert mine.exit_code == 0, mine.stderr
    assert [c["concern"] for c in json.loads(mine.stdout)["concerns"]] == [1]  # still theirs
    with sqlite3.connect(staffed.path) as db:
        assert db.execute(
            "SELECT wrapped_key FROM key_slots WHERE purpose = 'staff'"
        ).fetchone() == (None,)
        kind, author, facts = db.execute(
            "SELECT kind, author_id, facts FROM entries ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    assert (kind, author) == ("passphrase_changed", 2)
    assert STAFF not in facts  # the name is sealed
    # Signed by them, the slot's new fingerprint recorded: the DSL's verify opens and checks it.
    checked = invoke("verify")
    assert checked.exit_code == 0, checked.stderr
    alice = Vault.open(staffed.path).unlock("alice", PASSPHRASE)
    try:
        assert alice.verify().unreadable == 0  # the DSL opened the change, not only its signature
    finally:
        alice.close()
    assert invoke("verify", "--no-passphrase").exit_code == 0
    assert "1 failed attempt to unlock as Tess Teacher" in mine.stderr

    again = invoke(
        "--user", STAFF, "user", "passwd", "--json",
        env={"SAFEGUARD_PASSPHRASE": new, "SAFEGUARD_NEW_PASSPHRASE": STAFF_PASSPHRASE},
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr
    document = json.loads(again.stdout)
    assert (document["user"], document["role"], document["rekeyed"]) == (STAFF, "staff", False)
    assert invoke("verify").exit_code == 0


def test_a_member_of_staff_cannot_set_another_passphrase(staffed: VaultInfo) -> None:
    before = staffed.path.read_bytes()
    refused = invoke(
        "--user", STAFF, "user", "passwd", "alice",
        env={"SAFEGUARD_PASSPHRASE": STAFF_PASSPHRASE, "SAFEGUARD_NEW_PASSPHRASE": "x" * 20},
    )  # fmt: skip
    assert refused.exit_code == 3 and "is a member of staff" in refused.stderr
    assert staffed.path.read_bytes() == before
