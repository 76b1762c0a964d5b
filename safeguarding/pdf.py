"""The PDF rendering of a timeline: A4, a header on every page (school, OFFICIAL-SENSITIVE,
case reference, page n of m), the chronology, the actions table and the checkpoint.

It uses fpdf2 (pure Python) and fonts that ship inside Python packages, so no system font is
needed: Noto Sans (Latin, Greek, Cyrillic) and, for a character it has no glyph for, the Noto
Sans fonts of `manimgx-fonts` for Arabic and Urdu, Bengali, Gurmukhi, Gujarati, Devanagari,
Tamil, Hebrew and a dozen more scripts, Noto Sans Symbols and Noto Emoji (in outline), and then
WenQuanYi Micro Hei (`paperang-p2-fonts-cjk`) for Chinese, Japanese and Korean.  Each string
that holds a character from a fallback font is shaped with HarfBuzz (`uharfbuzz`), so Arabic
letters join and read right to left and Indic conjuncts form; every other string is laid out
unshaped (shaping costs about four times as much).  A document adds only the fallback fonts its
text needs, so one in Latin, Greek or Cyrillic embeds Noto Sans alone.  The variable fonts' regular
and bold instances are cut once and cached in the user cache folder (they hold no record).
Nothing here writes anything else to disk or prints.

Nothing recorded is dropped: a character no font has a glyph for (Tibetan, Cherokee, a hieroglyph)
is written as a visible code, `[U+0F40]`, and page 1 then says so (`UNSHOWN_NOTICE`); a tab
becomes spaces.  fpdf2's own warning about missing glyphs, which would echo the record's
characters on stderr, is silenced while a PDF is laid out.
"""

from __future__ import annotations

import logging
import os
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeguarding.timeline import MARKING, REDACTION_NOTICE, Item, Timeline, stub, visible

if TYPE_CHECKING:
    from fpdf import FPDF

FAMILY = "NotoSans"
WEIGHTS = {"": 400, "B": 700}


@dataclass(frozen=True)
class Face:
    """A packaged font: the package, the file inside it, and the family the PDF names it by.

    A variable font (`variable`) is cut into static regular and bold instances; a static one is
    used as it is, bold and regular alike, with `index` choosing the font of a collection.
    `shaped` keeps the OpenType layout tables when an instance is cut: only a fallback font's
    text is shaped, and dropping them makes cutting Noto Sans about six times faster."""

    package: str
    file: str
    family: str
    variable: bool = True
    shaped: bool = True
    index: int = 0


MAIN = Face("manimgx_fonts", "NotoSans[wght].ttf", FAMILY, shaped=False)


def _noto(script: str) -> Face:
    return Face("manimgx_fonts", f"NotoSans{script}[wght].ttf", f"NotoSans{script}")


#: Tried in this order for a character Noto Sans has no glyph for: the scripts of the
#: languages most spoken in English schools first, then symbols and emoji, then Chinese,
#: Japanese and Korean (WenQuanYi Micro Hei).
FALLBACKS = (
    *(
        _noto(script)
        for script in (
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
        )
    ),
    _noto("Symbols"),
    Face("manimgx_fonts", "NotoEmoji[wght].ttf", "NotoEmoji"),
    Face(
        "paperang_p2_fonts_cjk",
        "fonts/wqy-microhei.ttc",
        "WenQuanYiMicroHei",
        variable=False,
        shaped=False,
    ),
)

MARGIN = 15.0
TIME_WIDTH = 14.0
INK = (20, 20, 20)
MUTED = (90, 90, 90)
ACCENT = (0, 90, 130)
WARN = (150, 30, 30)
#: Heights (mm) of a section heading, a day's band and a line of text, and the least room an
#: entry needs to start on a page (its time and heading and a line or two).
HEADING = 7.0
DAY_BAND = 6.5
LINE = 5.0
ENTRY_START = 15.0

