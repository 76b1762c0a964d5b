"""A case's entries are numbered 1, 2, 3… within the case, in the order they were recorded:
in its timeline, in every export, in the line a command prints after writing and in what
`amend` takes, whatever other cases and views of it write meanwhile.  The JSON keeps each
entry's place in the vault's chronology as well."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.conftest import VaultInfo, invoke, safeguard_executable
from tests.flowkit import Say, entry, entry_count, record

#: An entry's heading in the timeline and the exports: "Note · entry 3 · alice".
SHOWN = re.compile(r"· entry (\d+) ·")


def at(hour: int, minute: int = 0) -> str:
    """A time on the tests' day (the clock stands at 10:00 UTC)."""
    return f"2026-11-25T{hour:02d}:{minute:02d}:00+00:00"


def viewed(case: str) -> None:
    assert invoke("timeline", case).exit_code == 0


def interleaved(say: Say) -> tuple[str, str]:
    """Case A (restricted, so a view of it is kept in its own chronology) and case B (whose
    views are vault-level entries), their entries and views written in turn.  A holds a
    disclosure, a note, a conversation and a second note; B a disclosure and two notes."""
    a = record(say, "--at", at(7), "--restricted")["case"]
    b = record(say, "--at", at(7, 5), subject="Sam Jones", role="pupil")["case"]
    viewed(a)
    viewed(b)
    entry(say, "note", a, "--at", at(7, 10), text="First note on A.")
    entry(say, "note", b, "--at", at(7, 15), text="A note on B.")
    viewed(a)
    entry(
        say, "conversation", a, "--with", "Karen Webb", "--channel", "phone",
        "--at", at(7, 20), text="Called Mrs Webb about the messages.",
    )  # fmt: skip
    viewed(b)
    entry(say, "note", b, "--at", at(7, 25), text="Another note on B.")
    viewed(a)
    entry(say, "note", a, "--at", at(7, 30), text="Second note on A.")
    return a, b


def case_json(case: str) -> dict[str, Any]:
    result = invoke("timeline", case, "--json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def shown(text: str) -> list[int]:
    return [int(n) for n in SHOWN.findall(" ".join(text.split()))]


def test_a_case_counts_only_its_own_entries_in_the_timeline_and_the_json(
    vault: VaultInfo, say: Say
) -> None:
    a, b = interleaved(say)
    timeline = invoke("timeline", a, env={"COLUMNS": "100"})
    assert timeline.exit_code == 0, timeline.stderr
    assert shown(timeline.stdout) == [1, 2, 3, 4]
    assert "Conversation · entry 3 · alice" in timeline.stdout
    assert shown(invoke("timeline", b).stdout) == [1, 2, 3]

    entries = case_json(a)["entries"]
    assert [e["number"] for e in entries] == [1, 2, 3, 4]
    # The vault-wide sequence is kept: B's entries and the views of A lie between A's.
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids) and ids[-1] - ids[0] > len(ids) - 1


def test_each_command_says_the_case_s_number_for_what_it_wrote(vault: VaultInfo, say: Say) -> None:
    a, b = interleaved(say)
    noted = invoke("note", b, "--text-file", say("A third note on B."))
    assert noted.exit_code == 0, noted.stderr
    assert f"Recorded the note as entry 4 of {b}." in noted.stderr
    added = invoke(
        "action", "add", a, "--owner", "Head", "--due", "2026-12-01",
        "--text-file", say("Meet the family."),
    )  # fmt: skip
    assert f"Added action 1 (entry 5 of {a})." in added.stderr
    as_json = entry(say, "note", a)
    assert (as_json["number"], as_json["case"]) == (6, a) and as_json["entry"] > 6


