"""Hypothesis through the command-line runner: whatever a user or a script gives (text, times,
names, references, codes), safeguard answers with an exit code of the contract and never a
traceback, and every text it accepts reads back byte for byte.

The runner is called with catch_exceptions=False, so an exception escaping a command fails the
test; exit 70 (a bug in safeguard) is outside the contract and fails it too.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from safeguarding import clock
from safeguarding.entry_fields import MAX_SHORT, MAX_TEXT
from tests.conftest import DEFAULT_NOW, VaultInfo, invoke
from tests.reliability import case_entries, record_case

CONTRACT = {0, 2, 3, 4, 5}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Characters that break naive code: controls (ESC, BEL, CR, NUL, C1), right-to-left and
#: bidi marks, zero-width ones, a BOM, line and paragraph separators, markup brackets.
AWKWARD = (
    "\x00\x07\x08\t\n\r\x0b\x0c\x1b\x7f\x85\x9b"
    "\u200b\u200d\u200e\u200f\u202a\u202e\u2066\u2069\ufeff\u2028\u2029"
    "[]/\\'\" éßЖж中😀 a"
)
awkward_text = st.text(alphabet=st.sampled_from(AWKWARD), max_size=60)
any_text = st.one_of(st.text(max_size=300), awkward_text)


_cases: dict[Path, str] = {}


def case_of(vault: VaultInfo) -> str:
    """One open case per test's vault, recorded through the library on first use."""
    if vault.path not in _cases:
        _cases[vault.path] = record_case(vault.path)
    return _cases[vault.path]


def stored_text(vault: VaultInfo, case: str, entry: int) -> str:
    return next(e.text for e in case_entries(vault.path, case) if e.id == entry)


def in_contract(result: Any, *extra: int, prompted: bool = False) -> None:
    """An exit code of the contract and, on failure, one or two plain lines (after whatever
    prompts were shown)."""
    assert result.exit_code in CONTRACT | set(extra), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    if result.exit_code and prompted:
        last = [line for line in result.stderr.splitlines() if line.strip()][-1]
        assert last.startswith("safeguard: ") or last == "cancelled: nothing was saved", last
    elif result.exit_code:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert 1 <= len(lines) <= 2 and lines[0].startswith("safeguard: "), result.stderr


ENTRY_COMMANDS = (
    ("note",),
    ("advice", "--from", "J. Okafor, LADO"),
    ("conversation", "--with", "Karen Webb", "--channel", "phone"),
    ("action", "add", "--owner", "Headteacher", "--due", "2099-01-01"),
)


@FUZZ
@given(
    data=st.one_of(any_text.map(lambda t: t.encode("utf-8")), st.binary(max_size=200)),
    command=st.sampled_from(ENTRY_COMMANDS),
)
@example(
    data=b"\r\n  He said \x1b[2J\x07 \xe2\x80\x8f\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d\r\n\n",
    command=("note",),
)
@example(data=b"\xef\xbb\xbfa BOM first\n", command=("note",))
@example(data=b"caf\xe9\n", command=("note",))  # Latin-1, not UTF-8
@example(data=b" \t\r\n\x0b\x0c\xc2\x85\xe2\x80\xa8", command=("note",))  # only whitespace
def test_any_text_is_stored_byte_for_byte_or_refused(
    vault: VaultInfo, data: bytes, command: tuple[str, ...]
) -> None:
    case = case_of(vault)
    args = (
        (*command[:2], case, *command[2:])
        if command[0] == "action"
        else (command[0], case, *command[1:])
    )
    result = invoke(*args, "--text-file", "-", "--json", input=data)
    in_contract(result)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        assert result.exit_code == 2 and "not UTF-8 text; nothing was saved" in result.stderr
        return
    if not text.strip():
        assert result.exit_code == 2 and "cannot be empty" in result.stderr
        return
    assert result.exit_code == 0, result.stderr
    entry = json.loads(result.stdout)["entry"]
    assert stored_text(vault, case, entry).encode("utf-8") == data


def test_texts_at_the_size_limit_are_kept_and_a_megabyte_is_refused(
    vault: VaultInfo, tmp_path: Path
) -> None:
    case = case_of(vault)
    biggest = ("Zoë said 😀 \u200fשלום\r\n" * MAX_TEXT)[:MAX_TEXT]
    path = tmp_path / "biggest.txt"
    path.write_bytes(biggest.encode("utf-8"))
    kept = invoke("note", case, "--text-file", str(path), "--json")
    assert kept.exit_code == 0, kept.stderr
    assert stored_text(vault, case, json.loads(kept.stdout)["entry"]) == biggest
    before = len(case_entries(vault.path, case))
    megabyte = "a megabyte of text\n" * 55_000
    refused = invoke("note", case, "--text-file", "-", input=megabyte.encode())
    assert refused.exit_code == 2
    assert "longer than 100,000 characters; nothing was saved" in refused.stderr
    assert len(case_entries(vault.path, case)) == before


def _at_strings() -> st.SearchStrategy[str]:
    now = DEFAULT_NOW.astimezone().replace(tzinfo=None)
    moments = st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)
    ) | st.datetimes(min_value=now - timedelta(days=30), max_value=now + timedelta(days=2))
    shaped = moments.flatmap(
        lambda m: st.sampled_from(
            [
                m.strftime("%Y-%m-%d %H:%M"),
                m.strftime("%Y-%m-%dT%H:%M"),
                m.date().isoformat(),
                m.isoformat(),
                m.isoformat() + "+14:00",
                m.isoformat() + "Z",
                m.strftime(" %Y-%m-%d %H:%M:%S.%f "),
            ]
        )
    )
    return shaped | st.text(max_size=40) | awkward_text


