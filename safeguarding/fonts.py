"""The PDF's fonts: the Noto Sans fonts shipped in `safeguarding/fonts` (static regular and bold
files from Debian's fonts-noto-core, OFL, pinned by sha256 in the tests), then Chinese,
Japanese and Korean from Debian's system fonts where they are installed.

Nothing here writes anything: which characters a font has is read from its `cmap` table, in
memory, once per process and only for the fonts a document's characters need.
"""

from __future__ import annotations

import struct
from functools import cache
from importlib import resources
from pathlib import Path

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
SHIPPED = (
    ("Noto Sans", "NotoSans-Regular.ttf"),
    *((f"Noto Sans {script}", f"NotoSans{script}-Regular.ttf") for script in SCRIPTS),
    ("Noto Sans Symbols2", "NotoSansSymbols2-Regular.ttf"),
)

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
    """Whether a font of the PDF has a glyph for the character `code`."""
    return _showable(code)


@cache
def _showable(code: int) -> bool:
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
    none when the file cannot be read as a font."""
    try:
        data = path.read_bytes()
        if data[:4] == b"ttcf":
            (count,) = struct.unpack_from(">I", data, 8)
            starts = struct.unpack_from(f">{count}I", data, 12)
        else:
            starts = (0,)
        codes: set[int] = set()
        for table in {_cmap_table(data, start) for start in starts} - {None}:
            assert table is not None
            codes |= _subtable_codes(data, table)
        return frozenset(codes)
    except (OSError, struct.error, ValueError, IndexError):
        return frozenset()


def _cmap_table(data: bytes, start: int) -> int | None:
    """Where the best Unicode subtable of the font starting at `start` is: a full-repertoire
    one (format 12) if it has one, else the Basic Multilingual Plane's (format 4)."""
    (tables,) = struct.unpack_from(">H", data, start + 4)
    for index in range(tables):
        tag, _, offset, _ = struct.unpack_from(">4sIII", data, start + 12 + 16 * index)
        if tag == b"cmap":
            break
    else:
        return None
    (subtables,) = struct.unpack_from(">H", data, offset + 2)
    best: tuple[int, int] | None = None
    for index in range(subtables):
        platform, encoding, at = struct.unpack_from(">HHI", data, offset + 4 + 8 * index)
        if platform not in (0, 3) or (platform == 3 and encoding not in (1, 10)):
            continue
        (fmt,) = struct.unpack_from(">H", data, offset + at)
        rank = {12: 0, 4: 1}.get(fmt)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, offset + at)
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
