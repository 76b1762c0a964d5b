"""`safeguard export`: every format carries every entry (read back, not grepped from bytes),
files are 0600 and atomic, bad input writes nothing, redaction leaves no listed name, and each
export is recorded in the case's chronology."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import stat
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from safeguarding import entries, redaction
from tests import timeline_case as tc
from tests.conftest import invoke, safeguard_executable


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tc.Built:
    case = tc.build_case(tmp_path)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(case.path))
    monkeypatch.setenv("SAFEGUARD_USER", tc.DSL)
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", tc.DSL_PASSPHRASE)
    config = tmp_path / "config.toml"
    config.write_text(f'school_name = "{tc.SCHOOL}"\n')
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    return case


def words(text: str) -> str:
    return " ".join(text.split())


def contains_every_entry(extracted: str, built: tc.Built) -> None:
    flat = words(extracted)
    missing = [text for text in built.texts if words(text) not in flat]
    assert not missing


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(path: Path) -> tuple[str, set[str]]:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return "".join(parser.parts), parser.tags


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def export(built: tc.Built, fmt: str, path: Path, *extra: str) -> None:
    result = invoke("export", built.reference, "--format", fmt, "--output", str(path), *extra)
    assert result.exit_code == 0, result.stderr
    assert "plaintext" in result.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_txt_export_is_the_terminal_view_with_a_checkpoint_that_verifies(
    built: tc.Built, tmp_path: Path
) -> None:
    path = tmp_path / "case.txt"
    export(built, "txt", path, "--width", "100")
    text = path.read_text(encoding="utf-8")
    contains_every_entry(text, built)
    for fact in (tc.SCHOOL, built.reference, "OFFICIAL-SENSITIVE", "by Alex Morgan"):
        assert fact in text
    checkpoint = re.search(r"Checkpoint (\d+:[0-9a-f]{16})", text)
    assert checkpoint is not None
    assert invoke("verify", "--checkpoint", checkpoint.group(1)).exit_code == 0
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "\x1b[" not in text


def test_the_export_is_recorded_and_shows_in_the_next_timeline(
    built: tc.Built, tmp_path: Path
) -> None:
    export(built, "json", tmp_path / "case.json", "--redact")
    entries = json.loads(invoke("timeline", built.reference, "--json").stdout)["entries"]
    recorded = [e for e in entries if e["kind"] == "export"]
    assert len(recorded) == 1
    assert recorded[0]["author"] == tc.DSL
    assert recorded[0]["data"] == {"format": "json", "redacted": True, "to": "case.json"}
    shown = invoke("timeline", built.reference).stdout
    assert "Export · entry" in shown and "Redacted: yes" in shown
    audit = json.loads(invoke("audit", "--case", built.reference, "--json").stdout)
    assert [(e["action"], e["format"], e["redacted"]) for e in audit] == [
        ("granted", None, False),  # Priya given access to the restricted case
        ("exported", "json", True),
        ("viewed", None, False),
        ("viewed", None, False),
    ]


def test_an_export_entry_shows_the_file_name_or_standard_output_never_a_folder(
    built: tc.Built, tmp_path: Path
) -> None:
    folder = tmp_path / "Karen Webb"  # a folder named after the discloser
    folder.mkdir()
    export(built, "pdf", folder / "SG-2026-0001.pdf")
    assert invoke("export", built.reference, "-f", "txt", "-o", "-").exit_code == 0
    shown = " ".join(invoke("timeline", built.reference, env={"COLUMNS": "200"}).stdout.split())
    assert "Format: PDF Redacted: no To: SG-2026-0001.pdf" in shown
    assert "Format: text Redacted: no To: standard output" in shown
    assert "To: -" not in shown and str(tmp_path) not in shown and "Karen Webb/" not in shown
    audit = invoke("audit", "--case", built.reference, env={"COLUMNS": "200"}).stdout
    assert "exported pdf, to SG-2026-0001.pdf" in audit
    assert "exported txt, to standard output" in audit and str(tmp_path) not in audit
    # a path with folders (never recorded by safeguard itself) would still show only its name
    assert entries.destination("/srv/Karen Webb/case.pdf") == "case.pdf"


def test_json_export_is_the_full_case_with_a_schema_version(
    built: tc.Built, tmp_path: Path
) -> None:
    path = tmp_path / "case.json"
    export(built, "json", path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema_version"] == 2
    assert document["case"] == built.reference and document["school"] == tc.SCHOOL
    assert document["subjects"] == [{"name": tc.SUBJECT, "role": "staff"}]
    by_id = {e["id"]: e for e in document["entries"]}
    owners = [by_id[a["entry"]]["data"]["owner"] for a in document["actions"]]
    assert owners == [tc.OWNER, tc.DEPUTY]
    assert document["redacted"] is False and document["marking"] == "OFFICIAL-SENSITIVE"
    contains_every_entry(" ".join(e["text"] for e in document["entries"]), built)
    # the export's own entry is in it, and its checkpoint includes that entry
    last = document["entries"][-1]
    assert last["kind"] == "export"
    assert int(document["checkpoint"].split(":")[0]) == last["id"]


def test_html_export_holds_every_entry_and_stands_alone(built: tc.Built, tmp_path: Path) -> None:
    path = tmp_path / "case.html"
    export(built, "html", path)
    text, tags = html_text(path)
    contains_every_entry(text, built)
    assert "OFFICIAL-SENSITIVE" in text and tc.SCHOOL in text
    assert not tags & {"script", "link", "img", "iframe"}
    assert "@media print" in path.read_text(encoding="utf-8")


def test_pdf_export_holds_every_entry_with_a_header_on_every_page(
    built: tc.Built, tmp_path: Path
) -> None:
    path = tmp_path / "case.pdf"
    export(built, "pdf", path)
    data = path.read_bytes()
    pages = pdf_pages(data)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert tc.SCHOOL in page and "OFFICIAL-SENSITIVE" in page
        assert f"{built.reference} · page {number} of {len(pages)}" in page
    everything = "\n".join(pages)
    contains_every_entry(everything, built)
    for name in (tc.CONTACT, tc.SPOKEN_WITH, tc.SUBJECT):  # Greek, Cyrillic, Latin
        assert name in everything
    assert "Actions" in everything and "OVERDUE" in everything
    assert re.search(r"Checkpoint\s+\d+:[0-9a-f]{16}", everything)
    assert PdfReader(io.BytesIO(data)).pages[0].mediabox.width == pytest.approx(595.28, abs=1)


#: Characters no packaged font has a glyph for: Tibetan, Cherokee, an Egyptian hieroglyph (the
#: scripts the fonts do have: tests/test_pdf_scripts.py).
UNSHOWABLE = ("ཀ", "ཁ", "ག", "Ꭰ", "𓀀")


def test_a_pdf_never_drops_a_character_its_font_cannot_show(
    built: tc.Built, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('school_name = "Caldecote ཀ School"\n', encoding="utf-8")
    note = "Met ཀཁག <b>Li</b> and David Ꭰ 𓀀 with Zoë, Ελένη and Дмитрий.\nTab\there."
    tc.add_notes(built, note)
    path = tmp_path / "case.pdf"
    result = invoke("export", built.reference, "-f", "pdf", "-o", str(path))
    assert result.exit_code == 0, result.stderr
    pages = pdf_pages(path.read_bytes())
    everything = words("\n".join(pages))
    # each character is written as its code, in the header on every page and in the note
    for page in pages:
        assert "Caldecote [U+0F40] School" in page
    assert "Met [U+0F40][U+0F41][U+0F42] <b>Li</b> and David [U+13A0]" in everything
    assert "[U+13000] with Zoë, Ελένη and Дмитрий." in everything
    assert "Tab here." in everything  # a tab is spaces, not dropped
    assert "could not be shown in this PDF's fonts and are written as [U+XXXX]" in words(pages[0])
    # stderr says how many, suggests the html export, and quotes none of the record's text
    assert "characters could not be shown" in result.stderr and "html" in result.stderr
    assert not [c for c in UNSHOWABLE if c in result.stderr]
    assert "missing" not in result.stderr


def test_a_pdf_with_every_character_shown_has_no_notice(built: tc.Built, tmp_path: Path) -> None:
    path = tmp_path / "case.pdf"
    result = invoke("export", built.reference, "-f", "pdf", "-o", str(path))
    assert "could not be shown" not in result.stderr
    assert "[U+" not in "".join(pdf_pages(path.read_bytes()))


def _people(built: tc.Built) -> list[str]:
    """Every listed name, and each part of it that is itself a name."""
    found = list(tc.OTHERS)
    for name in tc.OTHERS:
        found += [part for part in name.split() if part.casefold() not in redaction.ROLE_WORDS]
    return found


@pytest.mark.parametrize("fmt", ["txt", "html", "json", "pdf"])
def test_redaction_leaves_no_listed_name_anywhere(
    built: tc.Built, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"case.{fmt}"
    export(built, fmt, path, "--redact")
    if fmt == "pdf":
        text = "\n".join(pdf_pages(path.read_bytes()))
    elif fmt == "html":
        text = html_text(path)[0]
    else:
        text = path.read_text(encoding="utf-8")
    leaked = [name for name in _people(built) if name.casefold() in text.casefold()]
    assert not leaked
    assert tc.SUBJECT in text and "REDACTED" in text
    for label in ("Discloser", "Contact", "Adviser", "Person spoken with", "Action owner", "DSL"):
        assert label in text
    assert "Deputy DSL" in text  # Priya Shah: an author and an action owner


def test_redaction_labels_a_part_of_a_name_only_where_it_is_that_person(
    built: tc.Built, tmp_path: Path
) -> None:
    note = (
        "The call was with Paul Webb, Zoë's father, and Tom Smith. Mrs Webb agreed; "
        "Dr. Okafor's advice stands. Karen Webb will call. Okafor will review. "
        "I told Mrs Webb I would pass it on."
    )
    tc.add_notes(built, note)
    path = tmp_path / "case.txt"
    export(built, "txt", path, "--redact")
    text = words(path.read_text(encoding="utf-8"))
    # Karen Webb is the discloser, Jide Okafor the adviser, Tom Baker an action owner: Paul
    # Webb and Tom Smith are other people, and keep their names rather than a wrong label
    assert (
        "The call was with Paul Webb, Zoë's father, and Tom Smith. [Discloser] agreed; "
        "[Adviser]'s advice stands. [Discloser] will call. [Adviser] will review. "
        "I told [Discloser] I would pass it on."
    ) in text
    assert "Paul [Discloser]" not in text and "[Action owner] Smith" not in text


def test_a_surname_given_a_man_s_and_a_woman_s_title_is_no_one_s_label(
    built: tc.Built, tmp_path: Path
) -> None:
    """Karen Webb is the discloser.  "Mr Webb" in an amendment is her husband: labelling him
    [Discloser] made the record say the discloser was the girl's father.  When the case's texts
    give a surname both a man's and a woman's title, each titled use becomes [name]."""
    tc.add_notes(
        built,
        "The call was with Mr Webb, Zoë's father.",
        "Mrs Webb agreed. Karen Webb will call. Dr. Okafor too.",
    )
    path = tmp_path / "case.txt"
    export(built, "txt", path, "--redact")
    text = words(path.read_text(encoding="utf-8"))
    assert "The call was with [name], Zoë's father." in text
    assert "[name] agreed. [Discloser] will call. [Adviser] too." in text
    assert "Webb" not in text and "[Discloser], Zoë's father" not in text


def test_unknown_format_and_unknown_case_write_nothing(built: tc.Built, tmp_path: Path) -> None:
    head = invoke("verify", "--json").stdout
    bad = invoke("export", built.reference, "-f", "docx", "-o", str(tmp_path / "x.docx"))
    assert bad.exit_code == 2 and "unknown format 'docx'" in bad.stderr
    missing = invoke("export", "SG-2026-0042", "-f", "txt", "-o", str(tmp_path / "x.txt"))
    assert missing.exit_code == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "home", "vault.db"] + [
        p.name for p in tmp_path.iterdir() if p.name.startswith("vault.db-")
    ]
    assert invoke("verify", "--json").stdout == head


def test_an_existing_file_is_kept_unless_forced(built: tc.Built, tmp_path: Path) -> None:
    path = tmp_path / "case.txt"
    path.write_text("keep me")
    refused = invoke("export", built.reference, "-f", "txt", "-o", str(path))
    assert refused.exit_code == 2 and "already exists" in refused.stderr
    assert path.read_text() == "keep me"
    path.chmod(0o644)
    export(built, "txt", path, "--force")
    assert built.reference in path.read_text(encoding="utf-8")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_an_unwritable_output_path_is_a_clear_error(built: tc.Built, tmp_path: Path) -> None:
    nowhere = invoke("export", built.reference, "-f", "txt", "-o", str(tmp_path / "no" / "x.txt"))
    assert nowhere.exit_code == 4 and "no folder" in nowhere.stderr
    folder = invoke("export", built.reference, "-f", "txt", "-o", str(tmp_path))
    assert folder.exit_code == 2 and "is a folder" in folder.stderr
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        denied = invoke("export", built.reference, "-f", "txt", "-o", str(locked / "x.txt"))
        assert denied.exit_code == 2 and "cannot write" in denied.stderr
    entries = json.loads(invoke("timeline", built.reference, "--json").stdout)["entries"]
    assert not [e for e in entries if e["kind"] == "export"]


def test_exports_to_standard_output(built: tc.Built) -> None:
    text = invoke("export", built.reference, "-f", "txt", "-o", "-")
    assert text.exit_code == 0 and "plaintext" in text.stderr
    contains_every_entry(text.stdout, built)
    pdf = invoke("export", built.reference, "-f", "pdf", "-o", "-")
    assert pdf.exit_code == 0
    assert pdf.stdout_bytes.startswith(b"%PDF")


def test_a_pdf_is_not_written_to_a_terminal(built: tc.Built) -> None:
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [safeguard_executable(), "export", built.reference, "-f", "pdf", "-o", "-"],
            stdout=follower,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env={**os.environ},
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert process.returncode == 2
    assert b"not for a terminal" in process.stderr
    entries = json.loads(invoke("timeline", built.reference, "--json").stdout)["entries"]
    assert not [e for e in entries if e["kind"] == "export"]


def test_a_two_letter_first_name_is_redacted_but_not_a_two_letter_word(
    built: tc.Built, tmp_path: Path
) -> None:
    added = invoke(
        "user",
        "add",
        "Ed Stone",
        "--role",
        "chair",
        env={"SAFEGUARD_NEW_PASSPHRASE": "the chair's own phrase"},
    )
    assert added.exit_code == 0, added.stderr
    tc.add_notes(built, "Ed said he would call. If so, it is at noon. An answer came. So did Ed.")
    path = tmp_path / "case.txt"
    export(built, "txt", path, "--redact")
    text = words(path.read_text(encoding="utf-8"))
    assert (
        "[Chair of governors] said he would call. If so, it is at noon. An answer came. "
        "So did [Chair of governors]."
    ) in text
    assert "Ed " not in text and "Stone" not in text


def test_a_pdf_that_cannot_be_laid_out_is_a_clear_refusal_and_records_nothing(
    built: tc.Built, tmp_path: Path
) -> None:
    tc.add_notes(built, "x" * 30_000)  # one unbroken run: no page can hold it
    head = invoke("verify", "--json").stdout
    path = tmp_path / "case.pdf"
    result = invoke("export", built.reference, "--format", "pdf", "--output", str(path))
    assert result.exit_code == 2, result.stderr
    assert "the PDF could not lay this case out" in result.stderr
    assert "--format html" in result.stderr
    assert not path.exists()
    assert invoke("verify", "--json").stdout == head
    html = tmp_path / "case.html"
    assert invoke("export", built.reference, "-f", "html", "-o", str(html)).exit_code == 0