@FUZZ
@given(at=_at_strings())
@example(at="0001-01-01")
@example(at="0001-01-01T00:00-23:59")
@example(at="9999-12-31T23:59+14:00")
@example(at="[/bold]")
@example(at="２０２６-０１-０１")  # fullwidth digits
def test_any_at_is_a_time_or_a_usage_error(vault: VaultInfo, at: str) -> None:
    case = case_of(vault)
    result = invoke("note", case, "--at", at, "--text-file", "-", "--json", input="At a time.")
    in_contract(result)
    assert result.exit_code in (0, 2, 3), result.stderr  # 3: before the disclosure
    if result.exit_code == 0:
        entry = next(
            e for e in case_entries(vault.path, case) if e.id == json.loads(result.stdout)["entry"]
        )
        assert entry.event_at <= clock.now()


def _expected_short(value: str) -> str | None:
    """What `record` keeps of a name, place or relationship, or None if it must refuse it."""
    cleaned = unicodedata.normalize("NFC", value).strip()
    if not cleaned or len(cleaned) > MAX_SHORT:
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned):
        return None
    return cleaned


names = st.one_of(st.text(max_size=40), awkward_text, st.text(min_size=195, max_size=205))


@FUZZ
@given(subject=names, discloser=names, relationship=names, where=names)
@example(subject="[/bold] [link=https://x.example]Dan[/link]", discloser="Kay", relationship="a",
         where="b")  # fmt: skip
@example(subject="Daniel\x1b[2J", discloser="Kay", relationship="a", where="b")
def test_any_names_are_kept_as_given_or_refused(
    vault: VaultInfo, subject: str, discloser: str, relationship: str, where: str
) -> None:
    result = invoke(
        "record",
        "--category", "staff-misuse",
        "--subject", subject,
        "--subject-role", "staff",
        "--disclosed-by", discloser,
        "--relationship", relationship,
        "--where", where,
        "--text-file", "-",
        "--json",
        input="The account.",
    )  # fmt: skip
    in_contract(result)
    expected = [_expected_short(v) for v in (subject, discloser, relationship, where)]
    if None in expected:
        assert result.exit_code == 2, result.stdout
        return
    assert result.exit_code == 0, result.stderr
    case = json.loads(result.stdout)["case"]
    shown = invoke("timeline", case)
    assert shown.exit_code == 0, shown.stderr
    assert "\x1b" not in shown.stdout
    document = json.loads(invoke("timeline", case, "--json").stdout)
    disclosure = document["entries"][0]["data"]
    assert document["subjects"] == [{"name": expected[0], "role": "staff"}]
    assert [disclosure["disclosed_by"], disclosure["relationship"], disclosure["where"]] == (
        expected[1:]
    )


codes = st.one_of(st.text(max_size=30), awkward_text)


@settings(FUZZ, max_examples=25)
@given(
    reference=st.one_of(
        codes,
        st.from_regex(r"\A[Ss][Gg]-[0-9²٣０-９]{1,25}-[0-9]{1,25}\Z"),
    ),
    category=st.one_of(
        codes, st.sampled_from(["staff-misuse", "STAFF-MISUSE ", "child-protection"])
    ),
    channel=st.one_of(codes, st.sampled_from(["phone", " Email", "in-person"])),
    route=st.one_of(codes, st.sampled_from(["lado", "none", "Police "])),
    outcome=st.one_of(codes, st.sampled_from(["substantiated", "resolved", "malicious"])),
)
@example(reference="SG-²-1", category="x", channel="x", route="x", outcome="x")
@example(reference="SG-99999999999999999999-1", category="x", channel="x", route="x",
         outcome="x")  # fmt: skip
def test_any_reference_or_code_gets_an_exit_code_of_the_contract(
    vault: VaultInfo, reference: str, category: str, channel: str, route: str, outcome: str
) -> None:
    case = case_of(vault)
    said = "What was said."
    results = [
        invoke("note", reference, "--text-file", "-", input=said),
        invoke("timeline", reference),
        invoke("record", "--category", category, "--subject", "Dan", "--subject-role", "staff",
               "--disclosed-by", "Kay", "--relationship", "parent", "--where", "office",
               "--text-file", "-", input=said),
        invoke("conversation", case, "--with", "Kay", "--channel", channel,
               "--text-file", "-", input=said),
        invoke("refer", case, "--to", route, "--text-file", "-", input=said),
        invoke("close", case, "--outcome", outcome, "--force", "--text-file", "-", input=said),
    ]  # fmt: skip
    for result in results:
        in_contract(result)
    if results[-1].exit_code == 0:  # closed: reopen, so the next example finds it open
        assert invoke("reopen", case, "--text-file", "-", input="Reopened.").exit_code == 0


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguarding.cli import credentials

    monkeypatch.setattr(credentials, "is_interactive", lambda: True)


LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
#: What can be typed: no line break, and no lone surrogate (not text; the test runner could not
#: even send it).
line = st.text(
    alphabet=st.characters(exclude_characters=LINE_BREAKS, exclude_categories=("Cs",)),
    max_size=30,
)


@FUZZ
@given(answers=st.lists(line, max_size=16))
@example(answers=["2", "Dan", "3", "n", "Kay", "parent", "office", "[/red]", "now", "x", "."])
@example(answers=["²"])
@example(answers=["2", "Dan", "²", "٣", "3", "n"])
@example(answers=["2", "[/b]", "3", "n", "[/i]", "[/u]", "[/s]", "", "Said.", ".", "n", "y"])
def test_the_guided_interview_survives_any_answers(
    vault: VaultInfo, terminal: None, answers: list[str]
) -> None:
    result = invoke("record", input="".join(a + "\n" for a in answers))
    in_contract(result, 130, prompted=True)
    if result.exit_code == 0:
        assert result.stdout.strip().startswith("SG-")
