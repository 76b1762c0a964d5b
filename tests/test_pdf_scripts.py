"""The PDF shows the scripts of the names a school records from the shipped Noto fonts, shaped
(Arabic and Hebrew right to left, Arabic letters joined, Indic conjuncts formed), Chinese from
Debian's CJK fonts where installed, and emoji in colour from the shipped emoji font; it still
writes what no font has (Tibetan, an emoji newer than the font) as `[U+XXXX]`, with the notice,
never echoing the record on stderr."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import struct
import subprocess
import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from safeguarding import categories, fonts, pdf, timeline
from safeguarding.cases import Casebook
from safeguarding.entries import Disclosure, Note, Subject
from tests import timeline_case as tc
from tests.conftest import invoke

ARABIC = "عائشة"
HEBREW = "דוד"
DEVANAGARI = "अनन्या"
BENGALI = "রহিম"
GURMUKHI = "ਹਰਪ੍ਰੀਤ"
TAMIL = "தமிழ்செல்வி"
THAI = "สมชาย"
CHINESE = "李小龙"
#: Each name, by the family of the font that draws it.
SCRIPTS = {
    "NotoSansArabic": ARABIC,
    "NotoSansHebrew": HEBREW,
    "NotoSansDevanagari": DEVANAGARI,
    "NotoSansBengali": BENGALI,
    "NotoSansGurmukhi": GURMUKHI,
    "NotoSansTamil": TAMIL,
    "NotoSansThai": THAI,
}
#: The embedded names of Debian's Chinese, Japanese and Korean fonts.
CJK_FONTS = ("NotoSansCJK", "WenQuanYi")
NAMES = (*SCRIPTS.values(), CHINESE)
FAMILY = "NotoSans-Regular"
RIGHT_TO_LEFT = (ARABIC, HEBREW)
#: No packaged font has Tibetan.
TIBETAN = "ཀཁག"
#: Said in a note, after the subjects: an Arabic sentence long enough to wrap onto a second line.
ARABIC_NOTE = "قالت عائشة إن المعلم أرسل لها رسائل على إنستغرام " * 4
#: Emoji as children write them, each with the code points the emoji font's glyph stands for:
#: by default, with U+FE0F, a skin tone, ZWJ sequences, a keycap, flags (regional indicators,
#: and Scotland's tag sequence).
EMOJI = {
    "\U0001f62d": "loudly crying face",
    "\u2764\ufe0f": "red heart",
    "\U0001f44d\U0001f3fd": "thumbs up: medium skin tone",
    "\U0001f937\u200d\u2640\ufe0f": "woman shrugging",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467": "family: man, woman, girl",
    "1\ufe0f\u20e3": "keycap 1",
    "\U0001f1ec\U0001f1e7": "flag: United Kingdom",
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f": "flag: Scotland",
}
#: A message quoted in a disclosure, as it was sent.
MESSAGE = "he said dont tell ur mum " + " ".join(EMOJI) + " ok?"
#: Sent on its own: one message of six hundred emoji, more than Typst applies a show rule to.
FLOOD = "\U0001f62d" * 600
#: Face with bags under eyes (Unicode 16): newer than the emoji font, so still a code.
NEWER = "\U0001fae9"


@pytest.fixture
def scripts_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A case about children named in eight scripts, with a Tibetan name in a note."""
    built = tc.build_case(tmp_path)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(built.path))
    monkeypatch.setenv("SAFEGUARD_USER", tc.DSL)
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", tc.DSL_PASSPHRASE)
    config = tmp_path / "config.toml"
    config.write_text(f'school_name = "{tc.SCHOOL}"\n')
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    unlocked = tc.unlock(built)
    try:
        clock = tc.Clock()
        clock.moment = tc.at(20, 10, 0)
        book = Casebook(unlocked, categories.load(), built.config, now=clock)
        reference = book.open(
            Disclosure(
                category="staff-misuse",
                subjects=tuple(Subject(name, "pupil") for name in NAMES),
                disclosed_by=f"{DEVANAGARI} Sharma",
                relationship="pupil",
                where="the library",
                text=f"{ARABIC} and {DEVANAGARI} said {TAMIL} and {CHINESE} were messaged too.",
            ),
            tc.at(20, 9, 30),
        ).reference
        book.add(reference, Note(text=f"{ARABIC_NOTE}\nThe uncle, {TIBETAN}, was told."))
    finally:
        unlocked.close()
    return reference


