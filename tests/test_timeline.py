"""`safeguard timeline`: the chronology a DSL reads, golden at 80 and 120 columns, its JSON, and
the access log that records every view."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from safeguarding import chronology, export, storage
from safeguarding.vocabulary import Kind
from tests import timeline_case as tc
from tests.conftest import invoke

GOLDEN = Path(__file__).parent / "golden"
ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tc.Built:
    case = tc.build_case(tmp_path)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(case.path))
    monkeypatch.setenv("SAFEGUARD_USER", tc.DSL)
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", tc.DSL_PASSPHRASE)
    return case


@pytest.mark.parametrize("width", [80, 120])
def test_text_rendering_matches_the_golden_file(built: tc.Built, width: int) -> None:
    text = export.render_text(tc.fixed_timeline(built), width)
    golden = GOLDEN / f"timeline-{width}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    assert max(len(line) for line in text.splitlines()) <= width


def test_the_chronology_shows_what_a_professional_looks_for(built: tc.Built) -> None:
    text = export.render_text(tc.fixed_timeline(built), 100)
    # the header: reference, category and section, subject and role, referral, next, overdue
    for fact in (
        built.reference,
        "Policy section  3, 6",
        "Daniel Price (staff)",
        "LADO, their reference LADO-0412",
        "Complete the open actions",
        "action 1 (Tom Baker), due 2026-11-18",
        "OFFICIAL-SENSITIVE",
    ):
        assert fact in text
    # days in order, entries in event order within them
    days = [text.index(d) for d in ("Monday 16 November", "Tuesday 17", "Friday 20 November")]
    assert days == sorted(days)
    assert text.index("09:55  Referral") < text.index("15:30  Advice")
    # the late entry says when it was recorded; the amendment sits under what it corrects
    assert "Conversation · entry 6 · Priya Shah · recorded late, 2026-11-19 16:00" in text
    conversation = text.index("Conversation · entry 6")
    correction = text.index("Correction: the call was on Tuesday afternoon")
    assert conversation < correction < text.index("09:25  Action done")
    assert "Corrects entry 6 (Conversation, 2026-11-17 09:05)" in text
    # the actions table, and the checkpoint footer
    assert re.search(r"1\s+Meet Mr Price.*Tom Baker\s+2026-11-18\s+OVERDUE", text)
    assert re.search(r"2\s+Call the family.*done 2026-11-17", text)
    assert "Checkpoint 14:0123456789abcdef" in text
    assert "Produced 2026-11-20 12:00 by Alex Morgan" in text


def test_timeline_command_prints_the_case_without_ansi_when_piped(built: tc.Built) -> None:
    result = invoke("timeline", built.reference, env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    assert not ANSI.search(result.stdout)
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    for text in built.texts:
        first_words = " ".join(text.split()[:4])
        assert first_words in " ".join(result.stdout.split())
    head = invoke("verify", "--json")
    checkpoint = json.loads(head.stdout)["checkpoint"]
    # the footer's checkpoint is the vault's head after the view was recorded
    assert checkpoint.split(":")[0] + ":" + checkpoint.split(":")[1][:16] in result.stdout


def test_timeline_json_follows_the_contract(built: tc.Built) -> None:
    result = invoke("timeline", built.reference, "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["case"] == built.reference
    entries = document["entries"]
    assert [e["kind"] for e in entries][:3] == ["disclosure", "referral", "advice"]
    for entry in entries:
        assert {"id", "kind", "at", "recorded_at", "author", "text"} <= set(entry)
    amendment = next(e for e in entries if e["kind"] == Kind.AMENDMENT)
    assert amendment["amends"] == built.amended
    amended = next(e for e in entries if e["id"] == built.amended)
    assert amended["amended_by"] == [amendment["id"]] and amended["late"] is True
    assert [e["text"] for e in entries if e["text"]] == sorted(
        built.texts, key=[e["text"] for e in entries].index
    )


def test_unknown_case_exits_4_and_records_nothing(built: tc.Built) -> None:
    before = invoke("verify", "--json").stdout
    result = invoke("timeline", "SG-2026-0099")
    assert result.exit_code == 4
    assert "no case SG-2026-0099" in result.stderr
    malformed = invoke("timeline", "not-a-case")  # not a reference at all: usage
    assert malformed.exit_code == 2 and "SG-YYYY-NNNN" in malformed.stderr
    assert json.loads(invoke("verify", "--json").stdout) == json.loads(before)


def test_every_view_is_in_the_audit(built: tc.Built) -> None:
    before = json.loads(invoke("audit", "--json").stdout)
    assert [(e["action"], e["user"]) for e in before] == [("granted", tc.DEPUTY)]
    assert invoke("timeline", built.reference).exit_code == 0
    assert invoke("timeline", built.reference, "--json").exit_code == 0
    result = invoke("audit", "--case", built.reference, "--json")
    assert result.exit_code == 0, result.stderr
    events = json.loads(result.stdout)
    assert [(e["who"], e["case"], e["action"]) for e in events] == [
        (tc.DSL, built.reference, "granted")
    ] + [(tc.DSL, built.reference, "viewed")] * 2
    table = invoke("audit").stdout
    assert "viewed the timeline" in table and tc.DSL in table
    # the access log is part of the chain: the vault still verifies
    assert invoke("verify").exit_code == 0


def test_a_thousand_entry_case_renders(built: tc.Built) -> None:
    """Timing belongs to benchmarks/timeline.py; this only shows that it renders whole."""
    unlocked = tc.unlock(built)
    try:
        with storage.writing(unlocked.vault.connection) as db:
            from safeguarding.casefile import find_case

            case = find_case(db, built.reference)
            key = unlocked.case_ring(db, case, writing=True)
            for n in range(1000):
                moment = tc.at(20, 10, 0) + timedelta(minutes=n)
                chronology.append(
                    db,
                    signer=unlocked.signer,
                    payload_key=key,
                    kind=Kind.NOTE,
                    payload={"text": f"Bulk note number {n}."},
                    case_id=case.id,
                    event_at=moment,
                    recorded_at=moment,
                )
    finally:
        unlocked.close()
    view = tc.fixed_timeline(built)
    assert len(view.items) == 1009
    text = export.render_text(view, 100)
    assert "Bulk note number 0." in text and "Bulk note number 999." in text
