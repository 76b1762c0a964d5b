"""What the people around a concern see of it: its author their own concern in full, the
safeguarding team what became of one decided, the audit its reads and triages, and the
messages of triage and concern."""

from __future__ import annotations

import json

from tests.conftest import VaultInfo, invoke
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
