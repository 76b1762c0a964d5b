"""`safeguard demo`: the README's first command walks a worked case and prints its timeline,
each step a real command, shown as it ran."""

from __future__ import annotations

import io
import os
import re
import shlex
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from safeguarding.cli.app import SafeguardGroup
from safeguarding.cli.commands import demo
from safeguarding.cli.commands.demo import case_week
from safeguarding.cli.demo_case import STEPS

from safeguarding import clock
from tests.conftest import invoke, run, today


def test_demo_walks_the_whole_flow_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = invoke("demo")
    assert result.exit_code == 0, result.stderr
    # Lily's file before it, then the case's timeline: the last panel on standard output
    file, timeline = (
        result.stdout[: result.stdout.rindex("╭")],
        result.stdout[result.stdout.rindex("╭") :],
    )
    assert "File of Lily Webb" in file and "2011-04-09" in file
    assert "SG-" in file and "· Disclosure · entry 1" in file
    # what `safeguard timeline` shows: the header, entries grouped by day, the amendment under
    # what it corrects, the actions table and the checkpoint footer
    assert "SG-" in timeline and "safeguarding chronology" in timeline
    assert "Policy section" in timeline and "Daniel Price (staff)" in timeline
    assert "closed, outcome: substantiated" in timeline
    for title in ("Disclosure", "Referral", "Advice", "Action", "Conversation", "Amendment"):
        assert f"{title} · entry" in timeline
    days = re.findall(r"(Monday|Tuesday|Wednesday|Thursday|Friday) \d\d \w+ \d{4}", timeline)
    assert days == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    assert "recorded late" in timeline and "Corrected by entry" in timeline
    assert re.search(r"Actions\s+#\s+Action\s+Owner\s+Due\s+Status", timeline)
    assert re.search(r"Checkpoint \d+:[0-9a-f]{16}", timeline)
    assert "OFFICIAL-SENSITIVE" in timeline
    assert "$ safeguard timeline SG-" in result.stderr
    assert "Refer to the LADO" in result.stderr and "By the end of" in result.stderr
    assert "LADO duty officer (example)" in result.stderr
    assert list(scratch.iterdir()) == []  # the throwaway vault is gone
    assert not (tmp_path / "vault.db").exists()  # the user's own vault was never made