#: How a character no font can show is written, and what page 1 then says.
PLACEHOLDER = "[U+{:04X}]"
UNSHOWN_NOTICE = (
    "Some characters could not be shown in this PDF's fonts and are written as [U+XXXX]; "
    "the HTML and JSON exports show them as recorded."
)
#: A tab is laid out as this many spaces (fpdf2 would drop it).
TAB = "    "
#: The loggers whose warnings could quote recorded text (fpdf2's "missing glyphs").
_QUIET_LOGGERS = ("fpdf", "fontTools")
#: Whether the paragraph `_line` is laying out reads right to left (see `right_to_left`).
_RIGHT_TO_LEFT: ContextVar[bool] = ContextVar("right_to_left", default=False)


def _packaged(face: Face) -> Path:
    place = resources.files(face.package)
    for part in face.file.split("/"):
        place = place.joinpath(part)
    return Path(str(place))


def _cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("safeguard", appauthor=False) / "fonts"


#: The fonts a PDF is laid out with: family -> style ("" or "B") -> file.
Fonts = dict[str, dict[str, Path]]


def static_fonts(faces: tuple[Face, ...] = (MAIN,)) -> Fonts | None:
    """The regular and bold fonts of `faces`: a variable font's instances are cut once and
    cached in the user cache folder (they hold no record); a static font is its packaged file.

    None when the cache folder cannot be written: the PDF then cuts them in memory (slower).
    """
    folder = _cache_dir()
    found: Fonts = {}
    missing: list[tuple[Face, str, Path]] = []
    for face in faces:
        source = _packaged(face)
        if not face.variable:
            found[face.family] = dict.fromkeys(WEIGHTS, source)
            continue
        stamp = f"{source.stat().st_size}-v3"
        found[face.family] = {}
        for style, weight in WEIGHTS.items():
            path = folder / f"{face.family}-{stamp}-{weight}.ttf"
            found[face.family][style] = path
            if not path.exists():
                missing.append((face, style, path))
    if not missing:
        return found
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for face, style, path in missing:
            _cut(face, style, path)
    except OSError:
        return None
    return found