@pytest.fixture
def emoji_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A case whose disclosure quotes a message with emoji, and a note of six hundred."""
    built = tc.build_case(tmp_path)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(built.path))
    monkeypatch.setenv("SAFEGUARD_USER", tc.DSL)
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", tc.DSL_PASSPHRASE)
    config = tmp_path / "config.toml"
    config.write_text(f'school_name = "{tc.SCHOOL}"\n')
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    unlocked = tc.unlock(built)
    try:
        clock = tc.Clock()
        clock.moment = tc.at(20, 10, 0)
        book = Casebook(unlocked, categories.load(), built.config, now=clock)
        reference = book.open(
            Disclosure(
                category="staff-misuse",
                subjects=(Subject("Maya Collins", "pupil"),),
                disclosed_by="Maya Collins",
                relationship="pupil",
                where="the library",
                text=f"Maya showed me a message from the coach: '{MESSAGE}'",
            ),
            tc.at(20, 9, 30),
        ).reference
        book.add(reference, Note(text=f"The next message was only this:\n{FLOOD}"))
    finally:
        unlocked.close()
    return reference


def fold(text: str) -> str:
    """Text as compared: presentation forms back to letters (NFKC), without spacing or the
    control codes pypdf gives for shaped glyphs that stand for no character of their own."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if not c.isspace() and unicodedata.category(c) != "Cc")


def embedded_characters(data: bytes) -> dict[str, set[int]]:
    """Each embedded font's name (without the subset tag), and the characters its ToUnicode
    map gives for the glyphs the PDF uses."""
    return {
        name: {ord(c) for text in texts for c in text}
        for name, texts in embedded_texts(data).items()
    }


def embedded_texts(data: bytes) -> dict[str, set[str]]:
    """Each embedded font's name, and the text each glyph the PDF uses stands for (one
    character, or a whole sequence for a ligature); a Type 3 font (the emoji font's colour
    glyphs, drawn as images) is named by its `/Name`."""
    found: dict[str, set[str]] = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            name = str(font.get("/BaseFont", font.get("/Name"))).lstrip("/").split("+")[-1]
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            texts = found.setdefault(name, set())
            for line in cmap.splitlines():
                parts = line.replace("<", " ").replace(">", " ").split()
                if len(parts) == 2 and len(parts[0]) % 2 == 0 and len(parts[1]) % 4 == 0:
                    texts.add(bytes.fromhex(parts[1]).decode("utf-16-be"))
    return found


def export_pdf(reference: str, path: Path) -> tuple[bytes, str]:
    result = invoke("export", reference, "-f", "pdf", "-o", str(path))
    assert result.exit_code == 0, result.stderr
    return path.read_bytes(), result.stderr


def test_names_in_eight_scripts_render_and_tibetan_is_still_a_code(
    scripts_case: str, tmp_path: Path
) -> None:
    data, stderr = export_pdf(scripts_case, tmp_path / "scripts.pdf")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    everything = "\n".join(pages)
    # Each name comes back letter for letter (Arabic in either direction: the text layer of
    # shaped right-to-left text is read back in logical or visual order, depending on the reader)
    for name in NAMES:
        if name == CHINESE and not cjk_installed():
            continue
        if name in RIGHT_TO_LEFT:
            assert fold(name) in fold(everything) or fold(name)[::-1] in fold(everything), name
        else:
            assert fold(name) in fold(everything), name
        assert f"[U+{ord(name[0]):04X}]" not in everything
    # What no font has is still written as codes, with the notice, and counted on stderr.
    assert "[U+0F40][U+0F41][U+0F42]" in everything
    assert "could not be shown in this PDF's fonts" in " ".join(pages[0].split())
    if cjk_installed():
        assert "3 characters could not be shown" in stderr
    else:
        assert "characters could not be shown" in stderr
    for char in "".join([*NAMES, TIBETAN, ARABIC_NOTE]):
        if not char.isspace():
            assert char not in stderr


