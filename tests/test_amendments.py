"""Corrections of corrections stay readable where the original is, and safeguard's own record of
an export cannot be amended; recorded text cannot reorder what a reader sees."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from tests.conftest import VaultInfo, invoke
from tests.flowkit import Say, corrected_twice, entry, entry_count, record


def timeline(case: str) -> str:
    result = invoke("timeline", case, env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_a_correction_of_a_correction_is_shown_under_the_original(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    case, call, first, second = corrected_twice(say)

    shown = timeline(case)
    under_original = shown[shown.index(f"entry {call} ·") : shown.index("Corrects")]
    assert f"Corrected by entry {first}" in under_original
    assert "It was her father, Mr Webb." in under_original
    assert f"Corrected by entry {second}" in under_original
    assert "Mr Webb is her stepfather." in under_original
    # the later correction comes after the one it corrects
    assert under_original.index("It was her father") < under_original.index("stepfather")

    path = tmp_path / "case.pdf"
    exported = invoke("export", case, "-f", "pdf", "-o", str(path))
    assert exported.exit_code == 0, exported.stderr
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    original = text[text.index(f"entry {call} ·") : text.index("Corrects entry")]
    assert f"Corrected by entry {second}" in original
    assert "stepfather" in " ".join(original.split())


def test_safeguards_own_record_of_an_export_cannot_be_amended(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    case = record(say)["case"]
    exported = invoke("export", case, "-f", "json", "-o", str(tmp_path / "case.json"))
    assert exported.exit_code == 0, exported.stderr
    export_entry = exported.stderr.rsplit("recorded as entry ", 1)[1].split(" ")[0]
    assert export_entry == "2"  # the case's second entry, after its disclosure
    before = entry_count(vault.path)

    refused = invoke("amend", case, export_entry, "--text-file", say("Sent to nobody."))
    assert refused.exit_code == 3
    assert f"entry {export_entry} of {case} is safeguard's own record of an export" in (
        refused.stderr
    )
    assert f"safeguard note {case}" in refused.stderr
    assert entry_count(vault.path) == before


def test_bidirectional_overrides_in_recorded_text_are_shown_as_codes(
    vault: VaultInfo, say: Say
) -> None:
    """U+202E would show 'Called about 5 pupils' with its digits and letters in another order
    than recorded; the reader sees the code instead, and the record keeps the character."""
    case = record(say)["case"]
    written = "Called about \u202e5 pupils\u202c today."
    note = entry(say, "note", case, text=written)
    shown = timeline(case)
    assert "\u202e" not in shown and "\u202c" not in shown
    assert "Called about [U+202E]5 pupils[U+202C] today." in shown
    kept = invoke("timeline", case, "--json")
    assert written.encode("unicode_escape").decode() in kept.stdout or written in kept.stdout
    assert note["entry"]


def test_observations_ending_in_a_newline_leave_no_blank_line(vault: VaultInfo, say: Say) -> None:
    case = record(say, "--observations-file", say("She seemed frightened.\n"))["case"]
    entry(say, "note", case, text="A note the same day.")
    lines = timeline(case).splitlines()
    at = next(i for i, line in enumerate(lines) if "She seemed frightened." in line)
    # one blank line between the entries, as between any two
    assert lines[at + 1] == "" and "Note · entry" in lines[at + 2], lines[at : at + 3]
