"""A transfer sent by mistake, withdrawn: no longer chased, shown as withdrawn wherever the
transfer shows, and held to the chronology by `verify`.  The receiving school's vault is a
second vault, as in tests/test_transfer.py."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from safeguarding import chronology, storage, transfers
from safeguarding.vault import Vault
from tests.conftest import (
    DEFAULT_NOW,
    PASSPHRASE,
    SetClock,
    VaultInfo,
    invoke,
    on_both_engines,
    run,
)
from tests.flowkit import Say
from tests.test_transfer import CANARY, a_child_with_a_case, entries, school_b, sent

__all__ = ["school_b"]  # the receiving school's vault, a fixture

REASON = "Sent to Northfield by mistake: Amy's new school is Southfield.\nPhoned them at once."


@on_both_engines
def test_a_transfer_sent_by_mistake_is_withdrawn_and_no_longer_chased(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path, set_clock: SetClock
) -> None:
    case = a_child_with_a_case(say)
    done = sent(tmp_path, invoke("school-key", env=school_b).stdout.strip())
    set_clock(DEFAULT_NOW + timedelta(days=8))
    assert "receipt of the file" in invoke("cases", "--overdue").stdout

    withdrawn = run("transfer", "withdraw", "1", "--text-file", "-", input=REASON)
    assert withdrawn.returncode == 0, withdrawn.stderr
    told = " ".join(withdrawn.stderr.split())
    assert "transfer 1 to Northfield Academy is withdrawn" in told
    assert "cannot be recalled: ask Northfield Academy to delete it" in told
    assert f"sealed to the key with the fingerprint {done['key']}" in told
    assert "only the vault of the school that key belongs to can read it" in told

    # No longer overdue: not in the casebook, not in the next-step panel.
    assert "receipt of the file" not in invoke("cases", "--overdue").stdout
    late = json.loads(invoke("cases", "--overdue", "--json").stdout)
    assert not [o for c in late for o in c.get("overdue", []) if "transfer" in o["what"]]
    assert not [c for c in late if "transfer" in c]
    noted = invoke("note", case, "--text-file", say("Spoke to Southfield."))
    assert noted.exit_code == 0, noted.stderr
    assert "receipt of the file" not in noted.stderr

    (listed,) = json.loads(invoke("transfer", "list", "--json").stdout)["transfers"]
    assert listed["state"] == "withdrawn" and not listed["overdue"]
    assert listed["withdrawal_reason"] == REASON  # byte for byte
    assert listed["withdrawn_by"] == "alice" and listed["withdrawn_at"]
    table = " ".join(invoke("transfer", "list").stdout.split())
    assert "withdrawn" in table and "Southfield." in table and "OVERDUE" not in table

    audit = json.loads(invoke("audit", "--json").stdout)
    (event,) = [e for e in audit if e.get("kind") == "transfer_withdrawn"]
    assert event["who"] == "alice" and event["case"] == "transfer 1"
    assert "recorded: transfer withdrawn" in invoke("audit").stdout

    # The case's own timeline says so beside the transfer's export entry; so does the file.
    shown = " ".join(invoke("timeline", case).stdout.split())
    assert "Withdrawn: transfer 1" in shown and "by mistake" in shown
    assert "Withdrawn: transfer 1" in " ".join(invoke("file", CANARY).stdout.split())
    exported = tmp_path / "case.txt"
    assert invoke("export", case, "--format", "txt", "--output", str(exported)).exit_code == 0
    assert "Withdrawn: transfer 1" in " ".join(exported.read_text(encoding="utf-8").split())
    hidden = tmp_path / "redacted.txt"
    redacted = invoke("export", case, "--format", "txt", "--redact", "--output", str(hidden))
    assert redacted.exit_code == 0, redacted.stderr
    shown_redacted = " ".join(hidden.read_text(encoding="utf-8").split())
    assert "Withdrawn: transfer 1" in shown_redacted and "mistake" not in shown_redacted

    assert invoke("verify").exit_code == 0


def test_a_withdrawal_is_refused_for_what_cannot_be_withdrawn(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    sent(tmp_path, invoke("school-key", env=school_b).stdout.strip())
    before = entries(vault.path)
    for args, code in (
        (["transfer", "withdraw", "7", "--text-file", say("why")], 4),
        (["transfer", "withdraw", "one", "--text-file", say("why")], 2),
        (["transfer", "withdraw", "1", "--text-file", say("   ")], 2),
        (["transfer", "withdraw", "1"], 2),  # no terminal to ask why
    ):
        refused = run(*args)
        assert refused.returncode == code, (args, refused.stderr)
        assert len(refused.stderr.strip().splitlines()) <= 2, refused.stderr  # line and hint
        assert refused.stdout == ""
    assert entries(vault.path) == before

    assert invoke("transfer", "withdraw", "1", "--text-file", say(REASON)).exit_code == 0
    after = entries(vault.path)
    again = run("transfer", "withdraw", "1", "--text-file", say(REASON))
    assert again.returncode == 3 and "withdrawn already" in again.stderr
    imported = json.loads(
        invoke("import", str(tmp_path / "file.sgt"), "--json", env=school_b).stdout
    )
    late = run("transfer", "receipt", "1", imported["receipt_code"])
    assert late.returncode == 3 and "its receipt cannot be recorded" in late.stderr
    assert entries(vault.path) == after


def test_a_received_transfer_cannot_be_withdrawn(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    sent(tmp_path, invoke("school-key", env=school_b).stdout.strip())
    imported = json.loads(
        invoke("import", str(tmp_path / "file.sgt"), "--json", env=school_b).stdout
    )
    assert invoke("transfer", "receipt", "1", imported["receipt_code"]).exit_code == 0
    before = entries(vault.path)
    refused = run("transfer", "withdraw", "1", "--text-file", say(REASON))
    assert refused.returncode == 3 and "was received" in refused.stderr
    assert entries(vault.path) == before
    # A later one sent by mistake and withdrawn: the cover still says where the file went.
    out = tmp_path / "again.pdf"
    assert (
        invoke("transfer", CANARY, "--to", "St Elsewhere", "--pdf-only", "-o", str(out)).exit_code
        == 0
    )
    assert invoke("transfer", "withdraw", "2", "--text-file", say(REASON)).exit_code == 0
    cover = json.loads(invoke("file", CANARY, "--json").stdout)
    assert (cover["last_transfer"]["transfer"], cover["last_transfer"]["state"]) == (1, "received")


def test_a_pdf_sent_by_mistake_is_said_to_be_readable_by_whoever_holds_it(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    out = tmp_path / "file.pdf"
    made = invoke("transfer", CANARY, "--to", "St Elsewhere", "--pdf-only", "--output", str(out))
    assert made.exit_code == 0, made.stderr
    done = run("transfer", "withdraw", "1", "--text-file", say(REASON), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["schema"] == "safeguard.transfer.withdraw"
    assert document["state"] == "withdrawn" and document["withdrawal_reason"] == REASON
    told = " ".join(run("transfer", "list").stdout.split())
    assert "withdrawn" in told


def _forge(info: VaultInfo, kind: str, number: int) -> None:
    """A vault event about transfer `number`, signed by alice as the library would sign it."""
    unlocked = Vault.open(info.path).unlock("alice", PASSPHRASE)
    try:
        with storage.writing(unlocked.vault.connection) as db:
            chronology.append(
                db,
                signer=unlocked.signer,
                payload_key=unlocked.keys.fields,
                kind=kind,
                payload={"transfer": number, "reason": "forged"},
                facts={"transfer": number},
            )
    finally:
        unlocked.close()


@pytest.mark.parametrize("received_first", [False, True], ids=["never-sent", "received"])
def test_verify_catches_a_withdrawal_that_cannot_be(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path, received_first: bool
) -> None:
    a_child_with_a_case(say)
    sent(tmp_path, invoke("school-key", env=school_b).stdout.strip())
    if received_first:
        imported = json.loads(
            invoke("import", str(tmp_path / "file.sgt"), "--json", env=school_b).stdout
        )
        assert invoke("transfer", "receipt", "1", imported["receipt_code"]).exit_code == 0
    assert invoke("verify").exit_code == 0
    _forge(vault, transfers.TRANSFER_WITHDRAWN, 1 if received_first else 5)
    checked = run("verify")
    assert checked.returncode == 1
    assert ("received before" if received_first else "never sent") in checked.stderr


def test_verify_catches_a_second_withdrawal(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    sent(tmp_path, invoke("school-key", env=school_b).stdout.strip())
    assert invoke("transfer", "withdraw", "1", "--text-file", say(REASON)).exit_code == 0
    _forge(vault, transfers.TRANSFER_WITHDRAWN, 1)
    checked = run("verify")
    assert checked.returncode == 1 and "withdrawn before" in checked.stderr


def test_verify_catches_a_receipt_of_a_transfer_withdrawn_or_never_sent(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    sent(tmp_path, invoke("school-key", env=school_b).stdout.strip())
    _forge(vault, transfers.TRANSFER_CONFIRMED, 4)
    checked = run("verify")
    assert checked.returncode == 1 and "receipt of transfer 4, never sent" in checked.stderr


def test_verify_catches_a_receipt_after_a_withdrawal(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    sent(tmp_path, invoke("school-key", env=school_b).stdout.strip())
    assert invoke("transfer", "withdraw", "1", "--text-file", say(REASON)).exit_code == 0
    _forge(vault, transfers.TRANSFER_CONFIRMED, 1)
    checked = run("verify")
    assert checked.returncode == 1 and "withdrawn before" in checked.stderr


def test_a_withdrawal_travels_with_the_file_sent_after_it(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path
) -> None:
    """A transfer withdrawn, then the file sent to the right school: the case's JSON says the
    first was withdrawn, and so does the file the new school reads, rather than showing the
    file sent twice."""
    case = a_child_with_a_case(say)
    key = invoke("school-key", env=school_b).stdout.strip()
    wrong = tmp_path / "wrong.pdf"
    assert (
        invoke("transfer", CANARY, "--to", "St Elsewhere", "--pdf-only", "-o", str(wrong)).exit_code
        == 0
    )
    assert invoke("transfer", "withdraw", "1", "--text-file", say(REASON)).exit_code == 0
    document = json.loads(invoke("timeline", case, "--json").stdout)
    (noted,) = [e for e in document["entries"] if "since" in e]
    ((label, value),) = [(n["label"], n["value"]) for n in noted["since"]]
    assert label == "Withdrawn" and value.startswith("transfer 1 (to St Elsewhere), ")
    assert "Southfield" in value
    sent(tmp_path, key)  # transfer 2, to the right school
    got = json.loads(invoke("import", str(tmp_path / "file.sgt"), "--json", env=school_b).stdout)
    shown = " ".join(invoke("file", str(got["person"]), env=school_b).stdout.split())
    assert "Withdrawn: transfer 1 (to St Elsewhere), " in shown and "Southfield" in shown
