"""What a reader sees: a correction of a correction shown alike in every format, PDF headings
kept with what follows them, the interview's summary never cutting a word, and help text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import VaultInfo, invoke
from tests.flowkit import Say, entry, record, text_writer


@pytest.fixture
def say(tmp_path: Path) -> Say:
    return text_writer(tmp_path)


def words(text: str) -> str:
    return " ".join(text.split())


def pdf_text(path: Path) -> str:
    return words(
        "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    )


def test_a_corrected_correction_shows_at_its_own_time_as_a_stub_in_every_format(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    case = record(say)["case"]
    call = entry(say, "conversation", case, "--with", "Karen Webb", "--channel", "phone")
    first = entry(say, "amend", case, str(call["entry"]), text="It was her father, Mr Webb.")
    second = entry(say, "amend", case, str(first["entry"]), text="Mr Webb is her stepfather.")
    pointer = f"Itself corrected by entry {second['entry']}, shown there too."

    shown = invoke("timeline", case, env={"COLUMNS": "100"})
    assert shown.exit_code == 0, shown.stderr
    txt = words(shown.stdout)
    path = tmp_path / "case.pdf"
    exported = invoke("export", case, "-f", "pdf", "-o", str(path))
    assert exported.exit_code == 0, exported.stderr
    pdf = pdf_text(path)

    for text in (txt, pdf):
        # in full once, under the original; nowhere else
        assert text.count("Mr Webb is her stepfather.") == 1, text
        assert text.count("It was her father, Mr Webb.") == 1, text
        own = text[text.index(f"Amendment · entry {first['entry']} ·") :]
        own = own[: own.index(f"Amendment · entry {second['entry']} ·")]
        assert f"Corrects entry {call['entry']} (Conversation" in own
        assert pointer in own, own
        # the second correction's own place says nothing of a further one
        last = text[text.index(f"Amendment · entry {second['entry']} ·") :]
        assert f"Corrects entry {first['entry']} (Amendment" in last
        assert "Itself corrected" not in last
