"""What a reader sees: a correction of a correction shown alike in every format, PDF headings
kept with what follows them, the interview's summary never cutting a word, and help text."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from safeguarding import pdf, timeline
from tests import timeline_case as tc
from tests.conftest import VaultInfo, invoke
from tests.flowkit import Say, corrected_twice


def words(text: str) -> str:
    return " ".join(text.split())


def pdf_text(path: Path) -> str:
    return words(
        "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    )


def test_a_corrected_correction_shows_at_its_own_time_as_a_stub_in_every_format(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    case, call, first, second = corrected_twice(say)
    pointer = f"Itself corrected by entry {second}, shown there too."

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
        own = text[text.index(f"Amendment · entry {first} ·") :]
        own = own[: own.index(f"Amendment · entry {second} ·")]
        assert f"Corrects entry {call} (Conversation" in own
        assert pointer in own, own
        # the second correction's own place says nothing of a further one
        last = text[text.index(f"Amendment · entry {second} ·") :]
        assert f"Corrects entry {first} (Amendment" in last
        assert "Itself corrected" not in last


HEADINGS = {"Chronology", "Actions", "Checkpoint"}
DAY_BAND = re.compile(r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day \d\d [A-Z][a-z]+ \d{4}")


def with_notes(t: timeline.Timeline, count: int, apart: timedelta) -> timeline.Timeline:
    last = t.items[-1]
    notes = tuple(
        dataclasses.replace(
            last,
            id=last.id + 1 + n,
            number=last.number + 1 + n,
            at=last.at + apart * (n + 1),
            text=f"Note {n}: the family were called back and nothing further was said.",
        )
        for n in range(count)
    )
    return dataclasses.replace(t, items=t.items + notes)


def test_no_pdf_page_ends_with_a_heading(tmp_path: Path) -> None:
    """Notes a minute apart move the Actions and Checkpoint headings down the page; notes a day
    apart each bring a day's band.  Before the fix, 11 notes left "Checkpoint" the last line of
    page 2 with its text on page 3, and a day band ended a page."""
    fixed = tc.fixed_timeline(tc.build_case(tmp_path))
    footer = f"Produced {fixed.when(fixed.produced_at)} by {fixed.produced_by} · checkpoint"
    pages_seen = 0
    for apart in (timedelta(minutes=1), timedelta(days=1)):
        for count in range(24):
            data = pdf.render(with_notes(fixed, count, apart))
            pages = [p.extract_text().splitlines() for p in PdfReader(io.BytesIO(data)).pages]
            for number, lines in enumerate(pages[:-1], 1):
                body = [line.strip() for line in lines if not line.startswith(footer)]
                last = body[-1]
                assert last not in HEADINGS and not DAY_BAND.fullmatch(last), (
                    f"{count} notes {apart} apart: page {number} ends with {last!r}"
                )
            pages_seen += len(pages)
    assert pages_seen > 2 * 24  # the sweep did reach page ends


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguarding.cli import credentials

    monkeypatch.setattr(credentials, "is_interactive", lambda: True)


ACCOUNT = (
    "Her brother Tom in Year 9, told me he also said 李小龙 saw the messages",
    "Rahim (রহিম) was with them.",
    "The account was https://www.instagram.com/a.very.long.account.name.that.goes.on.and.on/",
)


def test_the_summary_before_saving_shows_every_word_whole_at_80_columns(
    vault: VaultInfo, terminal: None
) -> None:
    from tests.test_flow_prompts import INTERVIEW, answers

    interview = list(INTERVIEW)
    start = interview.index(".") - 2  # the account's two lines
    interview[start : start + 2] = ACCOUNT
    result = invoke("record", input=answers(*interview, "n"), env={"COLUMNS": "80"})
    summary = result.stderr[
        result.stderr.index("Check before saving") : result.stderr.index("Save this record?")
    ]
    assert "…" not in summary, summary
    # A value too long for its line folds onto the next: read the lines back joined.
    lines = [line.strip("│ ").removeprefix("Account").strip() for line in summary.splitlines()]
    joined = " ".join(lines)
    for word in " ".join(ACCOUNT[:2]).split():
        assert word in joined, (word, summary)
    assert ACCOUNT[2].split()[-1] in "".join(lines), summary


def test_action_add_help_reads_without_a_double_space() -> None:
    result = invoke("action", "add", "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    # Click wraps the description: read it back as one line, each line's indent taken off.
    lines = result.stdout.split("Arguments:")[0].splitlines()[1:]
    description = " ".join(line.strip() for line in lines if line.strip())
    assert "by when. Prints the action's number." in description
    assert "  " not in description, description


ARABIC_SENTENCE = "قالت عائشة إنها خائفة."


def arabic_runs(t: timeline.Timeline, text: str) -> tuple[float, list[float]]:
    """The page's width, and where (x, in points) each run of Arabic text starts on the page
    of a timeline whose last entry says `text`."""
    last = t.items[-1]
    note = dataclasses.replace(last, id=last.id + 1, at=last.at + timedelta(minutes=1), text=text)
    data = pdf.render(dataclasses.replace(t, items=(*t.items, note)))
    page = PdfReader(io.BytesIO(data)).pages[-1]
    starts: list[float] = []

    def visit(shown: str, cm: list[float], tm: list[float], *_: object) -> None:
        if any("\u0600" <= char <= "\u06ff" for char in shown):
            starts.append(tm[4] * cm[0] + cm[4])

    page.extract_text(visitor_text=visit)
    return float(page.mediabox.width), starts


def test_a_paragraph_all_in_arabic_is_right_aligned_and_a_mixed_one_is_not(
    tmp_path: Path,
) -> None:
    fixed = tc.fixed_timeline(tc.build_case(tmp_path))
    width, starts = arabic_runs(fixed, f"Spoke to the family.\n{ARABIC_SENTENCE}\nAll agreed.")
    assert starts and min(starts) > width / 2, starts  # on the right, read from the right
    width, starts = arabic_runs(fixed, "Spoke to عائشة about the messages.")
    assert starts and max(starts) < width / 3, starts  # in the English sentence, as written
    # an English sentence that begins with an Arabic name reads left to right all the same
    width, starts = arabic_runs(fixed, "عائشة said her teacher messaged her on Instagram.")
    assert starts and max(starts) < width / 3, starts
