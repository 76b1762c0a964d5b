"""A concern about a member of the safeguarding team goes to the others, never to them: not
sealed to them, not counted or listed for them, not triaged by them; one about the headteacher
goes to the chair of governors as well."""

from __future__ import annotations

import gc
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeguarding import clock, concerns, storage
from safeguarding.concern_holders import named_users
from safeguarding.concerns import About, Content
from safeguarding.errors import NotFound
from safeguarding.server import Server
from safeguarding.vault import Role, Vault
from tests.conftest import PASSPHRASE, SetClock, VaultInfo, invoke, on_both_engines, stored_bytes

TESS, TESS_PASSPHRASE = "Tess Teacher", "tess passphrase 2026"
HANA, HANA_PASSPHRASE = "Hana Head", "head passphrase 2026"
CATH, CATH_PASSPHRASE = "Cath Chair", "chair passphrase 2026"
ALICE_ID, TESS_ID, HANA_ID, CATH_ID, RECOVERY = 1, 2, 3, 4, 0
TESS_ENV = {"SAFEGUARD_USER": TESS, "SAFEGUARD_PASSPHRASE": TESS_PASSPHRASE}
HANA_ENV = {"SAFEGUARD_USER": HANA, "SAFEGUARD_PASSPHRASE": HANA_PASSPHRASE}
CATH_ENV = {"SAFEGUARD_USER": CATH, "SAFEGUARD_PASSPHRASE": CATH_PASSPHRASE}


@pytest.fixture
def school(vault: VaultInfo) -> VaultInfo:
    """alice (DSL, 1), Tess (staff, 2), Hana (headteacher, 3), Cath (chair of governors, 4)."""
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user(TESS, Role.STAFF, TESS_PASSPHRASE)
    alice.add_user(HANA, Role.HEAD, HANA_PASSPHRASE)
    alice.add_user(CATH, Role.CHAIR, CATH_PASSPHRASE)
    alice.close()
    return vault


def report(path: Path, about: str) -> int:
    who = concerns.reporter(Vault.open(path), TESS, TESS_PASSPHRASE)
    content = Content.checked(
        [About(about, "staff")], clock.now(), "staff room", "They shouted at a child."
    )
    try:
        return concerns.report(who, content).number
    finally:
        who.close()


def holders(path: Path, number: int) -> set[int]:
    if isinstance(path, Server):
        connection = storage.open_connection(path)
    else:
        connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT holder FROM concern_keys WHERE concern_id = ?", (number,)
        ).fetchall()
        return {int(holder) for (holder,) in rows}
    finally:
        connection.close()


def listed(env: dict[str, str] | None = None) -> list[int]:
    shown = invoke("inbox", "--json", env=env)
    assert shown.exit_code == 0, shown.stderr
    return [c["concern"] for c in json.loads(shown.stdout)["concerns"]]


def snapshot(info: VaultInfo, request: pytest.FixtureRequest) -> bytes:
    """The vault's files (or on a server its schema's dump), to compare before and after."""
    # A connection left open closes when collected, and the last to close checkpoints the
    # log into the file: never between two snapshots.
    gc.collect()
    return stored_bytes(info, request)


@on_both_engines
def test_a_concern_about_the_dsl_is_never_sealed_to_them(
    school: VaultInfo,
    say,  # type: ignore[no-untyped-def]
    request: pytest.FixtureRequest,
) -> None:
    ordinary = report(school.path, "Pat Porter")
    about_alice = report(school.path, "alice")
    assert holders(school.path, ordinary) == {ALICE_ID, TESS_ID, HANA_ID, RECOVERY}
    assert holders(school.path, about_alice) == {TESS_ID, HANA_ID, RECOVERY}  # no chair either
    alice = Vault.open(school.path).unlock("alice", PASSPHRASE)
    assert [item.number for item in concerns.inbox(alice)] == [ordinary]
    with pytest.raises(NotFound):
        concerns.read(alice, about_alice)
    alice.close()
    # By the command line: alice neither sees it, nor counts it, nor can triage it.
    assert listed() == [ordinary]
    cases = invoke("cases")
    assert cases.stderr.strip().splitlines()[-1].startswith("1 concern waiting")
    before = snapshot(school, request)
    refused = invoke("triage", str(about_alice), "--no-action", "--text-file", say("No."))
    unknown = invoke("triage", "99", "--no-action", "--text-file", say("No."))
    assert refused.exit_code == unknown.exit_code == 4
    assert refused.stderr.replace(str(about_alice), "N") == unknown.stderr.replace("99", "N")
    assert "alice" not in refused.stderr and TESS not in refused.stderr
    assert invoke("triage", str(about_alice), "--case", "SG-2026-0001").exit_code == 4
    assert invoke("inbox", str(about_alice)).exit_code == 4
    assert snapshot(school, request) == before  # nothing written on the way to refusing
    # The headteacher reads it, and the chair of governors does not receive it.
    assert listed(HANA_ENV) == [ordinary, about_alice]
    assert listed(CATH_ENV) == []
    shown = invoke("inbox", str(about_alice), env=HANA_ENV)
    assert shown.exit_code == 0 and "They shouted at a child." in shown.stdout
    assert invoke("verify").exit_code == 0


