"""The PDF shows the scripts of the names a school records from the shipped Noto fonts, shaped
(Arabic and Hebrew right to left, Arabic letters joined, Indic conjuncts formed), and Chinese
from Debian's CJK fonts where installed, and still writes what no font has (Tibetan) as
`[U+XXXX]`, with the notice, never echoing the record on stderr."""

from __future__ import annotations

import io
import os
import re
import struct
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from safeguarding import categories, fonts
from safeguarding.cases import Casebook, Disclosure, Subject
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
        reference = book.record(
            Disclosure(
                category="staff-misuse",
                subjects=tuple(Subject(name, "pupil") for name in NAMES),
                disclosed_by=f"{DEVANAGARI} Sharma",
                relationship="pupil",
                where="the library",
                text=f"{ARABIC} and {DEVANAGARI} said {TAMIL} and {CHINESE} were messaged too.",
                at=tc.at(20, 9, 30),
            )
        ).reference
        book.note(reference, text=f"{ARABIC_NOTE}\nThe uncle, {TIBETAN}, was told.")
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
    found: dict[str, set[int]] = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            name = str(font["/BaseFont"]).split("+")[-1]
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            chars = found.setdefault(name, set())
            for line in cmap.splitlines():
                parts = line.replace("<", " ").replace(">", " ").split()
                if len(parts) == 2 and all(len(p) % 4 == 0 for p in parts):
                    text = bytes.fromhex(parts[1]).decode("utf-16-be")
                    chars.update(ord(c) for c in text)
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
