"""`safeguard demo`: the README's first command walks a worked case and prints its timeline."""

from __future__ import annotations

import re
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
