"""The section 6 flow through the command line: record, refer, advise, act, converse, amend,
close and reopen, with the rules a DSL would notice and the JSON contract scripts rely on."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeguarding import clock
from tests.conftest import PASSPHRASE, SetClock, VaultInfo, invoke, today
from tests.flowkit import Say, entry, entry_count, record


def local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def read_case(vault: VaultInfo, reference: str):  # type: ignore[no-untyped-def]
    from safeguarding import categories, config
    from safeguarding.cases import Casebook
    from safeguarding.vault import Vault

    unlocked = Vault.open(vault.path).unlock(vault.user, PASSPHRASE)
    try:
        return Casebook(unlocked, categories.load(), config.load()).read(reference)
    finally:
        unlocked.close()


def test_record_prints_a_sequential_reference_per_year(vault: VaultInfo, say: Say) -> None:
    year = today().year
    result = invoke(
        "record",
        "--category",
        "staff-misuse",
        "--subject",
        "Daniel Price",
        "--subject-role",
        "staff",
        "--disclosed-by",
        "Karen Webb",
        "--relationship",
        "parent",
        "--where",
        "the office",
        "--text-file",
        say("He posted about the school."),
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"SG-{year}-0001"
    assert "Refer to the LADO" in result.stderr
    disclosure = read_case(vault, f"SG-{year}-0001").disclosure
    assert disclosure.number == 1
    assert f"Recorded the disclosure as SG-{year}-0001 (entry 1)." in result.stderr
    second = record(say)
    assert second["case"] == f"SG-{year}-0002"
    assert second["entry"] > 0 and second["status"] == "open" and second["stage"] == "disclosed"


def test_the_whole_flow_verifies_and_reads_back_in_event_order(
    any_vault: VaultInfo, say: Say
) -> None:
    case = record(say)["case"]
    referral = entry(
        say,
        "refer",
        case,
        "--to",
        "lado",
        "--contact",
        "J. Okafor",
        "--reference",
        "LADO-0412",
        text="Told the LADO.",
    )
    assert referral["case"] == case and referral["stage"] == "referred"
    assert entry(say, "advice", case, "--from", "J. Okafor", text="Meet him.")["stage"] == "advised"
    added = entry(
        say,
        "action",
        "add",
        case,
        "--owner",
        "Headteacher",
        "--due",
        (today() + timedelta(days=7)).isoformat(),
        text="Meet Mr Price.",
    )
    assert added["action"] == 1 and added["next"] == "Complete the open actions"
    call = entry(
        say, "conversation", case, "--with", "Karen Webb", "--channel", "phone", text="Called."
    )
    entry(say, "note", case, text="A note.")
    amendment = entry(say, "amend", case, str(call["number"]), text="It was her father.")
    assert amendment["amends"] == call["entry"] and amendment["amends_number"] == call["number"]
    assert (call["number"], amendment["number"]) == (5, 7)
    done = entry(say, "action", "done", case, "1", text="Met him.")
    assert done["action"] == 1
    closed = entry(say, "close", case, "--outcome", "substantiated", text="LADO agreed.")
    assert closed["status"] == "closed"

    verified = invoke("verify")
    assert verified.exit_code == 0, verified.stderr

    file = read_case(any_vault, case)
    kinds = [e.kind for e in file.entries]
    assert kinds == [
        "disclosure",
        "referral",
        "advice",
        "action",
        "conversation",
        "note",
        "amendment",
        "action_done",
        "closure",
    ]
    original = file.entry(call["entry"])
    assert original.text == "Called." and original.amended_by == (amendment["entry"],)
    assert file.entry(amendment["entry"]).amends == call["entry"]
    assert file.disclosure.data["received_by"] == "alice"
    assert all(e.author == "alice" and not e.late for e in file.entries)


def test_a_backdated_entry_sorts_into_place_and_is_marked_late(vault: VaultInfo, say: Say) -> None:
    disclosed = clock.now() - timedelta(days=5)
    case = record(say, "--at", local(disclosed))["case"]
    entry(say, "note", case, text="Written today.")
    late = entry(
        say,
        "conversation",
        case,
        "--with",
        "Karen Webb",
        "--channel",
        "meeting",
        "--at",
        local(disclosed + timedelta(days=1)),
        text="Met three days ago.",
    )
    file = read_case(vault, case)
    assert [e.kind for e in file.entries] == ["disclosure", "conversation", "note"]
    assert file.entry(late["entry"]).late
    assert file.disclosure.late  # recorded five days after the disclosure
    assert not next(e for e in file.entries if e.kind == "note").late


def test_an_entry_dated_before_the_disclosure_is_refused(any_vault: VaultInfo, say: Say) -> None:
    disclosed = clock.now() - timedelta(days=2)
    case = record(say, "--at", local(disclosed))["case"]
    before = entry_count(any_vault.path)
    result = invoke(
        "note", case, "--at", local(disclosed - timedelta(days=1)), "--text-file", say("x")
    )
    assert result.exit_code == 3 and "before the disclosure" in result.stderr
    assert entry_count(any_vault.path) == before


def test_closing_needs_a_referral_or_a_decision_and_no_open_actions(
    any_vault: VaultInfo, say: Say
) -> None:
    case = record(say, category="cyberbullying-in-school", role="pupil")["case"]
    before = entry_count(any_vault.path)
    result = invoke("close", case, "--outcome", "resolved", "--text-file", say("Done."))
    assert result.exit_code == 3
    assert "no referral and no recorded decision not to refer" in result.stderr
    assert f"safeguard refer {case} --to none" in result.stderr
    assert entry_count(any_vault.path) == before

    empty = invoke("refer", case, "--to", "none", "--text-file", say("   \n"))
    assert empty.exit_code == 2 and "reason for not referring cannot be empty" in empty.stderr
    decision = entry(say, "refer", case, "--to", "none", text="School is investigating (s7).")
    assert decision["stage"] == "not referred"

    due = (today() + timedelta(days=3)).isoformat()
    entry(say, "action", "add", case, "--owner", "Class teacher", "--due", due, text="Talk.")
    entry(say, "action", "add", case, "--owner", "DSL", "--due", due, text="Call parents.")
    refused = invoke("close", case, "--outcome", "resolved", "--text-file", say("Done."))
    assert refused.exit_code == 3 and "open actions (1, 2)" in refused.stderr
    assert "--force" in refused.stderr

    forced = entry(say, "close", case, "--outcome", "resolved", "--force", text="Family moved.")
    assert forced["status"] == "closed"
    closure = read_case(any_vault, case).entry(forced["entry"])
    assert closure.data["forced"] is True and closure.data["open_actions"] == [1, 2]
    assert closure.text == "Family moved."


def test_closed_cases_refuse_new_work_until_reopened(any_vault: VaultInfo, say: Say) -> None:
    case = record(say)["case"]
    entry(say, "refer", case, "--to", "lado")
    entry(say, "close", case, "--outcome", "unfounded")
    before = entry_count(any_vault.path)
    again = invoke("close", case, "--outcome", "unfounded", "--text-file", say("Again."))
    assert again.exit_code == 3 and "is closed (unfounded)" in again.stderr
    assert f"safeguard reopen {case}" in again.stderr
    advice = invoke("advice", case, "--from", "LADO", "--text-file", say("More."))
    assert advice.exit_code == 3
    assert entry_count(any_vault.path) == before

    entry(say, "note", case, text="A note on a closed case is allowed.")
    reopened = entry(say, "reopen", case, text="New information from the police.")
    assert reopened["status"] == "open" and reopened["stage"] == "referred"
    twice = invoke("reopen", case, "--text-file", say("Again."))
    assert twice.exit_code == 3 and "only a closed case can be reopened" in twice.stderr
    listed = json.loads(invoke("cases", "--json").stdout)
    assert [c["case"] for c in listed] == [case]


def test_outcomes_depend_on_whether_it_is_an_allegation(vault: VaultInfo, say: Say) -> None:
    allegation = record(say)["case"]
    entry(say, "refer", allegation, "--to", "lado")
    wrong = invoke("close", allegation, "--outcome", "resolved", "--text-file", say("x"))
    assert wrong.exit_code == 2
    assert "substantiated, unsubstantiated, unfounded, false, malicious" in wrong.stderr
    concern = record(say, category="child-protection", subject="Lily Webb", role="pupil")["case"]
    entry(say, "refer", concern, "--to", "mash")
    wrong = invoke("close", concern, "--outcome", "malicious", "--text-file", say("x"))
    assert wrong.exit_code == 2 and "resolved, no-further-action, referred-on" in wrong.stderr
    assert entry(say, "close", concern, "--outcome", "referred-on")["status"] == "closed"


def test_action_done_twice_and_unknown_actions(any_vault: VaultInfo, say: Say) -> None:
    case = record(say)["case"]
    due = (today() + timedelta(days=1)).isoformat()
    entry(say, "action", "add", case, "--owner", "Head", "--due", due)
    done = entry(say, "action", "done", case, "1", text="Done.")
    before = entry_count(any_vault.path)
    twice = invoke("action", "done", case, "1", "--text-file", say("Again."))
    assert twice.exit_code == 3
    assert f"already done (entry {done['number']})" in twice.stderr
    assert f"safeguard amend {case} {done['number']}" in twice.stderr
    unknown = invoke("action", "done", case, "7", "--text-file", say("x"))
    assert unknown.exit_code == 4 and "no action 7" in unknown.stderr
    assert entry_count(any_vault.path) == before


def test_unknown_cases_and_entries_exit_4(any_vault: VaultInfo, say: Say) -> None:
    case = record(say)["case"]
    record(say)  # another case, whose disclosure is its own entry 1
    before = entry_count(any_vault.path)
    for args in (
        ("note", "SG-1999-0001"),
        ("refer", "SG-1999-0042", "--to", "lado"),
        ("amend", case, "999"),
        ("amend", case, "2"),  # the case has one entry; the other case's is not its own
        ("close", "SG-1999-0001", "--outcome", "resolved"),
    ):
        result = invoke(*args, "--text-file", say("x"))
        assert result.exit_code == 4, (args, result.stderr)
        assert result.stderr.startswith("safeguard: ")
    missing_file = invoke("note", case, "--text-file", "/nonexistent/file.txt")
    assert missing_file.exit_code == 4
    # What cannot be a reference at all is a usage error, saying what one looks like.
    nonsense = invoke("note", "nonsense", "--text-file", say("x"))
    assert nonsense.exit_code == 2 and "SG-YYYY-NNNN" in nonsense.stderr
    assert entry_count(any_vault.path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("record", "--category", "gossip"), "choose one of: staff-misuse, staff-pupil-contact"),
        (("refer", "CASE", "--to", "friend"), "choose one of: lado, mash, police"),
        (("conversation", "CASE", "--with", "X", "--channel", "pigeon"), "phone, email, meeting"),
        (("close", "CASE", "--outcome", "sorted"), "substantiated, unsubstantiated"),
        (("note", "CASE", "--at", "yesterday-ish"), "is not a date or time"),
        (("note", "CASE", "--at", "2026-13-45"), "is not a date or time"),
        (("note", "CASE", "--at", "2999-01-01 09:00"), "is in the future"),
        (("action", "add", "CASE", "--owner", "X", "--due", "soon"), "is not a date"),
        (("action", "add", "CASE", "--owner", "X", "--due", "2000-01-01"), "is before the action"),
        (("record", "--subject-role", "teacher"), "unknown subject role 'teacher'"),
    ],
)
def test_bad_values_exit_2_with_the_choices_and_write_nothing(
    vault: VaultInfo, say: Say, args: tuple[str, ...], message: str
) -> None:
    case = record(say)["case"]
    before = entry_count(vault.path)
    full = [case if a == "CASE" else a for a in args]
    if full[0] == "record":
        full += ["--subject", "A B", "--disclosed-by", "C", "--relationship", "p", "--where", "w"]
        full += ["--category", "staff-misuse"] if "--category" not in full else []
        full += ["--subject-role", "staff"] if "--subject-role" not in full else []
    result = invoke(*full, "--text-file", say("Some text."))
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert entry_count(vault.path) == before


def test_empty_text_is_refused(vault: VaultInfo, say: Say) -> None:
    case = record(say)["case"]
    before = entry_count(vault.path)
    for command in (("note", case), ("advice", case, "--from", "LADO")):
        result = invoke(*command, "--text-file", say("\n  \n"))
        assert result.exit_code == 2 and "cannot be empty" in result.stderr
    no_text = invoke("note", case)  # no terminal and no --text-file
    assert no_text.exit_code == 2 and "--text-file" in no_text.stderr
    assert entry_count(vault.path) == before


def test_text_can_come_from_standard_input(vault: VaultInfo, say: Say) -> None:
    case = record(say)["case"]
    result = invoke("note", case, "--text-file", "-", "--json", input="Line one\r\nLine two\n")
    assert result.exit_code == 0, result.stderr
    note = read_case(vault, case).entry(json.loads(result.stdout)["entry"])
    assert note.text == "Line one\r\nLine two\n"  # as given, line endings and all


def test_next_step_panel_gives_the_deadline_and_county_contacts(
    vault: VaultInfo, say: Say, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'school_name = "Caldecote Primary"\n'
        "[contacts.lado]\n"
        'name = "Jo LADO-Officer"\nphone = "01234 567890"\nemail = "lado@county.example"\n'
    )
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    monday = today() - timedelta(days=today().weekday() + 7)  # last week's Monday
    case = record(say, "--at", f"{monday} 10:00")["case"]
    result = invoke("note", case, "--text-file", say("x"))
    assert result.exit_code == 0
    assert "Refer to the LADO" in result.stderr
    assert "Jo LADO-Officer · 01234 567890" in result.stderr
    tuesday = monday + timedelta(days=1)
    assert tuesday.strftime("%a %d %b %Y") in result.stderr  # one working day
    assert "overdue" in result.stderr
    referred = invoke("refer", case, "--to", "lado", "--text-file", say("x"))
    assert "Seek and follow the advice" in referred.stderr


def test_cases_lists_initials_names_and_what_is_overdue(
    school_day: datetime, vault: VaultInfo, say: Say
) -> None:
    friday = today() - timedelta(days=(today().weekday() - 4) % 7 + 7)  # a Friday, >1 week ago
    late = record(say, "--at", f"{friday} 15:00", subject="Daniel James Price")["case"]
    due = (today() - timedelta(days=1)).isoformat()
    fine = record(
        say, "--at", f"{due} 08:00", category="parent-posts", subject="Pat Parent", role="parent"
    )["case"]
    entry(say, "action", "add", fine, "--owner", "Head", "--due", due, "--at", f"{due} 09:00")

    listing = invoke("cases")
    assert listing.exit_code == 0
    assert late in listing.stdout and fine in listing.stdout
    assert "D.J.P." in listing.stdout and "Daniel" not in listing.stdout
    named = invoke("cases", "--names")
    assert "Daniel" in named.stdout and "D.J.P." not in named.stdout
    named_json = json.loads(invoke("cases", "--names", "--json").stdout)
    assert {"name": "Daniel James Price", "role": "staff"} in named_json[0]["subjects"]

    documents = json.loads(invoke("cases", "--json").stdout)
    assert {d["case"] for d in documents} == {late, fine}
    assert all({"case", "status", "category"} <= set(d) for d in documents)
    by_case = {d["case"]: d for d in documents}
    assert by_case[late]["category"] == "staff-pupil-contact"
    assert by_case[late]["subjects"] == "D.J.P."

    overdue = invoke("cases", "--overdue")
    assert overdue.exit_code == 0
    assert "referral to lado" in overdue.stdout and "action 1 (Head)" in overdue.stdout
    overdue_json = json.loads(invoke("cases", "--overdue", "--json").stdout)
    assert {d["case"] for d in overdue_json} == {late, fine}

    entry(say, "refer", late, "--to", "lado")
    entry(say, "action", "done", fine, "1")
    nothing = invoke("cases", "--overdue")
    assert nothing.exit_code == 0 and "No overdue" in nothing.stderr
    assert json.loads(invoke("cases", "--overdue", "--json").stdout) == []
    assert json.loads(invoke("cases", "--status", "closed", "--json").stdout) == []
    bad = invoke("cases", "--status", "pending")
    assert bad.exit_code == 2 and "open, closed, all" in bad.stderr


def test_verify_catches_a_case_status_edited_by_hand(vault: VaultInfo, say: Say) -> None:
    case = record(say)["case"]
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE cases SET status = 'closed'")
    result = invoke("verify")
    assert result.exit_code == 1
    assert f"case {case} is marked 'closed' but its chronology says 'open'" in result.stderr


def test_a_deputy_records_and_is_the_author(vault: VaultInfo, say: Say) -> None:
    from tests.conftest import DEPUTY_PASSPHRASE

    added = invoke(
        "user", "add", "Sam Patel", "--role", "deputy",
        env={"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE},
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    case = record(say, category="child-protection", subject="Amy Price", role="pupil")["case"]
    result = invoke(
        "--user", "Sam Patel", "note", case, "--text-file", say("x"), "--json",
        env={"SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    note = read_case(vault, case).entry(json.loads(result.stdout)["entry"])
    assert note.author == "Sam Patel"


@pytest.mark.parametrize(
    ("status", "said"),
    [("all", "No cases."), ("open", "No open cases."), ("closed", "No closed cases.")],
)
def test_no_cases_says_so_plainly(vault: VaultInfo, status: str, said: str) -> None:
    result = invoke("cases", "--status", status)
    assert result.exit_code == 0
    assert result.stderr.strip() == said  # was "No all cases."


def test_a_decision_not_to_refer_takes_no_contact_or_reference(vault: VaultInfo, say: Say) -> None:
    case = record(say)["case"]
    before = entry_count(vault.path)
    for extra in (
        ["--contact", "Bob"],
        ["--reference", "R1"],
        ["--contact", "B", "--reference", "R"],
    ):
        result = invoke("refer", case, "--to", "none", *extra, "--text-file", say("No need."))
        assert result.exit_code == 2, result.stderr
        assert "--to none records a decision not to refer" in result.stderr
        assert extra[0] in result.stderr
    assert entry_count(vault.path) == before
    assert entry(say, "refer", case, "--to", "none")["entry"] > before


def test_export_warns_of_plaintext_only_when_it_will_write(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    case = record(say)["case"]
    existing = tmp_path / "there.txt"
    existing.write_text("keep me")
    refused = [
        ("SG-2000-0999", tmp_path / "x.txt", 4),  # unknown case
        (case, tmp_path / "no" / "such" / "x.txt", 4),  # missing folder
        (case, existing, 2),  # an existing file
    ]
    for reference, path, code in refused:
        result = invoke("export", reference, "--format", "txt", "--output", str(path))
        assert result.exit_code == code, result.stderr
        assert "outside the encrypted vault" not in result.stderr
    assert existing.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    written = invoke("export", case, "--format", "txt", "--output", str(tmp_path / "ok.txt"))
    assert written.exit_code == 0 and "outside the encrypted vault" in written.stderr


def test_action_and_entry_numbers_are_ascii_digits(vault: VaultInfo, say: Say) -> None:
    case = record(say)["case"]
    entry(say, "action", "add", case, "--owner", "Head", "--due", "2099-01-01")
    before = entry_count(vault.path)
    for given in ("1_0", "+1", "²", "٣", "0", "one"):  # "1_0" was read as action 10
        done = invoke("action", "done", case, given, "--text-file", say("Done."))
        assert done.exit_code == 2 and f"{given!r} is not an action number" in done.stderr
        amended = invoke("amend", case, given, "--text-file", say("Fix."))
        assert amended.exit_code == 2 and f"{given!r} is not an entry number" in amended.stderr
    assert entry_count(vault.path) == before
    assert entry(say, "action", "done", case, "1")["action"] == 1


def test_the_tests_clock_reaches_a_real_process(
    vault: VaultInfo, say: Say, set_clock: SetClock
) -> None:
    """The one seam for time: a `safeguard` process started by a test reads the test's clock,
    so a real process and the library agree on what 'now' is."""
    from tests.conftest import run

    set_clock(datetime(2027, 3, 28, 12, 0, tzinfo=UTC))
    case = record(say)["case"]
    result = run("note", case, "--text-file", say("From a real process."), "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(run("timeline", case, "--json").stdout)
    assert {e["at"][:10] for e in shown["entries"]} == {"2027-03-28"}
    assert case.startswith("SG-2027-")