def test_each_script_is_drawn_with_its_own_font(scripts_case: str, tmp_path: Path) -> None:
    """The glyphs used come from the font of each script, not Noto Sans: what each embedded
    font's ToUnicode map covers, read from the PDF itself."""
    data, _ = export_pdf(scripts_case, tmp_path / "scripts.pdf")
    used = embedded_characters(data)
    for family, name in SCRIPTS.items():
        drawn = set().union(*(chars for font, chars in used.items() if font.startswith(family)))
        letters = {ord(c) for c in name if unicodedata.category(c).startswith("L")}
        assert letters <= drawn, family
    assert not used[FAMILY] & {ord(c) for c in "".join(NAMES)}


def test_chinese_is_drawn_from_debians_cjk_fonts(scripts_case: str, tmp_path: Path) -> None:
    if not cjk_installed():
        absent("no Chinese, Japanese or Korean font (fonts-wqy-microhei or fonts-noto-cjk)")
    data, _ = export_pdf(scripts_case, tmp_path / "scripts.pdf")
    used = embedded_characters(data)
    drawn = set().union(*(c for font, c in used.items() if font.startswith(CJK_FONTS)))
    assert {ord(c) for c in CHINESE} <= drawn, used.keys()


def test_without_a_cjk_font_chinese_is_written_as_codes(
    scripts_case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fonts, "SYSTEM_FOLDERS", (tmp_path / "no-fonts",))
    fonts._showable.cache_clear()
    fonts._system_files.cache_clear()
    try:
        data, stderr = export_pdf(scripts_case, tmp_path / "scripts.pdf")
    finally:
        fonts._showable.cache_clear()
        fonts._system_files.cache_clear()
    everything = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "[U+674E][U+5C0F][U+9F99]" in everything
    counted = re.search(r"(\d+) characters could not be shown", stderr)
    assert counted is not None and int(counted.group(1)) > 3  # the Tibetan, and the Chinese


def test_the_arabic_font_embedded_holds_joined_forms(scripts_case: str, tmp_path: Path) -> None:
    """Shaping chose the Arabic font's joined (initial, medial, final) glyphs: the embedded
    Arabic font holds more glyphs than the distinct letters of the text."""
    data, _ = export_pdf(scripts_case, tmp_path / "scripts.pdf")
    letters = {c for c in ARABIC_NOTE + ARABIC if not c.isspace()}
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if "NotoSansArabic" in str(font["/BaseFont"]):
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                program = descriptor.get_object()["/FontFile2"].get_object().get_data()
                # .notdef, and a glyph for each form used: more than the letters when joined
                assert glyph_count(program) > len(letters) + 1, "only isolated forms embedded"
                return
    raise AssertionError("no Arabic font embedded")


def test_a_pdf_in_latin_greek_and_cyrillic_embeds_only_noto_sans(
    scripts_case: str, tmp_path: Path
) -> None:
    data, _ = export_pdf("SG-2026-0001", tmp_path / "latin.pdf")
    assert set(embedded_characters(data)) <= {FAMILY, "NotoSans-Bold"}