def test_every_export_numbers_the_case_s_entries_alike(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    a, _ = interleaved(say)
    readings = {
        "txt": lambda path: path.read_text(encoding="utf-8"),
        "html": lambda path: re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")),
        "pdf": lambda path: "\n".join(
            page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages
        ),
        "json": lambda path: json.loads(path.read_text(encoding="utf-8")),
    }
    for count, (fmt, read) in enumerate(readings.items(), 5):
        path = tmp_path / f"case.{fmt}"
        exported = invoke("export", a, "--format", fmt, "--output", str(path))
        assert exported.exit_code == 0, exported.stderr
        # Each export is an entry of the case, shown in the export it records.
        assert f"recorded as entry {count} of {a}." in exported.stderr
        found = read(path)
        if fmt == "json":
            assert [e["number"] for e in found["entries"]] == list(range(1, count + 1))
        else:
            assert shown(found) == list(range(1, count + 1)), fmt


def test_a_backdated_entry_takes_the_next_number_and_no_number_changes(
    vault: VaultInfo, say: Say
) -> None:
    a, _ = interleaved(say)
    before = {e["id"]: e["number"] for e in case_json(a)["entries"]}
    late = entry(say, "note", a, "--at", at(7, 12), text="Recorded late, between 2 and 3.")
    assert late["number"] == 5
    entries = case_json(a)["entries"]
    assert [e["number"] for e in entries] == [1, 2, 5, 3, 4]  # in the order things happened
    assert {e["id"]: e["number"] for e in entries if e["id"] in before} == before


def test_amend_takes_the_case_s_number_and_corrects_that_entry(vault: VaultInfo, say: Say) -> None:
    a, b = interleaved(say)
    untouched = case_json(b)["entries"]
    amended = entry(say, "amend", a, "3", text="It was Mr Webb, not Mrs Webb.")
    assert (amended["number"], amended["amends_number"]) == (5, 3)
    entries = case_json(a)["entries"]
    call = next(e for e in entries if e["number"] == 3)
    assert call["kind"] == "conversation" and call["text"] == "Called Mrs Webb about the messages."
    assert amended["amends"] == call["id"] and call["amended_by"] == [amended["entry"]]
    timeline = invoke("timeline", a, env={"COLUMNS": "100"}).stdout
    assert "Corrected by entry 5 · alice" in timeline
    assert "Corrects entry 3 (Conversation, 2026-11-25 07:20); shown in full there." in timeline
    assert case_json(b)["entries"] == untouched


@pytest.mark.parametrize("number", ["5", "99"])
def test_an_entry_number_the_case_does_not_have_is_refused_and_nothing_is_written(
    vault: VaultInfo, say: Say, number: str
) -> None:
    a, _ = interleaved(say)
    before = entry_count(vault.path)
    refused = invoke("amend", a, number, "--text-file", say("A correction."))
    assert refused.exit_code == 4
    assert f"{a} has no entry {number}" in refused.stderr
    assert "numbered 1 to 4" in refused.stderr
    assert entry_count(vault.path) == before


def test_the_audit_of_one_s_own_entries_gives_the_case_s_numbers(
    vault: VaultInfo, say: Say
) -> None:
    a, b = interleaved(say)
    mine = json.loads(invoke("audit", "--mine", "--json").stdout)
    numbered = [(e["case"], e["number"], e["kind"]) for e in mine if e["number"] is not None]
    assert [n for case, n, _ in numbered if case == a] == [1, 2, 3, 4]
    assert [n for case, n, _ in numbered if case == b] == [1, 2, 3]
    assert all(e["number"] is None for e in mine if e["action"] == "viewed")
    table = invoke("audit", "--mine", "--case", a, env={"COLUMNS": "120"}).stdout
    assert re.search(rf"\b3\s+{a}\s+recorded: conversation", table), table


# Seeing the entry before correcting it ------------------------------------------------------


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguarding.cli import credentials

    monkeypatch.setattr(credentials, "is_interactive", lambda: True)


def test_the_entry_to_correct_is_shown_before_the_correction_is_asked_for(
    vault: VaultInfo, say: Say, terminal: None
) -> None:
    a, _ = interleaved(say)
    result = invoke("amend", a, "3", input="It was Mr Webb.\n.\n")
    assert result.exit_code == 0, result.stderr
    err = " ".join(result.stderr.split())
    preview = err.index(f"Entry 3 of {a}, to be corrected")
    assert preview < err.index("The correction to entry 3")
    shown_entry = err[preview : err.index("The correction to entry 3")]
    for fact in ("Conversation · 2026-11-25 07:20 · alice", "With: Karen Webb", "Channel: phone"):
        assert fact in shown_entry
    assert "Called Mrs Webb about the messages." in shown_entry
    assert f"Recorded the correction of entry 3 as entry 5 of {a}." in err


def test_a_correction_from_a_file_does_not_show_the_entry(vault: VaultInfo, say: Say) -> None:
    """In a script, stderr may go to a log: the entry's text is not written there."""
    a, _ = interleaved(say)
    result = invoke("amend", a, "3", "--text-file", say("It was Mr Webb."))
    assert result.exit_code == 0, result.stderr
    assert "Called Mrs Webb" not in result.stderr and "to be corrected" not in result.stderr


def test_at_a_real_terminal_the_entry_shows_before_the_prompt(vault: VaultInfo, say: Say) -> None:
    a, _ = interleaved(say)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [safeguard_executable(), "amend", a, "2", "--json"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(terminal)
    os.write(controller, b"The note was written on Wednesday.\n.\n")  # typed ahead
    out, err = process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 0, err.decode()
    text = " ".join(err.decode().split())
    assert text.index(f"Entry 2 of {a}, to be corrected") < text.index("First note on A.")
    assert text.index("First note on A.") < text.index("The correction to entry 2")
    assert json.loads(out)["amends_number"] == 2
