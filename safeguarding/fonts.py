"""The PDF's fonts: the Noto Sans fonts shipped in `safeguarding/fonts` (static regular and bold
files from Debian's fonts-noto-core, OFL, pinned by sha256 in the tests) and Noto Color Emoji
(from Debian's fonts-noto-color-emoji, OFL, pinned likewise), then Chinese, Japanese and Korean
from Debian's system fonts where they are installed.

Nothing here writes anything: which characters a font has is read from its `cmap` table, in
memory, once per process and only for the fonts a document's characters need.
"""

from __future__ import annotations

import struct
from functools import cache
from importlib import resources
from pathlib import Path
from typing import BinaryIO

#: The shipped fonts' folder.
FOLDER = Path(str(resources.files("safeguarding").joinpath("fonts")))

#: The shipped families in the order tried for a character: Noto Sans (Latin, Greek,
#: Cyrillic), the scripts of the languages most spoken in English schools first, then symbols.
SCRIPTS = (
    "Arabic",
    "Bengali",
    "Gurmukhi",
    "Gujarati",
    "Devanagari",
    "Tamil",
    "Hebrew",
    "Sinhala",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Oriya",
    "Thai",
    "Lao",
    "Khmer",
    "Myanmar",
    "Georgian",
    "Armenian",
    "Ethiopic",
    "Symbols",
)
#: The emoji font: colour bitmaps, which Typst draws into the PDF as images.  Last in the order,
#: so that a symbol written without U+FE0F (☺, ✔, ♥) is drawn as text from Noto Sans Symbols;
#: the PDF's template sets emoji sequences in it first (`EMOJI_FAMILY`).
EMOJI_FAMILY = "Noto Color Emoji"
EMOJI_FILE = "NotoColorEmoji.ttf"
SHIPPED = (
    ("Noto Sans", "NotoSans-Regular.ttf"),
    *((f"Noto Sans {script}", f"NotoSans{script}-Regular.ttf") for script in SCRIPTS),
    ("Noto Sans Symbols2", "NotoSansSymbols2-Regular.ttf"),
    (EMOJI_FAMILY, EMOJI_FILE),
)
#: The variation selectors (U+FE00-U+FE0F, U+E0100-U+E01EF): no glyph of their own, they choose
#: how the character before them is drawn (U+FE0F: as an emoji, U+FE0E: as text).
_SELECTORS = frozenset((*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)))

#: Debian's folders of Chinese, Japanese and Korean fonts (fonts-noto-cjk, fonts-wqy-microhei,
#: fonts-wqy-zenhei), used when installed; each holds only such fonts.
SYSTEM_FOLDERS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/wqy"))
SYSTEM_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
    "Noto Sans CJK TC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
)
_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")


def families() -> list[str]:
    """Every family a PDF may use, in the order a character is looked for."""
    return [family for family, _ in SHIPPED] + list(SYSTEM_FAMILIES)


def folders() -> list[Path]:
    """The folders the PDF's fonts are read from: the shipped one, and the system ones that
    exist."""
    return [FOLDER, *(folder for folder in SYSTEM_FOLDERS if folder.is_dir())]


def showable(code: int) -> bool:
    """Whether a font of the PDF has a glyph for the character `code` (a variation selector,
    which only chooses how the character before it is drawn, counts as shown)."""
    return _showable(code)


def emoji(code: int) -> bool:
    """Whether the character `code` may be part of an emoji sequence that the emoji font draws:
    U+FE0F, or one above Latin-1 that the font has a glyph for (a digit, `#`, `*`, `©` or `®`
    is an emoji only with such a character after it)."""
    return code == 0xFE0F or (code > 0xFF and code in _emoji_codes())


@cache
def _emoji_codes() -> frozenset[int]:
    return _cmap(FOLDER / EMOJI_FILE)


@cache
def _showable(code: int) -> bool:
    if code in _SELECTORS:
        return True
    for _, file in SHIPPED:
        if code in _cmap(FOLDER / file):
            return True
    return any(code in _cmap(path) for path in _system_files())


@cache
def _system_files() -> tuple[Path, ...]:
    found: list[Path] = []
    for folder in SYSTEM_FOLDERS:
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES)
    return tuple(found)


@cache
def _cmap(path: Path) -> frozenset[int]:
    """The characters the font file (or every font of a collection) at `path` maps to a glyph;
    none when the file cannot be read as a font.  Only the file's table directories and its
    `cmap` tables are read, not the glyphs (the emoji font's images are 10 MiB)."""
    try:
        with path.open("rb") as file:
            head = file.read(12)
            if head[:4] == b"ttcf":
                (count,) = struct.unpack_from(">I", head, 8)
                starts = struct.unpack(f">{count}I", file.read(4 * count))
            else:
                starts = (0,)
            codes: set[int] = set()
            for place in {_cmap_place(file, start) for start in starts} - {None}:
                assert place is not None
                file.seek(place[0])
                table = file.read(place[1])
                subtable = _best_subtable(table)
                if subtable is not None:
                    codes |= _subtable_codes(table, subtable)
            return frozenset(codes)
    except (OSError, struct.error, ValueError, IndexError):
        return frozenset()


def _cmap_place(file: BinaryIO, start: int) -> tuple[int, int] | None:
    """Where the `cmap` table of the font starting at `start` is in the file, and its length."""
    file.seek(start + 4)
    (tables,) = struct.unpack(">H", file.read(2))
    file.seek(start + 12)
    directory = file.read(16 * tables)
    for index in range(tables):
        tag, _, offset, length = struct.unpack_from(">4sIII", directory, 16 * index)
        if tag == b"cmap":
            return offset, length
    return None


def _best_subtable(table: bytes) -> int | None:
    """Where the best Unicode subtable of a `cmap` table is: a full-repertoire one (format 12)
    if it has one, else the Basic Multilingual Plane's (format 4)."""
    (subtables,) = struct.unpack_from(">H", table, 2)
    best: tuple[int, int] | None = None
    for index in range(subtables):
        platform, encoding, at = struct.unpack_from(">HHI", table, 4 + 8 * index)
        if platform not in (0, 3) or (platform == 3 and encoding not in (1, 10)):
            continue
        (fmt,) = struct.unpack_from(">H", table, at)
        rank = {12: 0, 4: 1}.get(fmt)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, at)
    return None if best is None else best[1]


def _subtable_codes(data: bytes, at: int) -> set[int]:
    (fmt,) = struct.unpack_from(">H", data, at)
    codes: set[int] = set()
    if fmt == 12:
        (groups,) = struct.unpack_from(">I", data, at + 12)
        for index in range(groups):
            first, last, glyph = struct.unpack_from(">III", data, at + 16 + 12 * index)
            codes.update(range(first + (glyph == 0), last + 1))
        return codes
    (twice,) = struct.unpack_from(">H", data, at + 6)
    count = twice // 2
    ends = struct.unpack_from(f">{count}H", data, at + 14)
    starts = struct.unpack_from(f">{count}H", data, at + 16 + twice)
    deltas = struct.unpack_from(f">{count}h", data, at + 16 + 2 * twice)
    ranges_at = at + 16 + 3 * twice
    offsets = struct.unpack_from(f">{count}H", data, ranges_at)
    for index, (first, last, delta, offset) in enumerate(
        zip(starts, ends, deltas, offsets, strict=True)
    ):
        for code in range(first, min(last, 0xFFFE) + 1):
            if offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:
                where = ranges_at + 2 * index + offset + 2 * (code - first)
                (glyph,) = struct.unpack_from(">H", data, where)
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                codes.add(code)
    return codes
