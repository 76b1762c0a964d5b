"""`--json` on `user passwd`, `user disable` and `db upgrade`: one document on stdout, saying
whether the vault has its new keys and, if not, who must unlock it first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safeguarding.storage import HEAD_REVISION
from tests.conftest import DEPUTY_PASSPHRASE, VaultInfo, invoke, write_secret
from tests.test_release_fixtures import ALEX, old  # noqa: F401 (the fixture)

BOB = {"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE}


def document(*args: str, env: dict[str, str] | None = None) -> Any:
    result = invoke(*args, "--json", env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # the document is the whole answer: no message beside it
    return json.loads(result.stdout)


def test_user_passwd_json_own_another_and_by_recovery(vault: VaultInfo, tmp_path: Path) -> None:
    assert invoke("user", "add", "bob", "--role", "deputy", env=BOB).exit_code == 0
    own = document("user", "passwd", env={"SAFEGUARD_NEW_PASSPHRASE": "alice's second one"})
    assert own == {
        "schema": "safeguard.user.passwd",
        "schema_version": 1,
        "user": "alice",
        "role": "dsl",
        "rekeyed": True,
        "waiting_for": [],
        "left_restricted_cases": 0,
        "cases_with_no_member": 0,
    }
    other = document(
        "user",
        "passwd",
        "bob",
        env={
            "SAFEGUARD_PASSPHRASE": "alice's second one",
            "SAFEGUARD_NEW_PASSPHRASE": "bob was reset by alice",
        },
    )
    assert other == {
        "schema": "safeguard.user.passwd",
        "schema_version": 1,
        "user": "bob",
        "role": "deputy",
        "rekeyed": True,
        "waiting_for": [],
        "left_restricted_cases": 0,
        "cases_with_no_member": 0,
    }
    key_file = write_secret(tmp_path / "recovery", vault.recovery_key)
    recovered = document(
        "user",
        "passwd",
        "alice",
        "--recovery",
        env={
            "SAFEGUARD_RECOVERY_KEY_FILE": str(key_file),
            "SAFEGUARD_NEW_PASSPHRASE": "alice recovered this one",
        },
    )
    assert recovered["user"] == "alice" and recovered["rekeyed"] is True
    assert invoke("verify", env={"SAFEGUARD_PASSPHRASE": "alice recovered this one"}).exit_code == 0


def test_user_disable_json(vault: VaultInfo) -> None:
    assert invoke("user", "add", "bob", "--role", "deputy", env=BOB).exit_code == 0
    disabled = document("user", "disable", "bob")
    assert disabled["user"] == "bob" and disabled["role"] == "deputy"
    assert disabled["disabled_at"].startswith("2026-11-25")  # the tests' clock
    assert (disabled["rekeyed"], disabled["waiting_for"]) == (True, [])
    (bob,) = [u for u in document("user", "list") if u["user"] == "bob"]
    assert bob["active"] is False and bob["disabled_at"] == disabled["disabled_at"]
    again = invoke("user", "disable", "bob", "--json")
    assert again.exit_code == 2 and again.stdout == ""  # nothing to say it was done
    assert "already disabled" in again.stderr


def test_db_upgrade_json_and_a_disable_before_everyone_has_unlocked(old: Path) -> None:  # noqa: F811
    upgraded = document("db", "upgrade", env=ALEX)
    backup = upgraded.pop("backup")
    assert upgraded == {
        "schema": "safeguard.db.upgrade",
        "schema_version": 1,
        "vault": str(old / "vault.db"),
        "upgraded": True,
        "before": "0002",
        "after": HEAD_REVISION,
        "rekey_pending": True,
    }
    assert Path(backup).parent == old / "backups" and Path(backup).is_file()
    assert document("db", "upgrade", env=ALEX) == {
        "schema": "safeguard.db.upgrade",
        "schema_version": 1,
        "vault": str(old / "vault.db"),
        "upgraded": False,
        "before": HEAD_REVISION,
        "after": HEAD_REVISION,
        "backup": None,
        "rekey_pending": False,
    }
    # Alex has unlocked (this command); Sam is disabled; the recovery key has not been used yet,
    # so the vault cannot get its new keys.
    disabled = document("user", "disable", "Sam Patel", env=ALEX)
    assert disabled["user"] == "Sam Patel"
    assert (disabled["rekeyed"], disabled["waiting_for"]) == (False, ["the recovery key"])
