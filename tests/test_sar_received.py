"""A subject access answer at a school that received the child's file: two vaults, the
sending school's and the receiving school's.  The received cases are counted, named, read
before the answer is sent and left out as this school's own are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import VaultInfo, invoke
from tests.flowkit import Say, entry, entry_count, record, record_args
from tests.test_received_facts import page_text, words
from tests.test_transfer import CANARY, _school, _send, a_child_with_a_case

NORTH = "Northfield Academy"
CALDECOTE = "Caldecote Primary School"
STAFF_NOTE = "STAFF-CASE-NOTE-4471"  # in the sending school's closed case about a teacher
THEIR_NOTE = "Then, after a pause"  # in the sending school's open case about the child
OWN_ACCOUNT = "NORTH-OWN-ACCOUNT-2210"  # Northfield's own case about the child
WARNING = "is plaintext"


def received_at_northfield(
    say: Say, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, str], str, str]:
    """At the sending school the child's case (SG-2026-0001, open) and a case about a member
    of staff and the child (SG-2026-0002, closed); the file sent to Northfield and imported
    there, where a case of its own about the child is SG-2026-0001 too.  Northfield's
    environment, the person there, and the sending school's name."""
    config = tmp_path / "caldecote.toml"
    config.write_text(f'school_name = "{CALDECOTE}"\n', encoding="utf-8")
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    a_child_with_a_case(say)
    staff = str(record(say, "--subject-id", "1")["case"])  # Daniel Price, staff, and the child
    entry(say, "note", staff, text=STAFF_NOTE)
    entry(say, "refer", staff, "--to", "none", text="Dealt with in school.")
    entry(say, "close", staff, "--outcome", "unfounded", text="Finished.")
    north = _school(tmp_path, NORTH, "Bea Bell")
    imported = invoke("import", _send(tmp_path, CANARY, north, NORTH), "--json", env=north)
    assert imported.exit_code == 0, imported.stderr
    got = json.loads(imported.stdout)
    assert got["cases"] == ["SG-2026-0001", "SG-2026-0002"]
    person = str(got["person"])
    args = record_args(
        say(OWN_ACCOUNT), category="child-protection", subject="Bo Sib", role="pupil"
    )
    own = invoke(*args, "--subject-id", person, "--json", env=north)
    assert own.exit_code == 0, own.stderr
    assert json.loads(own.stdout)["case"] == "SG-2026-0001"
    assert got["from"]["school"] == CALDECOTE
    return north, person, CALDECOTE


def sar(north: dict[str, str], person: str, out: Path, *extra: str) -> tuple[str, str]:
    """`sar` at Northfield as html: what it said (in words), and the answer's words."""
    made = invoke("sar", person, "--output", str(out), "--format", "html", *extra, env=north)
    assert made.exit_code == 0, made.stderr
    return words(made.stderr + made.stdout), page_text(out.read_bytes(), "html")


