"""An export that cannot be delivered says so clearly (never exit 70), and a file that cannot be
written is not recorded in the case."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests import timeline_case as tc
from tests.conftest import invoke, safeguard_executable
from tests.reliability import fill, tiny_filesystem


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tc.Built:
    case = tc.build_case(tmp_path)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(case.path))
    monkeypatch.setenv("SAFEGUARD_USER", tc.DSL)
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", tc.DSL_PASSPHRASE)
    return case


def exports_recorded(reference: str) -> int:
    result = invoke("audit", "--case", reference, "--json")
    assert result.exit_code == 0, result.stderr
    return sum(1 for event in json.loads(result.stdout) if event["action"] == "exported")


def test_standard_output_that_fails_after_the_export_is_recorded_says_so(built: tc.Built) -> None:
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [safeguard_executable(), "export", built.reference, "--format", "txt", "--output", "-"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr  # recorded: saved, so exit 0, and it says so
    assert "could not write the export to standard output (no space left on device)" in (
        result.stderr
    )
    assert "recorded as entry" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_a_file_on_a_full_disk_is_neither_written_nor_recorded(
    built: tc.Built, tmp_path: Path
) -> None:
    exported = invoke("export", built.reference, "--format", "txt", "--output", str(tmp_path / "a"))
    assert exported.exit_code == 0, exported.stderr
    before = exports_recorded(built.reference)
    assert before == 1
    with tiny_filesystem(tmp_path / "small", 256) as small:
        fill(small, leave_bytes=0)
        result = invoke(
            "export", built.reference, "--format", "html", "--output", str(small / "case.html")
        )
        assert result.exit_code == 2, result.stderr
        assert "could not write the export to" in result.stderr
        assert "nothing was written or recorded" in result.stderr
        assert sorted(p.name for p in small.iterdir()) == ["filler"]
    assert exports_recorded(built.reference) == before
