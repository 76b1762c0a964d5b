"""What the people around a concern see of it: its author their own concern in full, the
safeguarding team what became of one decided, the audit its reads and triages, and the
messages of triage and concern."""

from __future__ import annotations

import json

from safeguarding.vault import Role, Vault
from tests.conftest import PASSPHRASE, VaultInfo, invoke
from tests.test_concerns import CANARY, TESS, TESS_PASSPHRASE, TOM, TOM_PASSPHRASE, report
from tests.test_concerns import school as school

STAFF = {"SAFEGUARD_PASSPHRASE": TESS_PASSPHRASE}


def record_case(say) -> None:  # type: ignore[no-untyped-def]
    recorded = invoke(
        "record", "--category", "child-protection", "--subject", "Amy Price",
        "--subject-role", "pupil", "--disclosed-by", "Amy", "--relationship", "pupil",
        "--where", "class", "--text-file", say("CASE-CONTENT Amy told me."),
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.stderr


def test_the_author_reads_their_own_concern_in_full_and_nothing_of_a_case(
    school: VaultInfo,
    say,  # type: ignore[no-untyped-def]
) -> None:
    record_case(say)
    number = report(school.path, TESS, TESS_PASSPHRASE)
    other = report(school.path, TOM, TOM_PASSPHRASE, "Tom's own words.")
    assert invoke("triage", str(number), "--case", "SG-2026-0001").exit_code == 0
    shown = invoke("--user", TESS, "concerns", str(number), env=STAFF)
    assert shown.exit_code == 0, shown.stderr
    assert f"Your concern {number}" in shown.stdout
    for said in (CANARY, "She was upset.", "classroom", "Amy Price (pupil)", "added to a case"):
        assert said in shown.stdout, said
    assert "CASE-CONTENT" not in shown.stdout and "SG-2026" not in shown.stdout
    document = json.loads(invoke("--user", TESS, "concerns", "1", "--json", env=STAFF).stdout)
    (only,) = document["concerns"]
    assert only["text"] == f"Amy said: {CANARY} hits me." and "decided" not in only
    for missing in (str(other), "99"):
        refused = invoke("--user", TESS, "concerns", missing, env=STAFF)
        assert refused.exit_code == 4
        assert f"you reported no concern {missing}" in refused.stderr
        assert "Tom's own words" not in refused.stdout + refused.stderr


def test_inbox_on_a_decided_concern_shows_what_was_decided(school: VaultInfo, say) -> None:  # type: ignore[no-untyped-def]
    record_case(say)
    added = report(school.path, TESS, TESS_PASSPHRASE)
    closed = report(school.path, TESS, TESS_PASSPHRASE)
    waiting = invoke("inbox", str(closed))
    assert "Waiting" in waiting.stdout and "Decided" not in waiting.stdout
    assert invoke("triage", str(added), "--case", "SG-2026-0001").exit_code == 0
    reason = say("Known to us; the family is supported already.")
    assert invoke("triage", str(closed), "--no-action", "--text-file", reason).exit_code == 0

    to_case = invoke("inbox", str(added))
    assert to_case.exit_code == 0, to_case.stderr
    assert "Waiting" not in to_case.stdout
    assert "added to SG-2026-0001 as its entry 2" in to_case.stdout
    assert "by alice" in to_case.stdout

    no_action = invoke("inbox", str(closed))
    assert "Waiting" not in no_action.stdout
    assert "no further action" in no_action.stdout and "by alice" in no_action.stdout
    assert "the family is supported already" in no_action.stdout

    (document,) = json.loads(invoke("inbox", str(closed), "--json").stdout)["concerns"]
    decided = document["decided"]
    assert decided["by"] == "alice" and decided["case"] is None
    assert decided["reason"] == "Known to us; the family is supported already."
    (document,) = json.loads(invoke("inbox", str(added), "--json").stdout)["concerns"]
    assert (document["decided"]["case"], document["decided"]["number"]) == ("SG-2026-0001", 2)


def test_audit_lists_concern_reads_and_triages_sealed_to_the_reader(
    vault: VaultInfo,
    say,  # type: ignore[no-untyped-def]
) -> None:
    from tests import test_concerns_about as about

    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)  # as test_concerns_about's school
    alice.add_user(about.TESS, Role.STAFF, about.TESS_PASSPHRASE)
    alice.add_user(about.HANA, Role.HEAD, about.HANA_PASSPHRASE)
    alice.close()
    record_case(say)
    ordinary = about.report(vault.path, "Pat Porter")
    about_alice = about.report(vault.path, "alice")
    assert invoke("inbox", str(ordinary)).exit_code == 0
    assert invoke("triage", str(ordinary), "--case", "SG-2026-0001").exit_code == 0
    hana = about.HANA_ENV
    assert invoke("inbox", str(about_alice), env=hana).exit_code == 0
    closed = invoke(
        "triage", str(about_alice), "--no-action", "--text-file", say("Spoken to."), env=hana
    )
    assert closed.exit_code == 0, closed.stderr

    def concern_events(*args: str, env: dict[str, str] | None = None) -> list[tuple]:  # type: ignore[type-arg]
        shown = invoke("audit", *args, "--json", env=env)
        assert shown.exit_code == 0, shown.stderr
        return [
            (e["who"], e["action"], e["concern"], e["outcome"], e["case"], e["number"])
            for e in json.loads(shown.stdout)
            if "concern" in e
        ]

    alice_sees = [
        ("alice", "concern_read", ordinary, None, None, None),
        ("alice", "concern_triaged", ordinary, "case", "SG-2026-0001", 2),
    ]
    # alice never learns of the concern about her, nor that Hana read and closed it.
    assert concern_events() == alice_sees
    assert concern_events(env=hana) == [
        *alice_sees[:2],
        (about.HANA, "concern_read", about_alice, None, None, None),
        (about.HANA, "concern_triaged", about_alice, "no_action", None, None),
    ]
    assert concern_events("--mine") == alice_sees
    assert concern_events("--case", "SG-2026-0001") == alice_sees[1:]

    plain = invoke("audit")
    assert f"read concern {ordinary}" in plain.stdout
    assert f"triaged concern {ordinary}: added to the case" in plain.stdout
    assert f"concern {about_alice}" not in plain.stdout
    mine = invoke("audit", "--mine", env=hana).stdout
    assert f"triaged concern {about_alice}: no further action" in mine


