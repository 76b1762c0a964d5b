"""The child's file: `safeguard file PERSON` and `export --file PERSON` in every format, one
chronology across the cases about them in event order, restricted cases only for their
members, and the person never in the vault's bytes in clear."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import (
    DEPUTY_PASSPHRASE,
    SetClock,
    VaultInfo,
    invoke,
    on_both_engines,
    stored_bytes,
)
from tests.flowkit import Say, record_args, sql_value

MOMENT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
NAME, DOB = "Zebedee Quartermaine", "2013-02-27"
SAM = {"SAFEGUARD_USER": "Sam Patel", "SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE}


@pytest.fixture(autouse=True)
def fixed(set_clock: SetClock) -> None:
    set_clock(MOMENT)


def record(say: Say, at: str, text: str, *extra: str) -> str:
    args = record_args(say(text), category="child-protection", subject=NAME, role="pupil")
    result = invoke(*args, "--subject-dob", DOB, "--at", at, *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def note(say: Say, case: str, at: str, text: str) -> None:
    result = invoke("note", case, "--at", at, "--text-file", say(text))
    assert result.exit_code == 0, result.stderr


@pytest.fixture
def two_cases(vault: VaultInfo, say: Say) -> tuple[str, str]:
    """Two cases about the same child, their entries interleaved in time."""
    first = record(say, "2026-11-16 09:00", "First account.")
    second = record(say, "2026-11-17 09:00", "Second account.")
    note(say, first, "2026-11-18 09:00", "A note on the first, after the second began.")
    note(say, second, "2026-11-17 12:00", "A note on the second.")
    note(say, first, "2026-11-16 15:00", "An early note on the first, recorded last.")
    return first, second


@on_both_engines
def test_the_file_is_one_chronology_across_the_cases_in_event_order(
    two_cases: tuple[str, str],
) -> None:
    first, second = two_cases
    found = json.loads(invoke("file", "1", "--json").stdout)
    assert found["person"]["name"] == NAME and found["person"]["dob"] == DOB
    order = [(e["case"], e["at"][:16]) for e in found["chronology"]]
    assert order == sorted(order, key=lambda pair: pair[1])
    assert [case for case, _ in order] == [first, first, second, second, first]
    assert {first, second} == {c["case"] for c in found["cases"]}
    assert found["open_cases"] == [first, second]
    assert found["key_people"] == ["alice"]
    assert found["last_transfer"] is None
    shown = invoke("file", "1", env={"COLUMNS": "160"}).stdout
    for line in ("Date of birth", DOB, "Open cases", "Key people", "Last transfer", "none"):
        assert line in shown
    assert f"{first} · Disclosure" in shown and f"{second} · Note" in shown
    places = [
        shown.index(text)
        for text in ("First account", "An early note", "Second account", "A note on the second")
    ]
    assert places == sorted(places) and places[-1] < shown.index("A note on the first, after")


def test_reading_the_file_is_recorded_as_a_view_of_each_case(two_cases: tuple[str, str]) -> None:
    first, _ = two_cases
    assert invoke("file", "1").exit_code == 0
    audit = json.loads(invoke("audit", "--json").stdout)
    actions = [(e["action"], e["case"]) for e in audit]
    assert ("file_viewed", "person 1") in actions
    assert ("viewed", first) in actions
    assert invoke("verify").exit_code == 0


@pytest.mark.parametrize("fmt", ["txt", "html", "pdf", "json"])
def test_the_file_exports_in_every_format_recorded_with_a_checkpoint(
    two_cases: tuple[str, str], tmp_path: Path, fmt: str
) -> None:
    first, second = two_cases
    path = tmp_path / f"file.{fmt}"
    result = invoke("export", "--file", "1", "--format", fmt, "--output", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert "plaintext" in result.stderr
    done = json.loads(result.stdout)
    assert done["cases"] == [first, second]
    if fmt == "json":
        written = json.loads(path.read_text(encoding="utf-8"))
        assert written["schema"] == "safeguard.file"
        assert written["checkpoint"] == done["checkpoint"]
        text = json.dumps(written, ensure_ascii=False)
    elif fmt == "pdf":
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    else:
        text = path.read_text(encoding="utf-8")
    for fact in (NAME, DOB, "A note on the first", "Second account", "OFFICIAL-SENSITIVE"):
        assert fact in text, fact
    short = re.search(r"(\d+):([0-9a-f]{16})", done["checkpoint"][:19])
    assert short is not None
    assert invoke("verify", "--checkpoint", short.group(0)).exit_code == 0
    if fmt != "json":
        assert short.group(0) in " ".join(text.split())
    # Recorded in each of its cases, as a case export is, and as the file's own event.
    for case in (first, second):
        audit = json.loads(invoke("audit", "--case", case, "--json").stdout)
        assert ("exported", fmt, path.name) in [
            (e["action"], e["format"], e["output"]) for e in audit
        ]
    everything = json.loads(invoke("audit", "--json").stdout)
    assert ("exported", "person 1") in [(e["action"], e["case"]) for e in everything]


@on_both_engines
def test_a_file_export_refuses_bad_input_and_writes_nothing(
    two_cases: tuple[str, str], vault: VaultInfo, tmp_path: Path
) -> None:
    path = tmp_path / "file.txt"
    for args, code in [
        (("export", "--file", "9", "-f", "txt", "-o", str(path)), 4),
        (("export", "--file", "1", "-f", "doc", "-o", str(path)), 2),
        (("export", "--file", "1", "-f", "txt", "-o", str(path), "--redact"), 2),
        (("export", two_cases[0], "--file", "1", "-f", "txt", "-o", str(path)), 2),
        (("export", "-f", "txt", "-o", str(path)), 2),
    ]:
        before = _head(vault)
        result = invoke(*args)
        assert result.exit_code == code, (args, result.stderr)
        assert not path.exists() and _head(vault) == before


def _head(vault: VaultInfo) -> int:
    return int(sql_value(vault.path, "SELECT head_seq FROM vault_meta"))


@on_both_engines
def test_a_restricted_case_is_in_the_file_only_for_its_members(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    from safeguarding.vault import Role, Vault

    alice = Vault.open(vault.path).unlock("alice", vault.passphrase)
    alice.add_user("Sam Patel", Role.DEPUTY, DEPUTY_PASSPHRASE)
    alice.close()
    open_case = record(say, "2026-11-16 09:00", "An open account.")
    hidden = record(say, "2026-11-17 09:00", "HIDDEN-ACCOUNT-5150", "--restricted")

    mine = json.loads(invoke("file", "1", "--json").stdout)
    assert [c["case"] for c in mine["cases"]] == [open_case, hidden]

    theirs = invoke("file", "1", "--json", env=SAM)
    assert theirs.exit_code == 0, theirs.stderr
    assert hidden not in theirs.stdout and "HIDDEN-ACCOUNT" not in theirs.stdout
    assert [c["case"] for c in json.loads(theirs.stdout)["cases"]] == [open_case]
    shown = invoke("file", "1", env={**SAM, "COLUMNS": "160"}).stdout
    assert hidden not in shown and "HIDDEN" not in shown and "restricted" not in shown
    person = json.loads(invoke("person", "show", "1", "--json", env=SAM).stdout)
    assert person["cases"] == [open_case]
    path = tmp_path / "theirs.json"
    made = invoke("export", "--file", "1", "-f", "json", "-o", str(path), env=SAM)
    assert made.exit_code == 0, made.stderr
    assert hidden not in path.read_text(encoding="utf-8") and hidden not in made.stderr
    assert invoke("verify").exit_code == 0


@on_both_engines
def test_a_person_never_reaches_the_vault_in_clear(
    two_cases: tuple[str, str], vault: VaultInfo, request: pytest.FixtureRequest
) -> None:
    assert (
        invoke(
            "person",
            "add",
            "Ottoline Brackwater",
            "--dob",
            "2011-10-09",
            "--year-group",
            "Year 10",
            "--upn",
            "Z987654321098",
        ).exit_code
        == 0
    )
    assert invoke("person", "link", "1", "2", "--as", "sibling").exit_code == 0
    assert invoke("file", "1").exit_code == 0
    canaries = [NAME, DOB, "Ottoline", "2011-10-09", "Year 10", "Z987654321098", "sibling"]
    data = stored_bytes(vault, request)
    for canary in canaries:
        assert canary.encode() not in data, canary
        assert canary.casefold().encode() not in data.lower(), canary
        assert canary.encode().hex().encode() not in data, canary


@on_both_engines
def test_a_file_goes_down_standard_output_recorded_like_one_to_a_file(
    two_cases: tuple[str, str],
) -> None:
    first, _ = two_cases
    result = invoke("export", "--file", NAME, "--format", "txt", "--output", "-")
    assert result.exit_code == 0, result.stderr
    assert f"File of {NAME}" in result.stdout and "Last transfer" in result.stdout
    audit = json.loads(invoke("audit", "--case", first, "--json").stdout)
    assert ("exported", "txt", "-") in [(e["action"], e["format"], e["output"]) for e in audit]
