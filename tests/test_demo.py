"""`safeguard demo`: the README's first command walks a worked case and prints its timeline."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.conftest import invoke, run


def test_demo_walks_the_whole_flow_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = invoke("demo")
    assert result.exit_code == 0, result.stderr
    timeline = result.stdout
    for title in ("Disclosure", "Referral", "Advice", "Action", "Conversation", "Amendment"):
        assert title in timeline
    assert "OFFICIAL-SENSITIVE" in timeline and "closed" in timeline
    assert "outcome: substantiated" in timeline
    assert "Recorded late" in timeline and "Corrected by entry" in timeline
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