def test_emoji_in_a_quoted_message_are_drawn_in_colour_from_the_emoji_font(
    emoji_case: str, tmp_path: Path
) -> None:
    path = tmp_path / "emoji.pdf"
    data, stderr = export_pdf(emoji_case, path)
    everything = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "[U+" not in everything and "could not be shown" not in everything
    assert "could not be shown" not in stderr and "\U0001f62d" not in stderr
    # Each sequence is one glyph of the emoji font (a Type 3 font: its glyphs are the font's
    # colour images), and so are the six hundred of the flood.
    drawn = embedded_texts(data)["NotoColorEmoji"]
    for sequence, name in EMOJI.items():
        assert sequence in drawn or sequence.replace("\ufe0f", "") in drawn, name
    assert fold(FLOOD) in fold(everything)
    # ...drawn in colour: the yellow of the faces, a colour the template itself never uses.
    if shutil.which("pdftoppm") is None:
        absent("pdftoppm (poppler-utils)")
    assert yellow_pixels(path) > 200


def test_a_symbol_is_text_unless_written_as_emoji(tmp_path: Path) -> None:
    """A check mark, a smiley and a heart written plainly are text from Noto Sans Symbols; with
    U+FE0F (emoji presentation) the same characters are the emoji font's."""
    t = tc.fixed_timeline(tc.build_case(tmp_path))
    symbols = {0x2714, 0x263A, 0x2764}
    plain = " ".join(map(chr, symbols))
    used = embedded_characters(pdf.render(with_note(t, f"Done {plain}")))
    assert "NotoColorEmoji" not in used
    assert symbols <= used["NotoSansSymbols-Regular"] | used["NotoSansSymbols2-Regular"]
    emoji = " ".join(chr(code) + "\ufe0f" for code in symbols)
    used = embedded_characters(pdf.render(with_note(t, f"Done {emoji}")))
    assert symbols <= used["NotoColorEmoji"]


def test_an_emoji_newer_than_the_font_is_a_code_beside_those_it_draws(tmp_path: Path) -> None:
    t = tc.fixed_timeline(tc.build_case(tmp_path))
    data, unshown = pdf.render_counted(with_note(t, f"she sent {NEWER} then \U0001f62d"))
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    assert unshown == 1
    assert f"[U+{ord(NEWER):04X}]" in "".join(pages)
    assert "could not be shown in this PDF's fonts" in " ".join(pages[0].split())
    assert "\U0001f62d" in embedded_texts(data)["NotoColorEmoji"]


def with_note(t: timeline.Timeline, text: str) -> timeline.Timeline:
    last = t.items[-1]
    note = dataclasses.replace(last, id=last.id + 1, at=last.at + timedelta(minutes=1), text=text)
    return dataclasses.replace(t, items=(*t.items, note))


def yellow_pixels(path: Path) -> int:
    """How many pixels of the PDF's pages, drawn by pdftoppm at 50 dpi, are yellow or orange."""
    subprocess.run(
        ["pdftoppm", "-r", "50", str(path), str(path.with_suffix(""))], check=True, timeout=120
    )
    count = 0
    for page in sorted(path.parent.glob(f"{path.stem}-*.ppm")):
        header, _, rest = page.read_bytes().partition(b"\n255\n")
        assert header.split()[0] == b"P6"
        pixels = memoryview(rest)
        count += sum(
            1
            for i in range(0, len(pixels) - 2, 3)
            if pixels[i] > 200 and pixels[i + 1] > 150 and pixels[i + 2] < 100
        )
    return count


def glyph_count(program: bytes) -> int:
    """How many glyphs a TrueType font program holds (its `maxp` table's count)."""
    (tables,) = struct.unpack_from(">H", program, 4)
    for index in range(tables):
        tag, _, offset, _ = struct.unpack_from(">4sIII", program, 12 + 16 * index)
        if tag == b"maxp":
            return int(struct.unpack_from(">H", program, offset + 4)[0])
    raise AssertionError("no maxp table")


def cjk_installed() -> bool:
    return any(folder.is_dir() and any(folder.iterdir()) for folder in fonts.SYSTEM_FOLDERS)


def absent(what: str) -> None:
    """Skip for want of a Debian package, except in CI, where `.ci/run` installs it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed; .ci/run installs it")
    pytest.skip(f"{what} is not installed (.ci/run installs it)")
