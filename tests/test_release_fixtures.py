"""A vault and backup folder made by safeguard 0.1.0 (tests/fixtures/v0.1.0, never regenerated)
open, upgrade, verify and restore with this version, and every entry stays readable."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeguarding.storage import HEAD_REVISION
from tests.conftest import SetClock, invoke

FIXTURE = Path(__file__).parent / "fixtures" / "v0.1.0"
ALEX = {"SAFEGUARD_USER": "Alex Morgan", "SAFEGUARD_PASSPHRASE": "fixture passphrase 0.1.0"}
SAM = {"SAFEGUARD_USER": "Sam Patel", "SAFEGUARD_PASSPHRASE": "deputy passphrase 0.1.0"}
RECOVERY_KEY = "DI44-3FUP-EWW5-SJQS-DPD7-R67B-P7UX-YYN5"
CHECKPOINT = "11:cd24bea6099dfa835eab485d581ab18ce3034d9ef7688dca953ab4fa2bcce67f"


@pytest.fixture
def old(tmp_path: Path, set_clock: SetClock, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the 0.1.0 vault and its backups, made private as safeguard made them."""
    copy = tmp_path / "old"
    shutil.copytree(FIXTURE, copy)
    for path in [copy / "vault.db", *(copy / "backups").iterdir()]:
        os.chmod(path, 0o600)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(copy / "vault.db"))
    set_clock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    return copy


def test_a_0_1_0_vault_upgrades_and_every_user_gets_a_key(old: Path) -> None:
    refused = invoke("cases", env=ALEX)
    assert refused.exit_code == 5 and "safeguard db upgrade" in refused.stderr
    upgraded = invoke("db", "upgrade", env=ALEX)
    assert upgraded.exit_code == 0, upgraded.stderr
    assert f"from 0002 to {HEAD_REVISION}" in upgraded.stderr

    public = json.loads(invoke("verify", "--no-passphrase", "--json").stdout)
    assert (public["ok"], public["entries"], public["unchecked"]) == (True, 11, 11)
    # Alex's first unlock seals the 11 entries of 0.1.0 into the signed chain.
    verified = invoke("verify", "--checkpoint", CHECKPOINT, "--json", env=ALEX)
    assert verified.exit_code == 0, verified.stderr
    document = json.loads(verified.stdout)
    assert (document["entries"], document["before_signatures"]) == (12, 11)

    note = invoke("note", "SG-2026-0001", "--text-file", "-", "--json", input="By Sam.", env=SAM)
    assert note.exit_code == 0, note.stderr
    shown = json.loads(invoke("timeline", "SG-2026-0001", "--json", env=ALEX).stdout)
    texts = [e["text"] for e in shown["entries"]]
    assert "He has been messaging my daughter on Instagram." in texts and "By Sam." in texts
    assert {e["author"] for e in shown["entries"]} >= {"Alex Morgan", "Sam Patel"}

    disabled = invoke("cases", env={"SAFEGUARD_USER": "Jo Head", "SAFEGUARD_PASSPHRASE": "x" * 12})
    assert disabled.exit_code == 3

    public = json.loads(invoke("verify", "--no-passphrase", "--json").stdout)
    assert public["ok"] and public["unchecked"] == 11
    assert invoke("verify", "--checkpoints", str(old / "backups"), env=ALEX).exit_code == 0


def test_the_recovery_key_of_a_0_1_0_vault_still_resets_a_passphrase(old: Path) -> None:
    assert invoke("db", "upgrade", env=ALEX).exit_code == 0
    reset = invoke(
        "user",
        "passwd",
        "Sam Patel",
        "--recovery",
        env={
            "SAFEGUARD_RECOVERY_KEY": RECOVERY_KEY,
            "SAFEGUARD_NEW_PASSPHRASE": "a brand new passphrase",
        },
    )
    assert reset.exit_code == 0, reset.stderr
    sam = {"SAFEGUARD_USER": "Sam Patel", "SAFEGUARD_PASSPHRASE": "a brand new passphrase"}
    assert (
        invoke("note", "SG-2026-0002", "--text-file", "-", input="Later.", env=sam).exit_code == 0
    )
    verified = invoke("verify", env=ALEX)
    assert verified.exit_code == 0, verified.stderr
    assert invoke("verify", "--no-passphrase").exit_code == 0


def test_a_0_1_0_backup_verifies_restores_and_upgrades(old: Path, tmp_path: Path) -> None:
    backup = next((old / "backups").glob("*.db"))
    assert invoke("backup", "verify", str(backup)).exit_code == 0
    target = tmp_path / "restored" / "vault.db"
    target.parent.mkdir()
    restored = invoke("restore", str(backup), "--to", str(target), env=ALEX)
    assert restored.exit_code == 0, restored.stderr
    env = {**ALEX, "SAFEGUARD_VAULT": str(target)}
    assert invoke("db", "upgrade", env=env).exit_code == 0
    listed = json.loads(invoke("cases", "--json", env=env).stdout)
    assert [c["case"] for c in listed] == ["SG-2026-0001", "SG-2026-0002"]
    assert invoke("verify", env=env).exit_code == 0


def test_a_0_1_0_vault_is_rekeyed_and_its_allegation_restricted_once_all_have_keys(
    old: Path,
) -> None:
    from safeguarding.vault import Vault

    upgraded = invoke("db", "upgrade", env=ALEX)
    assert upgraded.exit_code == 0 and "re-keyed once every user" in upgraded.stderr
    assert invoke("cases", env=ALEX).exit_code == 0  # Alex's keys
    # Not yet: Sam and the recovery key are still to come; Sam still reads the allegation.
    assert "SG-2026-0001" in invoke("cases", env=SAM).stdout
    checked = invoke("verify", "--recovery", env={**ALEX, "SAFEGUARD_RECOVERY_KEY": RECOVERY_KEY})
    assert checked.exit_code == 0, checked.stderr
    vault = Vault.open(old / "vault.db")
    alex = vault.unlock(ALEX["SAFEGUARD_USER"], ALEX["SAFEGUARD_PASSPHRASE"])
    assert alex.keys.epoch == 1  # Sam's unlock above was the last one needed
    alex.close()
    vault.close()

    # The allegation is now restricted to Alex, who recorded it (the head is disabled).
    listed = json.loads(invoke("access", "SG-2026-0001", "--json", env=ALEX).stdout)
    assert [m["user"] for m in listed["members"]] == ["Alex Morgan"]
    sam_sees = json.loads(invoke("cases", "--status", "all", "--json", env=SAM).stdout)
    assert [c["case"] for c in sam_sees] == ["SG-2026-0002"]
    assert invoke("timeline", "SG-2026-0001", env=SAM).exit_code == 4
    shown = json.loads(invoke("timeline", "SG-2026-0001", "--json", env=ALEX).stdout)
    assert "He has been messaging my daughter on Instagram." in [
        e["text"] for e in shown["entries"]
    ]
    assert invoke("verify", env=ALEX).exit_code == 0
    assert invoke("verify", "--no-passphrase").exit_code == 0