@on_both_engines
def test_a_concern_about_the_headteacher_goes_to_the_chair(school: VaultInfo, say) -> None:  # type: ignore[no-untyped-def]
    number = report(school.path, HANA)
    assert holders(school.path, number) == {ALICE_ID, TESS_ID, CATH_ID, RECOVERY}
    hana = Vault.open(school.path).unlock(HANA, HANA_PASSPHRASE)
    assert concerns.inbox(hana) == []
    hana.close()
    assert listed(HANA_ENV) == []
    head_cases = invoke("cases", env=HANA_ENV)
    assert "waiting" not in head_cases.stderr
    refused = invoke("triage", str(number), "--no-action", "--text-file", say("No."), env=HANA_ENV)
    assert refused.exit_code == 4 and HANA not in refused.stderr
    # The chair reads it, is reminded of it, and may decide it.
    assert listed(CATH_ENV) == [number]
    chair_inbox = invoke("inbox", str(number), env=CATH_ENV)
    assert chair_inbox.exit_code == 0 and "They shouted at a child." in chair_inbox.stdout
    assert listed() == [number]  # the DSL too
    decided = invoke(
        "triage", str(number), "--no-action", "--text-file", say("Passed to the LADO."),
        env=CATH_ENV,
    )  # fmt: skip
    assert decided.exit_code == 0, decided.stderr
    assert invoke("verify").exit_code == 0


def test_the_chair_is_reminded_of_a_concern_about_the_headteacher(
    school: VaultInfo, set_clock: SetClock
) -> None:
    set_clock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))  # a Monday
    report(school.path, "Pat Porter")
    report(school.path, HANA)
    set_clock(datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    chair = invoke("inbox", "--json", env=CATH_ENV)
    assert [c["concern"] for c in json.loads(chair.stdout)["concerns"]] == [2]
    head = invoke("inbox", "--json", env=HANA_ENV)
    assert [c["concern"] for c in json.loads(head.stdout)["concerns"]] == [1]
    dsl = invoke("cases")
    assert dsl.stderr.strip().splitlines()[-1].startswith("2 concerns waiting")
    # Monitoring, with no passphrase and naming no one, still counts every concern.
    late = invoke("inbox", "--older-than", "2h", env={"SAFEGUARD_PASSPHRASE": ""})
    assert late.exit_code == 1 and "2 concerns waiting" in late.stderr


@on_both_engines
@pytest.mark.parametrize("given", ["ALICE", "  alice ", "hana   head", "HANA\u00a0Head"])
def test_a_name_in_another_case_or_spacing_still_matches(school: VaultInfo, given: str) -> None:
    vault = Vault.open(school.path)
    with storage.reading(vault.connection) as db:
        found = named_users(db, [given, "Pat Porter"])
    vault.close()
    assert found == ({ALICE_ID} if "alice" in given.lower() else {HANA_ID})
    number = report(school.path, given)
    assert not holders(school.path, number) & found


def test_a_concern_about_the_only_reader_is_kept_for_the_chair_to_be_told(
    vault: VaultInfo,
) -> None:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user(TESS, Role.STAFF, TESS_PASSPHRASE)
    alice.close()
    text = vault.path.parent / "said.txt"
    text.write_text("alice shouted at a child.")
    args = ("concern", "--about", "Alice", "--about-role", "staff", "--where", "hall")
    done = invoke(*args, "--text-file", str(text), "--json", env=TESS_ENV)
    assert done.exit_code == 0, done.stderr
    receipt = json.loads(done.stdout)
    assert (receipt["readers"], receipt["kept_from"], receipt["tell_the_chair"]) == (0, 1, True)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "only you and the recovery key can open it" in lines[0]
    assert "Tell the chair of governors" in lines[0]
    assert holders(vault.path, receipt["concern"]) == {TESS_ID, RECOVERY}
    mine = invoke("concerns", "--json", env=TESS_ENV)
    assert [c["concern"] for c in json.loads(mine.stdout)["concerns"]] == [receipt["concern"]]
    assert listed() == []
    plain = invoke(*args, "--text-file", str(text), env=TESS_ENV)
    assert plain.exit_code == 0 and plain.stdout.strip() == "2"
    assert "Tell the chair of governors" in plain.stderr
    assert "is with the safeguarding team" not in plain.stderr


def test_verify_names_a_forged_list_of_chairs(
    school: VaultInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safeguarding import roster

    assert invoke("verify").exit_code == 0
    real = roster.team_facts

    def no_chair(db, keys):  # type: ignore[no-untyped-def]
        return {**real(db, keys), "chairs": []}

    monkeypatch.setattr("safeguarding.unlocked.team_facts", no_chair)
    alice = Vault.open(school.path).unlock("alice", PASSPHRASE)
    alice.add_user("Sue Staff", Role.STAFF, "staff passphrase 2026")
    alice.close()
    result = invoke("verify")
    assert result.exit_code == 1
    assert "chairs of governors" in result.stderr and f"[{CATH_ID}]" in result.stderr