def _cut(face: Face, style: str, path: Path) -> None:
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = TTFont(str(_packaged(face)))
    if not face.shaped:
        for tag in ("GSUB", "GPOS", "GDEF"):
            if tag in font:
                del font[tag]
    font = instancer.instantiateVariableFont(font, _location(font["fvar"].axes, style), static=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        font.save(str(temp))
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _location(axes: Any, style: str) -> dict[str, float]:
    """Where on a variable font's axes (its `fvar` axes) the instance of `style` is cut: the
    weight, and every other axis at its default."""
    return {
        axis.axisTag: (
            min(max(float(WEIGHTS[style]), axis.minValue), axis.maxValue)
            if axis.axisTag == "wght"
            else axis.defaultValue
        )
        for axis in axes
    }


@cache
def _axes(face: Face) -> tuple[Any, ...]:
    from fontTools.ttLib import TTFont

    font = TTFont(str(_packaged(face)), lazy=True)
    try:
        return tuple(font["fvar"].axes)
    finally:
        font.close()


@cache
def _cmap(face: Face) -> frozenset[int]:
    """The characters a font has a glyph for (read once per process)."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(_packaged(face)), lazy=True, fontNumber=face.index)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


@cache
def _fallback_for(code: int) -> Face | None:
    return next((face for face in FALLBACKS if code in _cmap(face)), None)


@dataclass
class _Tally:
    """What laying a document out found: each laid-out string that had characters replaced,
    and how many (a string laid out twice, as the header on every page, counts once), and the
    fallback fonts it needs, and whether it holds a character no font has."""

    unshown: dict[str, int] = field(default_factory=dict)
    needed: set[str] = field(default_factory=set)
    nowhere: bool = False


class _Document:
    """An FPDF subclass built lazily, so that importing this module stays cheap."""

    @staticmethod
    def make(t: Timeline, tally: _Tally, fallbacks: tuple[Face, ...]) -> FPDF:
        """A document in Noto Sans with `fallbacks` (and then shaped); `tally` collects what
        laying it out finds."""
        from fpdf import FPDF
        from fpdf.enums import TextDirection
        from fpdf.fonts import TTFFont

        ltr, rtl = TextDirection.LTR, TextDirection.RTL

        known = frozenset().union(*(_cmap(face) for face in fallbacks))

        class Chronology(FPDF):
            def normalize_text(self, text: str) -> str:
                # Every string fpdf2 lays out passes here: recorded control characters become
                # visible escapes, and characters without a glyph visible codes.
                shown = visible(text, pictures=False).replace("\t", TAB)
                font = self.current_font
                if isinstance(font, TTFFont):
                    glyphs = _Glyphs(font.cmap, known, tally)
                    shown, replaced = showable(shown, glyphs)
                    if replaced:
                        tally.unshown[shown] = replaced
                    if fallbacks:
                        # Only a string with characters from a fallback font is shaped: shaping
                        # costs about four times as much as laying out without.
                        self.text_shaping = shaping if glyphs.from_fallback else None
                        if shaping is not None:
                            shaping["direction"] = rtl if _RIGHT_TO_LEFT.get() else ltr
                return str(super().normalize_text(shown))

            def _render_styled_text_line(self, *args: Any, **kwargs: Any) -> bool:
                # fpdf2 2.8 sets the font for a line that begins in a fallback font inside the
                # line's own q/Q, yet marks it set for the page: the next line, drawn in that
                # font without setting it, would show in whatever font the Q restored (another
                # line's glyph codes in the wrong font).  Setting it for the page first, as fpdf2
                # does for a line that begins in the document's font, avoids that.
                if fallbacks and not self.current_font_is_set_on_page and self.current_font:
                    self._out(self._set_font_for_page(self.current_font, self.font_size_pt))
                return bool(super()._render_styled_text_line(*args, **kwargs))

            def header(self) -> None:
                self.set_font(FAMILY, "", 8.5)
                self.set_text_color(*MUTED)
                width = (self.w - 2 * MARGIN) / 3
                self.cell(width, 5, t.school, align="L")
                self.set_text_color(*WARN)
                self.set_font(FAMILY, "B", 8.5)
                self.cell(width, 5, MARKING + (" · REDACTED" if t.redacted else ""), align="C")
                self.set_text_color(*MUTED)
                self.set_font(FAMILY, "", 8.5)
                self.cell(
                    width,
                    5,
                    f"{t.reference} · page {self.page_no()} of {{nb}}",
                    align="R",
                    new_x="LMARGIN",
                    new_y="NEXT",
                )
                self.set_draw_color(*MUTED)
                self.line(MARGIN, self.get_y() + 1, self.w - MARGIN, self.get_y() + 1)
                self.ln(5)
                self.set_text_color(*INK)

            def footer(self) -> None:
                self.set_y(-12)
                self.set_font(FAMILY, "", 7.5)
                self.set_text_color(*MUTED)
                self.cell(
                    0,
                    4,
                    f"Produced {t.when(t.produced_at)} by {t.produced_by} · checkpoint "
                    f"{t.checkpoint_short} · {MARKING}",
                    align="C",
                )
                self.set_text_color(*INK)

        pdf = Chronology(orientation="portrait", unit="mm", format="A4")
        fonts = static_fonts((MAIN, *fallbacks))
        for face in (MAIN, *fallbacks):
            for style in WEIGHTS:
                if fonts is not None:
                    path, variations = fonts[face.family][style], None
                else:
                    path = _packaged(face)
                    variations = _location(_axes(face), style) if face.variable else None
                pdf.add_font(
                    face.family,
                    style,
                    str(path),
                    variations=variations,
                    collection_font_number=face.index,
                )
        if fallbacks:
            pdf.set_fallback_fonts([face.family for face in fallbacks])
            # Left to right, as the document is: a line that begins in Arabic still reads in
            # the order it was written, with each Arabic run itself right to left.  Only a
            # paragraph of an entry that is all Arabic or Hebrew is laid out right to left.
            pdf.set_text_shaping(True, direction="ltr")
        shaping = pdf.text_shaping
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=18)
        pdf.set_title(f"{t.reference} safeguarding chronology")
        pdf.set_author(t.produced_by)
        pdf.set_creator("safeguard")
        pdf.set_subject(MARKING)
        pdf.set_creation_date(t.produced_at)
        return pdf


class _Glyphs:
    """The characters a document can show: those of its font (`cmap`), and of the fallback
    fonts it has (`known`).  Asking about one it cannot show notes, in `tally`, the fallback
    font that has it (shown when laid out again) or that no font has it."""

    def __init__(self, cmap: Any, known: frozenset[int], tally: _Tally) -> None:
        self.cmap, self.known, self.tally = cmap, known, tally
        #: Whether a character asked about is shown from a fallback font.
        self.from_fallback = False

    def __contains__(self, code: object) -> bool:
        if code in self.cmap:
            return True
        if code in self.known:
            self.from_fallback = True
            return True
        if isinstance(code, int):
            face = _fallback_for(code)
            if face is None:
                self.tally.nowhere = True
            else:
                self.tally.needed.add(face.family)
        return False


def showable(text: str, cmap: Any) -> tuple[str, int]:
    """`text` with every character `cmap` has no glyph for written as `[U+XXXX]`, and how many
    were; line breaks stay."""
    missing = 0
    parts: list[str] = []
    for char in text:
        if char == "\n" or ord(char) in cmap:
            parts.append(char)
        else:
            parts.append(PLACEHOLDER.format(ord(char)))
            missing += 1
    return ("".join(parts) if missing else text), missing


@contextmanager
def _quiet() -> Iterator[None]:
    """fpdf2 and fontTools warnings off: a "missing glyphs" warning would quote the record."""
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _line(
    pdf: FPDF,
    text: str,
    size: float = 10,
    style: str = "",
    x: float = MARGIN,
    color: tuple[int, int, int] = INK,
    height: float = 5.0,
) -> None:
    pdf.set_font(FAMILY, style, size)
    pdf.set_text_color(*color)
    for lines, rtl in _paragraphs(text):
        pdf.set_x(x)
        token = _RIGHT_TO_LEFT.set(rtl)
        try:
            pdf.multi_cell(
                pdf.w - MARGIN - x,
                height,
                lines,
                align="R" if rtl else "L",
                new_x="LMARGIN",
                new_y="NEXT",
            )
        finally:
            _RIGHT_TO_LEFT.reset(token)
    pdf.set_text_color(*INK)


def right_to_left(text: str) -> bool | None:
    """Whether `text` reads right to left: most of its letters are Arabic, Hebrew or another
    right-to-left script; None when it has no letter (digits, punctuation, nothing).

    Most letters rather than the first (Unicode's default): a DSL writes in English, and an
    English sentence that begins with a name in Arabic script ("عائشة said her teacher
    messaged her") reads left to right."""
    left = right = 0
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            left += 1
        elif kind in ("R", "AL"):
            right += 1
    if not left and not right:
        return None
    return right > left


def _paragraphs(text: str) -> list[tuple[str, bool]]:
    """`text` as runs of lines that read the same way, and whether each reads right to left.
    A line with no strong character goes with the run before it, so text in one direction
    (nearly all text) stays one run, laid out as before."""
    runs: list[tuple[list[str], bool]] = []
    for line in text.split("\n"):
        rtl = right_to_left(line)
        if runs and (rtl is None or rtl == runs[-1][1]):
            runs[-1][0].append(line)
        else:
            runs.append(([line], bool(rtl)))
    return [("\n".join(lines), rtl) for lines, rtl in runs]


def _keep(pdf: FPDF, height: float) -> None:
    """A new page unless `height` more fits on this one: a heading is never the last line of a
    page with what it heads on the next."""
    if pdf.will_page_break(height):
        pdf.add_page()


def _facts(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    label_width = 34.0
    for label, value in rows:
        top = pdf.get_y()
        pdf.set_font(FAMILY, "B", 10)
        pdf.set_x(MARGIN)
        pdf.cell(label_width, 5.5, label)
        pdf.set_font(FAMILY, "", 10)
        pdf.set_xy(MARGIN + label_width, top if pdf.get_y() >= top else pdf.get_y())
        pdf.multi_cell(
            pdf.w - 2 * MARGIN - label_width,
            5.5,
            value or "—",
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )


def _header_facts(t: Timeline) -> list[tuple[str, str]]:
    category = t.category_code
    if t.category_title:
        category = f"{t.category_title} ({t.category_code})"
    status = t.status if t.status == t.stage else f"{t.status} ({t.stage})"
    if t.outcome:
        status += f", outcome: {t.outcome}"
    next_text = t.next_title
    if t.next_due is not None:
        next_text += f", by the end of {t.next_due.strftime('%a %d %b %Y')}"
    rows = [("School", t.school), ("Category", category)]
    if t.section:
        rows.append(("Policy section", t.section))
    rows += [
        ("Subject(s)", "\n".join(f"{name} ({role})" for name, role in t.subjects)),
        ("Status", status),
        ("Opened", t.when(t.opened_at)),
        ("Closed", t.when(t.closed_at) if t.closed_at else "—"),
        ("Referral", "\n".join(t.referrals) or "none recorded"),
        ("Next", next_text),
        ("Overdue", "\n".join(t.overdue) or "nothing"),
    ]
    return rows


def _item(pdf: FPDF, t: Timeline, item: Item, x: float, nested: bool = False) -> None:
    head = f"{item.title} · entry {item.id} · {item.author}"
    if nested:
        head = f"Corrected by entry {item.id} · {item.author} · {t.when(item.at)}"
    _line(pdf, head, 10, "B", x, ACCENT if nested else INK)
    if item.late:
        _line(pdf, f"Recorded late, {t.when(item.recorded_at)}", 9, "", x, WARN)
    if not nested and (pointer := stub(t, item)) is not None:
        for line in pointer:
            _line(pdf, line, 9.5, "", x, ACCENT)
        return
    for fact in item.facts:
        if nested and fact.label == "Corrects":
            continue
        _line(pdf, f"{fact.label}: {fact.value}", 9.5, "", x, MUTED)
    if item.text:
        _line(pdf, item.text.rstrip("\r\n"), 10, "", x)  # not a file's final line ending
    if item.observations:
        observations = item.observations.rstrip("\r\n")
        _line(pdf, f"Recorder's observations (opinion): {observations}", 10, "", x)
    # A correction that was itself corrected shows that correction beneath it, and so on.
    for amendment_id in item.amended_by:
        amendment = t.item(amendment_id)
        if amendment is not None and amendment_id > item.id:
            pdf.ln(1)
            _keep(pdf, 2 * LINE)  # "Corrected by entry N" with its first line
            _item(pdf, t, amendment, x + 6, nested=True)


def render(t: Timeline) -> bytes:
    """The PDF bytes of a timeline."""
    return render_counted(t)[0]


def render_counted(t: Timeline) -> tuple[bytes, int]:
    """The PDF bytes of a timeline, and how many characters are written as `[U+XXXX]` because
    no font can show them (a string repeated on every page counts once).

    Laid out with Noto Sans and the fallback fonts the timeline's text needs, and again, with
    the notice on page 1, when it holds a character no font has."""
    with _quiet():
        needed = _scan(t)
        data, tally = _layout(t, _faces(needed), notice=False)
        if tally.unshown:  # again, with any fallback font the scan missed, and the notice
            data, tally = _layout(t, _faces(needed | tally.needed), notice=tally.nowhere)
    return data, sum(tally.unshown.values())


def _faces(families: set[str]) -> tuple[Face, ...]:
    return tuple(face for face in FALLBACKS if face.family in families)


def _scan(t: Timeline) -> set[str]:
    """The fallback fonts (families) the characters of the timeline's text need."""
    return {face.family for face in fallbacks_for(t)}


def fallbacks_for(*values: object) -> tuple[Face, ...]:
    """The fallback fonts the characters of every string in `values` need, in fallback order."""
    codes = {ord(char) for text in _strings(values) for char in text} - _cmap(MAIN)
    needed = {face for code in codes if (face := _fallback_for(code)) is not None}
    return tuple(face for face in FALLBACKS if face in needed)


def _strings(value: object) -> Iterator[str]:
    """Every string in a timeline, its dataclasses, tuples and dicts."""
    if isinstance(value, str):
        yield value
    elif is_dataclass(value) and not isinstance(value, type):
        for item in fields(value):
            yield from _strings(getattr(value, item.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


def _layout(t: Timeline, fallbacks: tuple[Face, ...], notice: bool) -> tuple[bytes, _Tally]:
    tally = _Tally()
    pdf = _Document.make(t, tally, fallbacks)
    pdf.add_page()
    _line(pdf, f"Safeguarding chronology: {t.reference}", 16, "B", height=8)
    pdf.ln(1)
    if t.redacted:
        _line(pdf, REDACTION_NOTICE, 10, "B", color=WARN)
        pdf.ln(1)
    if notice:
        _line(pdf, UNSHOWN_NOTICE, 10, "B", color=WARN)
        pdf.ln(1)
    _facts(pdf, _header_facts(t))

    pdf.ln(4)
    _keep(pdf, HEADING + 2 + DAY_BAND + ENTRY_START)
    _line(pdf, "Chronology", 13, "B", height=HEADING)
    for day in t.days:
        pdf.ln(2)
        _keep(pdf, DAY_BAND + ENTRY_START)
        pdf.set_fill_color(225, 236, 242)
        pdf.set_font(FAMILY, "B", 10.5)
        pdf.set_x(MARGIN)
        pdf.cell(
            0,
            DAY_BAND,
            " " + day.day.strftime("%A %d %B %Y"),
            fill=True,
            new_x="LMARGIN",
            new_y="NEXT",
        )
        for item in day.items:
            pdf.ln(1.5)
            _keep(pdf, ENTRY_START)
            top = pdf.get_y()
            pdf.set_font(FAMILY, "B", 10)
            pdf.set_xy(MARGIN, top)
            pdf.cell(TIME_WIDTH, 5, t.local(item.at).strftime("%H:%M"))
            pdf.set_xy(MARGIN + TIME_WIDTH, top)
            _item(pdf, t, item, MARGIN + TIME_WIDTH)

    pdf.ln(5)
    # The heading, the table's headings and its first row.
    _keep(pdf, HEADING + 3 * LINE)
    _line(pdf, "Actions", 13, "B", height=HEADING)
    if not t.actions:
        _line(pdf, "None recorded.", 10)
    else:
        _actions(pdf, t)

    pdf.ln(5)
    _keep(pdf, HEADING + 3 * LINE)  # the heading and its three lines, together
    _line(pdf, "Checkpoint", 13, "B", height=HEADING)
    _line(
        pdf,
        f"{t.checkpoint_short} (entry {t.checkpoint.seq} of the vault's chronology). Check "
        f"this copy against the vault with: safeguard verify --checkpoint {t.checkpoint_short}",
        10,
    )
    _line(
        pdf,
        f"Produced {t.when(t.produced_at)} by {t.produced_by} with safeguard. {MARKING}."
        + (" REDACTED." if t.redacted else ""),
        10,
    )
    data = bytes(pdf.output())
    return data, tally


def _actions(pdf: FPDF, t: Timeline) -> None:
    pdf.set_font(FAMILY, "", 9.5)
    widths: Any = (8, 84, 36, 24, 28)
    with pdf.table(
        col_widths=widths,
        text_align=("RIGHT", "LEFT", "LEFT", "LEFT", "LEFT"),
        line_height=5,
        headings_style=_heading_style(),
        first_row_as_headings=True,
        repeat_headings=1,
    ) as table:
        table.row(("#", "Action", "Owner", "Due", "Status"))
        for a in t.actions:
            if a.done_at is not None:
                status = f"done {t.local(a.done_at).strftime('%Y-%m-%d')}"
            elif a.overdue:
                status = "OVERDUE"
            else:
                status = "open"
            table.row((str(a.number), a.text, a.owner, a.due.isoformat(), status))


def _heading_style() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(family=FAMILY, emphasis="BOLD", fill_color=(225, 236, 242))
