"""Times on the nights the clocks change, in Europe/London: a time the clocks skipped is refused
with the reason, and a time they went back through (it happened twice) is asked about at the
interview, and refused in a script with the offsets that say which."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeguarding import moments
from safeguarding.errors import AmbiguousTime, UsageError
from tests.conftest import VaultInfo, invoke
from tests.flowkit import entry_count, text_writer
from tests.test_flow_prompts import INTERVIEW, answers

SPRING_GAP = "2026-03-29 01:30"  # the clocks go from 01:00 GMT to 02:00 BST
AUTUMN_TWICE = "2026-10-25 01:30"  # the clocks go back from 02:00 BST to 01:00 GMT
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def london() -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/London"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_a_time_the_clocks_skipped_is_refused_with_the_reason(london: None) -> None:
    for text in (SPRING_GAP, "29/03/2026 01:30", "2026-03-29T01:00", "2026-03-29 01:59"):
        with pytest.raises(UsageError) as refused:
            moments.parse_at(text, NOW)
        assert not isinstance(refused.value, AmbiguousTime)
        assert "did not happen" in refused.value.message
        assert "clocks went forward an hour" in refused.value.message, text
    # Either side of the gap is an ordinary time; with an offset, the gap's time is one too.
    assert moments.parse_at("2026-03-29 00:59", NOW) == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert moments.parse_at("2026-03-29 02:00", NOW) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert moments.parse_at(f"{SPRING_GAP}+00:00", NOW) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_time_that_happened_twice_is_asked_about_with_both_offsets(london: None) -> None:
    with pytest.raises(AmbiguousTime) as twice:
        moments.parse_at(AUTUMN_TWICE, NOW)
    assert "happened twice" in twice.value.message
    assert "+01:00" in (twice.value.hint or "") and "+00:00" in (twice.value.hint or "")
    first, second = (text for text, _ in twice.value.choices)
    assert moments.parse_at(first, NOW) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert moments.parse_at(second, NOW) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    # Before and after the hour that repeats, nothing to ask.
    assert moments.parse_at("2026-10-25 00:59", NOW) == datetime(2026, 10, 24, 23, 59, tzinfo=UTC)
    assert moments.parse_at("2026-10-25 02:00", NOW) == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)


def test_when_only_one_of_the_two_has_happened_it_is_that_one(london: None) -> None:
    # 01:10 GMT: the first 01:30 (BST) is past, the second is still to come.
    during = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    assert moments.parse_at(AUTUMN_TWICE, during) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def record_in_january(vault: VaultInfo, tmp_path: Path) -> str:
    say = text_writer(tmp_path)
    result = invoke(
        *("record", "--category", "staff-misuse", "--subject", "Daniel Price"),
        *("--subject-role", "staff", "--disclosed-by", "Karen Webb"),
        *("--relationship", "parent", "--where", "the office", "--at", "2026-01-05 10:00"),
        *("--text-file", say("An account."), "--json"),
    )
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["case"])


def test_a_script_s_note_at_either_night_is_refused_and_saves_nothing(
    vault: VaultInfo, london: None, tmp_path: Path
) -> None:
    case = record_in_january(vault, tmp_path)
    say = text_writer(tmp_path)
    before = entry_count(vault.path)
    skipped = invoke("note", case, "--text-file", say("A note."), "--at", SPRING_GAP)
    assert skipped.exit_code == 2
    assert "did not happen" in skipped.stderr and "clocks went forward" in skipped.stderr
    twice = invoke("note", case, "--text-file", say("A note."), "--at", AUTUMN_TWICE)
    assert twice.exit_code == 2
    assert "happened twice" in twice.stderr
    assert "2026-10-25 01:30+01:00" in twice.stderr and "+00:00" in twice.stderr
    assert entry_count(vault.path) == before
    said = invoke("note", case, "--text-file", say("A note."), "--at", f"{AUTUMN_TWICE}+00:00")
    assert said.exit_code == 0, said.stderr
    assert entry_count(vault.path) == before + 1


def test_the_interview_asks_which_of_the_two_it_was(
    vault: VaultInfo, london: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safeguarding.cli import credentials

    monkeypatch.setattr(credentials, "is_interactive", lambda: True)
    when = INTERVIEW.index("")  # the interview's "When?"
    script = [*INTERVIEW[:when], AUTUMN_TWICE, "2", *INTERVIEW[when + 1 :], "y"]
    result = invoke("record", input=answers(*script))
    assert result.exit_code == 0, result.stderr
    assert "happened twice" in result.stderr
    assert "the first, BST" in result.stderr and "the second, GMT" in result.stderr
    case = result.stdout.strip().splitlines()[0]
    shown = invoke("timeline", case, "--json")
    (disclosure,) = [e for e in json.loads(shown.stdout)["entries"] if e["kind"] == "disclosure"]
    assert datetime.fromisoformat(disclosure["at"]) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_the_interview_says_why_a_skipped_time_is_refused_and_asks_again(
    vault: VaultInfo, london: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safeguarding.cli import credentials

    monkeypatch.setattr(credentials, "is_interactive", lambda: True)
    when = INTERVIEW.index("")
    script = [*INTERVIEW[:when], SPRING_GAP, "2026-03-29 02:30", *INTERVIEW[when + 1 :], "y"]
    result = invoke("record", input=answers(*script))
    assert result.exit_code == 0, result.stderr
    assert "did not happen" in result.stderr
    case = result.stdout.strip().splitlines()[0]
    shown = invoke("timeline", case, "--json")
    (disclosure,) = [e for e in json.loads(shown.stdout)["entries"] if e["kind"] == "disclosure"]
    assert datetime.fromisoformat(disclosure["at"]) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