def test_an_answer_counts_and_names_the_received_cases_and_what_to_read_first(
    vault: VaultInfo, say: Say, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    north, person, school = received_at_northfield(say, tmp_path, monkeypatch)
    said, read = sar(north, person, tmp_path / "sar.html")
    theirs = [f"SG-2026-000{n} (received from {school})" for n in (1, 2)]
    assert f"({', '.join(['SG-2026-0001', *theirs])})" in said
    assert (
        "Read the answer before it is sent: SG-2026-0001 (still open); "
        f"SG-2026-0001 (received from {school}: still open); "
        f"SG-2026-0002 (received from {school}: about a member of staff)."
    ) in said
    assert "3 cases about you or naming you" in read
    assert f"SG-2026-0001 (open when sent, received from {school})" in read
    assert f"SG-2026-0002 (closed when sent, received from {school})" in read
    assert STAFF_NOTE in read and THEIR_NOTE in read and OWN_ACCOUNT in read

    listed = invoke("sar", "list", "--json", env=north)
    (request,) = json.loads(listed.stdout)["requests"]
    assert request["cases"] == ["SG-2026-0001"]
    assert request["received_cases"] == [
        {"school": school, "case": "SG-2026-0001"},
        {"school": school, "case": "SG-2026-0002"},
    ]
    assert request["left_out"] == []
    assert invoke("verify", env=north).exit_code == 0


def test_a_received_case_is_left_out_when_told_and_a_shared_reference_is_chosen(
    vault: VaultInfo, say: Say, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    north, person, school = received_at_northfield(say, tmp_path, monkeypatch)
    count = entry_count(Path(north["SAFEGUARD_VAULT"]))
    refused = tmp_path / "refused.html"
    for case, why in (
        ("SG-2026-0099", "not among the cases this answer holds"),
        ("SG-2026-0001", "is the reference of 2 cases"),  # Northfield's own, and the received
        ("Westgate School:SG-2026-0002", "not among the cases this answer holds"),
    ):
        made = invoke("sar", person, "-o", str(refused), "-f", "html", "--leave-out", case,
                      env=north)  # fmt: skip
        assert made.exit_code == 2, made.stderr
        assert why in words(made.stderr) and WARNING not in made.stderr  # before the warning
        assert len(made.stderr.strip().splitlines()) <= 2, made.stderr
    shared = invoke("sar", person, "-o", str(refused), "--leave-out", "sg-2026-0001", env=north)
    hint = words(shared.stderr)
    assert shared.exit_code == 2
    assert f"'{NORTH}:SG-2026-0001'" in hint and f"'{school}:SG-2026-0001'" in hint
    assert not refused.exists()
    assert entry_count(Path(north["SAFEGUARD_VAULT"])) == count

    said, read = sar(north, person, tmp_path / "a.html", "--leave-out", "SG-2026-0002")
    assert STAFF_NOTE not in read and THEIR_NOTE in read and OWN_ACCOUNT in read
    assert f"Left out: SG-2026-0002 (received from {school})." in said
    assert "2 cases about you or naming you" in read and f"{school}: about" not in said

    said, read = sar(north, person, tmp_path / "b.html", "--leave-out", f"{school}:SG-2026-0001")
    assert THEIR_NOTE not in read and STAFF_NOTE in read and OWN_ACCOUNT in read
    said, read = sar(north, person, tmp_path / "c.html", "--leave-out", f"{NORTH}:sg-2026-0001")
    assert OWN_ACCOUNT not in read and THEIR_NOTE in read and STAFF_NOTE in read
    assert "Left out: SG-2026-0001." in said

    listed = json.loads(invoke("sar", "list", "--json", env=north).stdout)["requests"]
    assert [r["left_out"] for r in listed] == [
        [f"{school}:SG-2026-0002"],
        [f"{school}:SG-2026-0001"],
        ["SG-2026-0001"],
    ]
    assert [len(r["received_cases"]) for r in listed] == [1, 1, 2]
    assert invoke("verify", env=north).exit_code == 0


def test_an_answer_made_again_keeps_what_was_left_out_before(
    vault: VaultInfo, say: Say, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    north, person, school = received_at_northfield(say, tmp_path, monkeypatch)
    sar(north, person, tmp_path / "1.html")
    said, _ = sar(north, person, tmp_path / "2.html", "--again", "1", "--leave-out", "SG-2026-0002")
    assert f"Left out: SG-2026-0002 (received from {school})" in said
    said, read = sar(north, person, tmp_path / "3.html", "--again", "1",
                     "--leave-out", f"{school}:SG-2026-0001")  # fmt: skip
    assert (
        f"Left out: SG-2026-0001 (received from {school}), SG-2026-0002 (received from "
        f"{school}) (an answer made again keeps out whatever an earlier answer of request 1"
    ) in said
    assert STAFF_NOTE not in read and THEIR_NOTE not in read and OWN_ACCOUNT in read
    assert "1 case about you or naming you" in read
    (request,) = json.loads(invoke("sar", "list", "--json", env=north).stdout)["requests"]
    assert request["left_out"] == [f"{school}:SG-2026-0001", f"{school}:SG-2026-0002"]
    assert request["received_cases"] == []

    said, read = sar(north, person, tmp_path / "4.html", "--again", "1")  # nothing new left out
    assert STAFF_NOTE not in read and THEIR_NOTE not in read and "Left out:" in said
    for extra, code in ((("--again", "9"), 4), (("--again", "1", "--received", "2026-01-02"), 2)):
        refused = invoke("sar", person, "-o", str(tmp_path / "no.html"), *extra, env=north)
        assert refused.exit_code == code and WARNING not in refused.stderr, refused.stderr
    said, read = sar(north, person, tmp_path / "5.html")  # a new request holds every case
    assert STAFF_NOTE in read and THEIR_NOTE in read and "Left out" not in said
    assert invoke("verify", env=north).exit_code == 0