def test_triage_ends_with_the_case_next_step_and_the_reminder(school: VaultInfo, say) -> None:  # type: ignore[no-untyped-def]
    record_case(say)
    first = report(school.path, TESS, TESS_PASSPHRASE)
    second = report(school.path, TESS, TESS_PASSPHRASE)
    third = report(school.path, TESS, TESS_PASSPHRASE)
    added = invoke("triage", str(first), "--case", "SG-2026-0001")
    assert added.exit_code == 0, added.stderr
    assert f"Added concern {first} to SG-2026-0001 as its entry 2." in added.stderr
    assert "SG-2026-0001 · what the policy asks next" in added.stderr
    assert added.stderr.strip().splitlines()[-1].startswith("2 concerns waiting")
    closed = invoke("triage", str(second), "--no-action", "--text-file", say("Known."))
    assert closed.exit_code == 0, closed.stderr
    assert closed.stderr.strip().splitlines()[-1].startswith("1 concern waiting")
    last = invoke("triage", str(third), "--no-action", "--text-file", say("Known."))
    assert "waiting" not in last.stderr

    again = invoke("triage", str(first), "--no-action", "--text-file", say("No."))
    assert again.exit_code == 3
    assert "triaged already (added to SG-2026-0001 as its entry 2)" in again.stderr
    again = invoke("triage", str(second), "--case", "SG-2026-0001")
    assert again.exit_code == 3 and "triaged already (no further action)" in again.stderr


def test_the_concern_commands_say_plainly_what_is_wrong(school: VaultInfo, say) -> None:  # type: ignore[no-untyped-def]
    number = report(school.path, TESS, TESS_PASSPHRASE)
    before = school.path.read_bytes()
    both = invoke("triage", str(number), "--new", "--no-action")
    assert both.exit_code == 2 and "give only one of --case, --new, --no-action" in both.stderr
    for args in (("inbox", "abc"), ("triage", "abc", "--no-action"), ("inbox", "3.5")):
        refused = invoke(*args)
        assert refused.exit_code == 2, args
        assert "a concern is a number, e.g. 3" in refused.stderr, refused.stderr
    mine = invoke("--user", TESS, "concerns", "three", env=STAFF)
    assert mine.exit_code == 2 and "a concern is a number, e.g. 3" in mine.stderr

    concern = ("--user", TESS, "concern", "--about", "Amy Price")
    text = ("--text-file", say("Amy said it again."))
    roleless = invoke(*concern, "--where", "hall", *text, env=STAFF)
    assert roleless.exit_code == 2
    assert "give --about-role for each person (--about-role pupil|" in roleless.stderr
    assert "people but" not in roleless.stderr
    with_role = (*concern, "--about-role", "pupil")
    empty = invoke(*with_role, "--where", "", *text, env=STAFF)
    assert empty.exit_code == 2 and "--where cannot be empty" in empty.stderr
    future = invoke(*with_role, "--where", "hall", "--at", "2099-01-01 10:00", *text, env=STAFF)
    assert future.exit_code == 2 and "in the future" in future.stderr
    assert "action add" not in future.stderr and "when you saw or heard it" in future.stderr
    assert school.path.read_bytes() == before