def test_demo_runs_as_a_real_process_with_no_set_up(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = run("demo", env={"SAFEGUARD_VAULT": str(tmp_path / "mine.db"), "TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stderr
    assert "SG-" in result.stdout and "Closed" in result.stdout
    assert list(scratch.iterdir()) == []
    assert not (tmp_path / "mine.db").exists()


@dataclass
class Ran:
    """One run of the `safeguard` command, as it reached it."""

    args: list[str]
    environment: dict[str, str]
    stdin: str
    files: dict[str, str]
    at: datetime
    code: int


@dataclass
class Shown:
    """One command line the demo printed, with the heredoc it fed and the time it gave."""

    assignments: dict[str, str]
    args: list[str]
    stdin: str
    files: dict[str, str]
    at: str


def _recording(monkeypatch: pytest.MonkeyPatch) -> list[Ran]:
    """Every run of `safeguard` from here on, whatever starts it, with what it was given."""
    ran: list[Ran] = []
    real = SafeguardGroup.main

    def main(self: SafeguardGroup, args: list[str], *rest: Any, **options: Any) -> Any:
        given = sys.stdin.read()
        sys.stdin = io.TextIOWrapper(io.BytesIO(given.encode()), encoding="utf-8")
        environment = {k: v for k, v in os.environ.items() if k.startswith("SAFEGUARD_")}
        folder = Path(environment.get("SAFEGUARD_VAULT", ".")).parent
        files = {p.name: p.read_text() for p in folder.glob("*.txt")}
        at = clock.now().astimezone()
        code = real(self, args, *rest, **options)
        ran.append(Ran(list(args), environment, given, files, at, code))
        return code

    monkeypatch.setattr(SafeguardGroup, "main", main)
    return ran


def _shown(stderr: str) -> tuple[dict[str, str], list[Shown]]:
    """The exports the demo printed, and each command line under its step's header."""
    exports: dict[str, str] = {}
    shown: list[Shown] = []
    lines = iter(stderr.splitlines())
    at, files = "", {}
    for line in lines:
        header = re.match(r" ?\d+\. (\w{3} \d\d \w{3} \d{4} \d\d:\d\d) ", line)
        if header:
            at, files = header.group(1), {}
        held = re.fullmatch(r"(\S+) holds:", line)
        if held:
            files[Path(held.group(1)).name] = next(lines) + "\n"
        if line.startswith("$ export "):
            name, _, value = shlex.split(line[len("$ export ") :])[0].partition("=")
            exports[name] = value
        elif line.startswith("$ "):
            heredoc = line.endswith(" <<'END'")
            words = shlex.split(line[2 : -len(" <<'END'")] if heredoc else line[2:])
            assignments = {}
            while "=" in words[0]:
                name, _, value = words.pop(0).partition("=")
                assignments[name] = value
            assert words[0] == "safeguard", line
            stdin = "".join(f"{text}\n" for text in iter(lines.__next__, "END")) if heredoc else ""
            shown.append(Shown(assignments, words[1:], stdin, files, at))
    return exports, shown


def test_every_command_the_demo_shows_is_one_that_ran_as_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the user's own settings, which no step may see
    monkeypatch.setenv("SAFEGUARD_USER", "Someone Else")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", "not the demo's")
    ran = _recording(monkeypatch)
    result = invoke("demo")
    assert result.exit_code == 0, result.stderr
    exports, shown = _shown(result.stderr)
    assert set(exports) == {
        "SAFEGUARD_VAULT",
        "SAFEGUARD_CONFIG",
        "SAFEGUARD_USER",
        "SAFEGUARD_PASSPHRASE_FILE",
    }
    assert exports["SAFEGUARD_USER"] == "Alex Morgan"
    assert len(shown) == len(ran) == len(STEPS) > 10
    for line, one, step in zip(shown, ran, STEPS, strict=True):
        assert one.args == line.args
        assert one.environment == {**exports, **line.assignments}
        assert one.stdin == line.stdin
        assert line.files.items() <= one.files.items()
        assert one.at.strftime("%a %d %b %Y %H:%M") == line.at
        assert one.code == step.exit_code
    assert [one.code for one in ran].count(0) == len(ran) - 1  # the deputy's refused look
    assert any(line.files for line in shown) and sum(bool(line.stdin) for line in shown) > 8
    # the moments run forward, over a week that ends before today
    moments = [run.at for run in ran]
    assert moments == sorted(moments)
    assert moments[-1].date() < today() and (today() - moments[-1].date()).days < 14
    # what ran is what the timeline holds
    flat = " ".join(result.stdout.split())
    for line in shown:
        assert " ".join(line.stdin.split()) in flat


def test_a_step_that_does_not_end_as_expected_stops_the_demo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from safeguarding.cli import demo_case

    wrong = replace(demo_case.STEPS[3], argv=("record", "--category", "no-such-category"))
    monkeypatch.setattr(demo, "STEPS", (*demo_case.STEPS[:3], wrong, *demo_case.STEPS[4:]))
    result = invoke("demo")
    assert result.exit_code == 1
    assert "no-such-category" in result.stderr
    assert "the demo stopped at step 4: it exited with 2, not 0" in result.stderr
    assert "saved" not in result.stderr.split("the demo stopped")[1]


def test_the_worked_week_is_a_whole_school_week_before_this_one() -> None:
    from safeguarding.deadlines import ClosedDays

    closed = ClosedDays()
    # a Wednesday: the week before
    assert case_week(date(2026, 11, 25), closed) == date(2026, 11, 16)
    # after Christmas: 28 December and 1 January are bank holidays, so is 25 December
    assert case_week(date(2027, 1, 6), closed) == date(2026, 12, 14)
    # the school's own closure day counts too
    assert case_week(date(2026, 11, 25), {date(2026, 11, 18)}) == date(2026, 11, 9)


def test_the_simulated_clock_runs_on_from_its_moment_and_is_put_back() -> None:
    before = clock.now()
    moment = datetime(2026, 3, 2, 8, 50, tzinfo=UTC)
    with clock.simulated(moment):
        inside = clock.now()
        assert timedelta(0) <= inside - moment < timedelta(seconds=5)
        assert clock.now() >= inside
    assert timedelta(0) <= clock.now() - before < timedelta(seconds=5)
