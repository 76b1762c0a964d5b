"""Subject access requests: everything held about a person, with every other person's name
withheld, behind a cover letter; recorded, and tracked until answered."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from safeguarding.sar import response_due
from tests.conftest import VaultInfo, invoke
from tests.flowkit import Say, entry, entry_count, record
from tests.test_retention_people import add_person

OTHER = "Canary Othername"  # another subject of one of Amy's cases: never in her answer
DISCLOSER = "Karen Webb"  # who disclosed each case (flowkit's `record`)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-03-14", "2026-04-14"),
        ("2026-01-31", "2026-02-28"),  # February has no 31st: its last day
        ("2028-01-31", "2028-02-29"),  # a leap year's
        ("2026-03-31", "2026-04-30"),
        ("2026-02-28", "2026-03-28"),
        ("2028-02-29", "2028-03-29"),
        ("2026-12-15", "2027-01-15"),  # into the next year
        ("2026-12-31", "2027-01-31"),
        ("2026-08-31", "2026-09-30"),
    ],
)
def test_the_response_is_due_one_calendar_month_later(received: str, due: str) -> None:
    assert response_due(date.fromisoformat(received)) == date.fromisoformat(due)


def amys_cases(say: Say) -> tuple[int, str, str, str]:
    """Amy, a case about her and another child, a case about someone else naming her in a
    text, and one that does not name her."""
    amy = add_person("Amy Pupil", "2014-05-01")
    both = record(
        say, "--subject-id", str(amy), category="child-protection", subject=OTHER, role="pupil"
    )
    own = str(both["case"])
    entry(say, "note", own, text=f"{OTHER} was there too. Amy Pupil was upset.")
    named = str(record(say, category="child-protection", subject="Bo Other", role="pupil")["case"])
    entry(say, "note", named, text="Bo said AMY  pupil had seen it happen.")
    unrelated = str(
        record(say, category="child-protection", subject="Cy Else", role="pupil")["case"]
    )
    return amy, own, named, unrelated


def answer(tmp_path: Path, fmt: str, *extra: str) -> tuple[dict[str, object], Path]:
    path = tmp_path / f"sar.{fmt}"
    made = invoke("sar", "Amy Pupil", "--output", str(path), "--format", fmt, "--json", *extra)
    assert made.exit_code == 0, made.stderr
    return json.loads(made.stdout), path


def pdf_text(path: Path) -> str:
    data = path.read_bytes()
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_an_answer_holds_the_persons_own_entries_and_no_other_name(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    amy, own, named, unrelated = amys_cases(say)
    other = add_person(OTHER, "2013-07-07")  # the other subject, linked: their birth withheld
    assert invoke("person", "link-case", str(other), own, "--subject", OTHER).exit_code == 0
    document, path = answer(tmp_path, "json", "--received", "2026-01-05")
    assert document["schema"] == "safeguard.sar" and document["sar"] == 1
    assert (document["person"], document["received"], document["due"]) == (
        amy,
        "2026-01-05",
        "2026-02-05",
    )
    assert document["cases"] == [own, named]
    written = path.read_text(encoding="utf-8")
    assert "Amy Pupil was upset." in written and "AMY  pupil had seen it" in written
    for name in (OTHER, "Canary", "Othername", DISCLOSER, "Bo Other", "alice", "2013-07-07"):
        assert name not in written, name
    assert "[Subject" in written and "[Discloser]" in written
    assert unrelated not in written and "Cy Else" not in written
    answered = json.loads(written)
    assert answered["schema"] == "safeguard.sar.answer"
    assert [c["case"] for c in answered["cases"]] == [own, named]
    assert any("2026-02-05" in c["value"] for c in answered["cover"])

    for fmt in ("html", "pdf"):
        _, page = answer(tmp_path, fmt)
        shown = pdf_text(page) if fmt == "pdf" else page.read_text(encoding="utf-8")
        assert "Amy Pupil was upset." in shown and "Response due" in shown
        assert OTHER not in shown and DISCLOSER not in shown and "Othername" not in shown
        assert "2013-07-07" not in shown
        assert "calendar month" in shown  # the cover letter
        assert "every name but Amy Pupil" in " ".join(shown.split())
    # Recorded: the requests, an export entry in each case, and the audit.
    listed = json.loads(invoke("sar", "list", "--json").stdout)["requests"]
    assert [(r["sar"], r["format"], r["state"]) for r in listed] == [
        (1, "json", "overdue"),  # received on 5 January
        (2, "html", "open"),
        (3, "pdf", "open"),
    ]
    audit = invoke("audit", "--json")
    assert audit.exit_code == 0, audit.stderr
    requests = [
        (a["format"], a["output"])
        for a in json.loads(audit.stdout)
        if a["case"] == f"person {amy}" and a["action"] == "exported" and a["redacted"]
    ]
    assert requests == [("json", "sar.json"), ("html", "sar.html"), ("pdf", "sar.pdf")]
    timeline = json.loads(invoke("timeline", own, "--json").stdout)
    assert sum(e["kind"] == "export" for e in timeline["entries"]) == 3
    assert unrelated not in json.dumps(listed)
    assert invoke("verify").exit_code == 0


def test_bad_input_gets_its_exit_code_and_writes_nothing(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    amys_cases(say)
    count = entry_count(vault.path)
    out = tmp_path / "out.pdf"
    cases = [
        (("sar", "Nobody Known", "--output", str(out)), 4),
        (("sar", "99", "--output", str(out)), 4),
        (("sar", "Amy Pupil", "--output", str(out), "--format", "txt"), 2),
        (("sar", "Amy Pupil", "--output", str(out), "--received", "2999-01-01"), 2),
        (("sar", "Amy Pupil", "--output", str(out), "--received", "soon"), 2),
        (("sar", "Amy Pupil", "--output", str(out), "--received", "2014-04-30"), 2),  # unborn
        (("sar", "done", "1"), 4),
    ]
    for args, code in cases:
        refused = invoke(*args)
        assert refused.exit_code == code, (args, refused.stderr)
        assert len(refused.stderr.strip().splitlines()) <= 2, refused.stderr
    assert not out.exists() and list(tmp_path.glob("out*")) == []
    assert entry_count(vault.path) == count


def test_a_request_is_overdue_a_month_later_until_marked_done(
    vault: VaultInfo,
    say: Say,
    tmp_path: Path,
    set_clock,  # type: ignore[no-untyped-def]
) -> None:
    set_clock(datetime(2026, 1, 31, 10, 0, tzinfo=UTC))
    amys_cases(say)
    document, _ = answer(tmp_path, "html")
    assert document["due"] == "2026-02-28"
    overdue = invoke("cases", "--overdue", "--json")
    assert all("sar" not in item for item in json.loads(overdue.stdout))
    set_clock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    late = [i for i in json.loads(invoke("cases", "--overdue", "--json").stdout) if "sar" in i]
    assert [(i["sar"], i["overdue"][0]["due"]) for i in late] == [(1, "2026-02-28")]
    shown = invoke("cases", "--overdue", env={"COLUMNS": "200"})
    assert "SAR 1" in shown.stdout and "subject access request" in shown.stdout
    assert json.loads(invoke("sar", "list", "--json").stdout)["requests"][0]["state"] == "overdue"

    marked = invoke("sar", "done", "1", "--json")
    assert marked.exit_code == 0, marked.stderr
    assert json.loads(marked.stdout)["state"] == "done"
    assert "SAR 1" not in invoke("cases", "--overdue", env={"COLUMNS": "200"}).stdout
    count = entry_count(vault.path)
    again = invoke("sar", "done", "1")
    assert again.exit_code == 3 and "already" in again.stderr
    assert entry_count(vault.path) == count
    assert invoke("verify").exit_code == 0


def test_a_restricted_case_is_answered_only_to_its_members(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    from safeguarding.vault import Role, Vault

    alice = Vault.open(vault.path).unlock("alice", vault.passphrase)
    alice.add_user("Sam Patel", Role.DEPUTY, "deputy passphrase 2026")
    alice.close()
    sam = {"SAFEGUARD_USER": "Sam Patel", "SAFEGUARD_PASSPHRASE": "deputy passphrase 2026"}
    amy = add_person("Amy Pupil", "2014-05-01")
    seen = str(
        record(
            say, "--subject-id", str(amy), category="child-protection", subject=OTHER, role="pupil"
        )["case"]
    )
    hidden = str(
        record(
            say,
            "--subject-id",
            str(amy),
            "--restricted",
            category="child-protection",
            subject=OTHER,
            role="pupil",
        )["case"]
    )
    entry(say, "note", hidden, text="HIDDEN-ACCOUNT-5150")

    path = tmp_path / "theirs.json"
    made = invoke("sar", str(amy), "-o", str(path), "-f", "json", "--json", env=sam)
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["cases"] == [seen]
    written = path.read_text(encoding="utf-8")
    assert hidden not in written and "HIDDEN" not in written and "restricted" not in written
    assert hidden not in made.stdout and hidden not in made.stderr

    mine = tmp_path / "mine.json"
    assert invoke("sar", str(amy), "-o", str(mine), "-f", "json").exit_code == 0
    assert "HIDDEN-ACCOUNT-5150" in mine.read_text(encoding="utf-8")
    assert invoke("verify").exit_code == 0


def test_an_answer_names_what_to_read_first_and_leaves_out_a_case_when_told(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    """A parent's request: the open case about their child names them, and the DSL must be
    able to withhold it.  A person named across cases is a person, not a role of another."""
    _, own, named, _ = amys_cases(say)
    path = tmp_path / "sar.html"
    made = invoke("sar", "Amy Pupil", "--output", str(path), "--format", "html")
    assert made.exit_code == 0, made.stderr
    said = " ".join(made.stderr.split())
    assert f"Read the answer before it is sent: {own} (still open)" in said
    assert "--leave-out CASE" in said
    unknown = invoke("sar", "Amy Pupil", "--output", str(tmp_path / "x.html"), "--format",
                     "html", "--leave-out", "SG-2026-0099")  # fmt: skip
    assert unknown.exit_code == 2 and not (tmp_path / "x.html").exists()
    kept = invoke("sar", "Amy Pupil", "--output", str(tmp_path / "y.html"), "--format", "html",
                  "--leave-out", own, "--json")  # fmt: skip
    assert kept.exit_code == 0, kept.stderr
    assert json.loads(kept.stdout)["cases"] == [named]
    written = (tmp_path / "y.html").read_text(encoding="utf-8")
    assert "Amy Pupil was upset." not in written and "had seen it happen" in written


def test_a_case_a_request_holds_is_not_erased_until_it_is_answered(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    _, _, named, _ = amys_cases(say)
    entry(say, "refer", named, "--to", "none", text="Dealt with in school.")
    entry(say, "close", named, "--outcome", "resolved", text="Finished.")
    answer(tmp_path, "json")
    before = entry_count(vault.path)
    reason = ["--text-file", say("Past its date.")]
    refused = invoke("erase", named, *reason)
    assert refused.exit_code == 3 and "subject access request 1" in refused.stderr
    assert entry_count(vault.path) == before
    assert invoke("sar", "done", "1").exit_code == 0
    assert invoke("erase", named, *reason).exit_code == 0


def test_a_request_answered_again_stays_one_request_with_its_own_dates(
    vault: VaultInfo,
    say: Say,
    tmp_path: Path,
    set_clock,  # type: ignore[no-untyped-def]
) -> None:
    """The note says to make the answer again without a case: done with --again, it is the
    same request, chased once, its response date that of the day it was received."""
    set_clock(datetime(2026, 1, 31, 10, 0, tzinfo=UTC))
    _, own, named, _ = amys_cases(say)
    first, _ = answer(tmp_path, "html")
    said = " ".join(invoke("sar", "Amy Pupil", "-o", str(tmp_path / "n.html")).stderr.split())
    assert f"--again {first['sar'] + 1} --leave-out CASE" in said  # the request just made
    set_clock(datetime(2026, 2, 10, 9, 0, tzinfo=UTC))
    path = tmp_path / "again.json"
    made = invoke("sar", "Amy Pupil", "-o", str(path), "-f", "json", "--again", "1",
                  "--leave-out", own, "--json")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    document = json.loads(made.stdout)
    assert (document["sar"], document["again"], document["cases"]) == (1, True, [named])
    assert (document["received"], document["due"]) == ("2026-01-31", "2026-02-28")
    assert json.loads(path.read_text(encoding="utf-8"))["due"] == "2026-02-28"
    listed = json.loads(invoke("sar", "list", "--json").stdout)["requests"]
    assert [(r["sar"], r["format"]) for r in listed] == [(1, "json"), (2, "pdf")]
    newest = invoke("sar", "Amy Pupil", "-o", str(tmp_path / "3.pdf"), "--json")
    assert json.loads(newest.stdout)["sar"] == 3  # numbers go on after the highest

    set_clock(datetime(2026, 3, 11, 9, 0, tzinfo=UTC))  # past all three response dates
    late = [i["sar"] for i in json.loads(invoke("cases", "--overdue", "--json").stdout)
            if "sar" in i]  # fmt: skip
    assert late == [1, 2, 3]  # each request once, answered again or not
    add_person("Bo Person", "2015-01-01")
    count = entry_count(vault.path)
    out = str(tmp_path / "refused.pdf")
    refusals = [
        (("--again", "9"), 4),
        (("--again", "1", "--received", "2026-01-30"), 2),
    ]
    for extra, code in refusals:
        refused = invoke("sar", "Amy Pupil", "-o", out, *extra)
        assert refused.exit_code == code, (extra, refused.stderr)
    other = invoke("sar", "Bo Person", "-o", out, "--again", "1")
    assert other.exit_code == 2 and "about person" in other.stderr
    assert invoke("sar", "done", "1").exit_code == 0
    answered = invoke("sar", "Amy Pupil", "-o", out, "--again", "1")
    assert answered.exit_code == 3 and "done already" in answered.stderr
    assert entry_count(vault.path) == count + 1  # only the request marked done
    assert not Path(out).exists()
    assert invoke("verify").exit_code == 0
