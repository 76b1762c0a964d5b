"""The PDF shows the scripts of the names a school records from the packaged fallback fonts,
shaped (Arabic and Hebrew right to left, Arabic letters joined, Indic conjuncts formed), and
Chinese from WenQuanYi Micro Hei, and still writes what no font has (Tibetan) as `[U+XXXX]`,
with the notice, never echoing the record on stderr."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from safeguarding import categories, pdf
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
    "WenQuanYiMicroHei": CHINESE,
}
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
                subjects=tuple(Subject(name, "pupil") for name in SCRIPTS.values()),
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
    for name in SCRIPTS.values():
        if name in RIGHT_TO_LEFT:
            assert fold(name) in fold(everything) or fold(name)[::-1] in fold(everything), name
        else:
            assert fold(name) in fold(everything), name
        assert f"[U+{ord(name[0]):04X}]" not in everything
    # What no font has is still written as codes, with the notice, and counted on stderr.
    assert "[U+0F40][U+0F41][U+0F42]" in everything
    assert "could not be shown in this PDF's fonts" in " ".join(pages[0].split())
    assert "3 characters could not be shown" in stderr
    for char in "".join([*SCRIPTS.values(), TIBETAN, ARABIC_NOTE]):
        if not char.isspace():
            assert char not in stderr


def test_each_script_is_drawn_with_its_own_font(scripts_case: str, tmp_path: Path) -> None:
    """The glyphs used come from the fallback font of each script, not Noto Sans: what each
    embedded font's ToUnicode map covers, read from the PDF itself."""
    data, _ = export_pdf(scripts_case, tmp_path / "scripts.pdf")
    used = embedded_characters(data)
    for family, name in SCRIPTS.items():
        drawn = set().union(*(chars for font, chars in used.items() if font.startswith(family)))
        letters = {ord(c) for c in name if unicodedata.category(c).startswith("L")}
        assert letters <= drawn, family
    assert not used[pdf.FAMILY] & {ord(c) for c in "".join(SCRIPTS.values())}


def test_arabic_is_shaped_into_joined_forms(scripts_case: str, tmp_path: Path) -> None:
    """Shaping chose the Arabic font's joined (initial, medial, final) glyphs: the embedded
    Arabic font holds glyphs beyond the isolated letters its cmap maps."""
    data, _ = export_pdf(scripts_case, tmp_path / "scripts.pdf")
    fonts = pdf.static_fonts(tuple(f for f in pdf.FALLBACKS if f.family == "NotoSansArabic"))
    assert fonts is not None
    source = TTFont(str(fonts["NotoSansArabic"][""]))
    isolated = {source.getBestCmap()[ord(c)] for c in set(ARABIC_NOTE) if not c.isspace()}
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if "NotoSansArabic" in str(font["/BaseFont"]):
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                program = descriptor.get_object()["/FontFile2"].get_object().get_data()
                embedded = TTFont(io.BytesIO(program))
                names = set(embedded.getGlyphOrder())
                assert names - isolated - {".notdef"}, "only isolated forms were embedded"
                return
    raise AssertionError("no Arabic font embedded")


def test_a_pdf_in_latin_greek_and_cyrillic_embeds_only_noto_sans(
    scripts_case: str, tmp_path: Path
) -> None:
    data, _ = export_pdf("SG-2026-0001", tmp_path / "latin.pdf")
    assert set(embedded_characters(data)) == {pdf.FAMILY}


def test_the_fonts_a_case_needs_are_cut_before_the_write_lock_is_taken(
    scripts_case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cutting a font the first time takes seconds; another user's write must not wait on the
    lock meanwhile.  With an empty font cache, every font the case needs is in the cache by the
    time the export takes the write lock, which it takes once."""
    from safeguarding import storage

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    fonts = tmp_path / "empty-cache" / "safeguard" / "fonts"
    cut_when_locked: list[set[str]] = []
    real = storage.writing

    @contextmanager
    def locking(*args: Any, **kwargs: Any) -> Iterator[Any]:
        cut_when_locked.append({path.name.split("-")[0] for path in fonts.glob("*.ttf")})
        with real(*args, **kwargs) as session:
            yield session

    monkeypatch.setattr(storage, "writing", locking)
    export_pdf(scripts_case, tmp_path / "scripts.pdf")
    variable = {face.family for face in pdf.FALLBACKS if face.variable}
    assert cut_when_locked == [{pdf.FAMILY} | (set(SCRIPTS) & variable)]
