"""An export lays the case out without the write lock: a colleague's note written meanwhile
is not kept waiting, and the export, read again, shows it and a checkpoint that verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from safeguarding import export
from tests.conftest import VaultInfo, invoke, run
from tests.flowkit import Say, record


def colleague_note(case: str, text: str) -> int:
    """`safeguard note` as another process that will not wait a moment for the lock."""
    result = run("note", case, "--text-file", "-", input=text, env={"SAFEGUARD_BUSY_TIMEOUT": "0"})
    return result.returncode


def spy_on_layout(monkeypatch: pytest.MonkeyPatch, case: str, writes: int) -> list[int]:
    """On each of the first `writes` layouts, a colleague writes a note; their exit codes."""
    codes: list[int] = []
    real = export.render_counted

    def laying_out(*args: Any, **kwargs: Any) -> tuple[bytes, int]:
        if len(codes) < writes:
            codes.append(colleague_note(case, f"Colleague's note {len(codes) + 1}.\n"))
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "render_counted", laying_out)
    return codes


def exported(case: str, path: Path) -> tuple[dict[str, Any], str]:
    result = invoke("export", case, "-f", "json", "-o", str(path))
    assert result.exit_code == 0, result.stderr
    return json.loads(path.read_text(encoding="utf-8")), result.stderr


def test_a_note_written_while_an_export_lays_out_is_not_kept_waiting(
    vault: VaultInfo, say: Say, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = record(say)["case"]
    codes = spy_on_layout(monkeypatch, case, writes=1)
    document, _ = exported(case, tmp_path / "case.json")
    assert codes == [0]  # the colleague's note went in at once, with no wait allowed
    texts = [entry.get("text") for entry in document["entries"]]
    assert "Colleague's note 1.\n" in texts  # read again: the export shows it
    assert document["entries"][-1]["kind"] == "export"
    checkpoint = document["checkpoint"]
    verified = invoke("verify", "--checkpoint", checkpoint)
    assert verified.exit_code == 0, verified.stderr


def test_an_export_that_others_keep_overtaking_is_laid_out_under_the_lock(
    vault: VaultInfo, say: Say, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = record(say)["case"]
    tries = export.OPTIMISTIC_TRIES
    codes = spy_on_layout(monkeypatch, case, writes=tries + 1)
    document, _ = exported(case, tmp_path / "case.json")
    # each optimistic try was overtaken; the last layout held the lock, so that note was refused
    assert codes == [0] * tries + [5]
    notes = [e["text"] for e in document["entries"] if e["kind"] == "note"]
    assert notes == [f"Colleague's note {n}.\n" for n in range(1, tries + 1)]
    kinds = [e["kind"] for e in json.loads(invoke("timeline", case, "--json").stdout)["entries"]]
    assert kinds.count("export") == 1  # recorded once, whatever the tries
    assert invoke("verify").exit_code == 0


def spy_on_reading(monkeypatch: pytest.MonkeyPatch, case: str, writes: int) -> list[int]:
    """On each of the first `writes` reads of a case for a view, a colleague writes a note."""
    from safeguarding import casefile

    codes: list[int] = []
    real = casefile.build

    def reading(*args: Any, **kwargs: Any) -> casefile.CaseFile:
        if len(codes) < writes:
            codes.append(colleague_note(case, f"Colleague's note {len(codes) + 1}.\n"))
        return real(*args, **kwargs)

    monkeypatch.setattr(casefile, "build", reading)
    return codes


def test_a_timeline_reads_without_the_write_lock_and_shows_a_note_written_meanwhile(
    vault: VaultInfo, say: Say, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = record(say)["case"]
    codes = spy_on_reading(monkeypatch, case, writes=1)
    shown = invoke("timeline", case, "--json")
    assert shown.exit_code == 0, shown.stderr
    assert codes == [0]  # the colleague's note went in at once, with no wait allowed
    document = json.loads(shown.stdout)
    assert "Colleague's note 1.\n" in [entry.get("text") for entry in document["entries"]]
    verified = invoke("verify", "--checkpoint", document["checkpoint"])
    assert verified.exit_code == 0, verified.stderr
    audit = invoke("audit", "--case", case, "--json")
    assert audit.exit_code == 0, audit.stderr
    actions = [event["action"] for event in json.loads(audit.stdout)]
    assert actions.count("viewed") == 1  # the view recorded once, whatever the tries
