"""A received child's file shown whole at the school that imported it: a correction the sending
school made shows beneath the entry it corrects, and the sending school's actions are listed
with their case, in the file, in each export format and in a subject access answer."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import VaultInfo, invoke
from tests.flowkit import Say, entry
from tests.test_received_facts import page_text, words
from tests.test_transfer import CANARY, _school, _send, a_child_with_a_case

WIDE = {"COLUMNS": "200"}
ADVICE = "The LADO advised a strategy meeting by Friday."
CORRECTION = "The LADO advised no meeting: the threshold was not met."
CALL = "Call the family back about the weekend."
CHECK = "Check his attendance each week."


def sent_and_imported(say: Say, tmp_path: Path) -> tuple[str, dict[str, str], str]:
    """A case whose advice was corrected, with one action done and one open, sent to
    Northfield and imported there: the case, Northfield's environment, the person there."""
    case = a_child_with_a_case(say)
    advice = entry(say, "advice", case, "--from", "County LADO", text=ADVICE)
    entry(say, "amend", case, str(advice["number"]), text=CORRECTION)
    entry(say, "action", "add", case, "--owner", "Sam Ortiz", "--due", "2026-12-04", text=CALL)
    entry(say, "action", "add", case, "--owner", "Headteacher", "--due", "2026-12-09", text=CHECK)
    entry(say, "action", "done", case, "1")
    north = _school(tmp_path, "Northfield Academy", "Bea Bell")
    package = _send(tmp_path, CANARY, north, "Northfield Academy")
    imported = invoke("import", package, "--json", env=north)
    assert imported.exit_code == 0, imported.stderr
    return case, north, str(json.loads(imported.stdout)["person"])


def actions_shown(text: str) -> list[str]:
    """The rows of a terminal timeline's actions table, each in single spaces."""
    parts = re.split(r"^Actions\s*$", text, maxsplit=1, flags=re.MULTILINE)
    rows = parts[1].splitlines() if len(parts) == 2 else []
    return [words(row) for row in rows if re.match(r"^\s*\d+\s", row)]


def test_a_correction_and_the_actions_show_in_the_received_file_and_its_exports(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    case, north, person = sent_and_imported(say, tmp_path)
    theirs = invoke("timeline", case, env=WIDE).stdout
    school = json.loads(invoke("timeline", case, "--json").stdout)["school"]
    # The sending school's own rows, as its timeline shows them.
    sent_rows = actions_shown(theirs)
    assert [row.split()[0] for row in sent_rows] == ["1", "2"], theirs

    shown = invoke("file", person, env={**north, **WIDE})
    assert shown.exit_code == 0, shown.stderr
    exported = invoke("export", "--file", person, "--format", "txt", "--output", "-", env=north)
    assert exported.exit_code == 0, exported.stderr
    for text in (shown.stdout, exported.stdout):
        assert words(CORRECTION) in words(text)
        assert "Actions: none recorded." not in text
    rows = actions_shown(shown.stdout)
    # Each row as the sending school shows it, its text marked with the case there.
    assert rows == [
        row.replace(" Call", f" {school}, {case}: Call").replace(
            " Check", f" {school}, {case}: Check"
        )
        for row in sent_rows
    ]
    assert "done" in rows[0] and rows[1].endswith("open")

    for fmt in ("html", "pdf"):
        own = tmp_path / f"own.{fmt}"
        assert invoke("export", case, "--format", fmt, "--output", str(own)).exit_code == 0
        sender = page_text(own.read_bytes(), fmt)
        out = tmp_path / f"file.{fmt}"
        made = invoke("export", "--file", person, "--format", fmt, "--output", str(out), env=north)
        assert made.exit_code == 0, made.stderr
        read = page_text(out.read_bytes(), fmt)
        # Shown where, and as often as, the sending school's own export shows it.
        assert read.count(words(CORRECTION)) == sender.count(words(CORRECTION)) > 0, fmt
        assert "Corrected by entry" in read, fmt
        for text in (CALL, CHECK, "Sam Ortiz", "2026-12-04", "2026-12-09", f"{case}: "):
            assert words(text) in read, (fmt, text)
        assert re.search(r"2026-12-04 done \d{4}-\d\d-\d\d", read), fmt
        assert "2026-12-09 open" in read, fmt
        assert "none recorded" not in read.split("Actions", 1)[-1], fmt


def test_a_subject_access_answer_keeps_the_correction_and_the_actions_without_the_names(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    _, north, person = sent_and_imported(say, tmp_path)
    for fmt in ("html", "pdf"):
        out = tmp_path / f"answer.{fmt}"
        answered = invoke("sar", "make", person, "--output", str(out), "--format", fmt, env=north)
        assert answered.exit_code == 0, answered.stderr
        read = page_text(out.read_bytes(), fmt)
        assert words(CORRECTION) in read, fmt
        for text in (CALL, CHECK, "2026-12-04", "2026-12-09 open", "Headteacher"):
            assert words(text) in read, (fmt, text)
        assert "Sam Ortiz" not in read and "Ortiz" not in read, fmt  # the owner's name withheld
        assert CANARY in read


def test_the_json_keeps_the_actions_as_they_were_sent(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    case, north, person = sent_and_imported(say, tmp_path)
    document = json.loads(invoke("file", person, "--json", env=north).stdout)
    (received,) = document["received"]
    (carried,) = received["file"]["cases"]
    sent = json.loads(invoke("timeline", case, "--json").stdout)
    assert carried["actions"] == sent["actions"]
    assert document["cases"] == []  # Northfield has no case of its own about the child
