"""The PDF rendering of a timeline: A4, a header on every page (school, OFFICIAL-SENSITIVE,
case reference, page n of m), the chronology, the actions table and the checkpoint.

It uses fpdf2 (pure Python) and Noto Sans from the `fontpkg-noto-sans` package, so any Latin,
Greek or Cyrillic name renders without a system font.  Noto Sans ships as a variable font; the
regular and bold instances are cut from it once and cached in the user cache folder (they hold
no record).  Nothing here writes anything else to disk or prints.

Nothing recorded is dropped: a character the font has no glyph for (Chinese, Arabic, an emoji)
is written as a visible code, `[U+674E]`, and page 1 then says so (`UNSHOWN_NOTICE`); a tab
becomes spaces.  fpdf2's own warning about missing glyphs, which would echo the record's
characters on stderr, is silenced while a PDF is laid out.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeguarding.timeline import MARKING, REDACTION_NOTICE, Item, Timeline, visible

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_PACKAGE = "fontpkg_noto_sans"
FONT_FILE = "NotoSans[wdth,wght].ttf"
FAMILY = "NotoSans"
WEIGHTS = {"": 400, "B": 700}

MARGIN = 15.0
TIME_WIDTH = 14.0
INK = (20, 20, 20)
MUTED = (90, 90, 90)
ACCENT = (0, 90, 130)
WARN = (150, 30, 30)

#: How a character the font cannot show is written, and what page 1 then says.
PLACEHOLDER = "[U+{:04X}]"
UNSHOWN_NOTICE = (
    "Some characters could not be shown in this PDF's font and are written as [U+XXXX]; "
    "the HTML and JSON exports show them as recorded."
)
#: A tab is laid out as this many spaces (fpdf2 would drop it).
TAB = "    "
#: The loggers whose warnings could quote recorded text (fpdf2's "missing glyphs").
_QUIET_LOGGERS = ("fpdf", "fontTools")


def _variable_font() -> Path:
    return Path(str(resources.files(FONT_PACKAGE).joinpath("files", FONT_FILE)))


def _cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("safeguard", appauthor=False) / "fonts"


def static_fonts() -> dict[str, Path] | None:
    """Static regular and bold instances of the packaged font, cut once and cached.

    None when the cache folder cannot be written: the PDF then cuts them in memory (slower).
    """
    source = _variable_font()
    stamp = f"{source.stat().st_size}-v2"
    folder = _cache_dir()
    found = {style: folder / f"NotoSans-{stamp}-{weight}.ttf" for style, weight in WEIGHTS.items()}
    missing = {style: path for style, path in found.items() if not path.exists()}
    if not missing:
        return found
    try:
        folder.mkdir(parents=True, exist_ok=True)
        from fontTools.ttLib import TTFont
        from fontTools.varLib import instancer

        for style, path in missing.items():
            font = TTFont(str(source))
            # fpdf2 lays text out without shaping, so it never reads the OpenType layout
            # tables; dropping them makes cutting an instance about six times faster.
            for tag in ("GSUB", "GPOS", "GDEF"):
                if tag in font:
                    del font[tag]
            font = instancer.instantiateVariableFont(
                font, {"wght": WEIGHTS[style], "wdth": 100}, static=True
            )
            temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            try:
                font.save(str(temp))
                os.replace(temp, path)
            finally:
                temp.unlink(missing_ok=True)
    except OSError:
        return None
    return found


class _Document:
    """An FPDF subclass built lazily, so that importing this module stays cheap."""

    @staticmethod
    def make(t: Timeline, unshown: dict[str, int]) -> FPDF:
        """`unshown` collects each laid-out string that had characters replaced, and how many
        (a string laid out twice, as the header on every page, counts once)."""
        from fpdf import FPDF
        from fpdf.fonts import TTFFont

        class Chronology(FPDF):
            def normalize_text(self, text: str) -> str:
                # Every string fpdf2 lays out passes here: recorded control characters become
                # visible escapes, and characters without a glyph visible codes.
                shown = visible(text, pictures=False).replace("\t", TAB)
                font = self.current_font
                if isinstance(font, TTFFont):
                    shown, replaced = showable(shown, font.cmap)
                    if replaced:
                        unshown[shown] = replaced
                return str(super().normalize_text(shown))

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
        fonts = static_fonts()
        source = str(_variable_font())
        for style, weight in WEIGHTS.items():
            if fonts is not None:
                pdf.add_font(FAMILY, style, str(fonts[style]))
            else:
                pdf.add_font(
                    FAMILY, style, source, variations={"wght": float(weight), "wdth": 100.0}
                )
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=18)
        pdf.set_title(f"{t.reference} safeguarding chronology")
        pdf.set_author(t.produced_by)
        pdf.set_creator("safeguard")
        pdf.set_subject(MARKING)
        pdf.set_creation_date(t.produced_at)
        return pdf


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
    pdf.set_x(x)
    pdf.set_font(FAMILY, style, size)
    pdf.set_text_color(*color)
    pdf.multi_cell(pdf.w - MARGIN - x, height, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)


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
    for fact in item.facts:
        if fact.label == "Corrects":
            if nested:
                continue
            target = t.item(item.amends) if item.amends is not None else None
            if target is not None:
                _line(
                    pdf,
                    f"Corrects entry {target.id} ({target.title}, {t.when(target.at)}); "
                    "shown in full there.",
                    9.5,
                    "",
                    x,
                    ACCENT,
                )
                return
        _line(pdf, f"{fact.label}: {fact.value}", 9.5, "", x, MUTED)
    if item.text:
        _line(pdf, item.text.rstrip("\r\n"), 10, "", x)  # not a file's final line ending
    if item.observations:
        _line(pdf, f"Recorder's observations (opinion): {item.observations}", 10, "", x)
    if not nested:
        for amendment_id in item.amended_by:
            amendment = t.item(amendment_id)
            if amendment is not None:
                pdf.ln(1)
                _item(pdf, t, amendment, x + 6, nested=True)


def render(t: Timeline) -> bytes:
    """The PDF bytes of a timeline."""
    return render_counted(t)[0]


def render_counted(t: Timeline) -> tuple[bytes, int]:
    """The PDF bytes of a timeline, and how many characters are written as `[U+XXXX]` because
    the font cannot show them (a string repeated on every page counts once)."""
    with _quiet():
        data, unshown = _layout(t, notice=False)
        if unshown:  # laid out again, with the notice on page 1
            data, unshown = _layout(t, notice=True)
    return data, unshown


def _layout(t: Timeline, notice: bool) -> tuple[bytes, int]:
    unshown: dict[str, int] = {}
    pdf = _Document.make(t, unshown)
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
    _line(pdf, "Chronology", 13, "B", height=7)
    for day in t.days:
        pdf.ln(2)
        pdf.set_fill_color(225, 236, 242)
        pdf.set_font(FAMILY, "B", 10.5)
        pdf.set_x(MARGIN)
        pdf.cell(
            0, 6.5, " " + day.day.strftime("%A %d %B %Y"), fill=True, new_x="LMARGIN", new_y="NEXT"
        )
        for item in day.items:
            pdf.ln(1.5)
            if pdf.will_page_break(15):
                pdf.add_page()
            top = pdf.get_y()
            pdf.set_font(FAMILY, "B", 10)
            pdf.set_xy(MARGIN, top)
            pdf.cell(TIME_WIDTH, 5, t.local(item.at).strftime("%H:%M"))
            pdf.set_xy(MARGIN + TIME_WIDTH, top)
            _item(pdf, t, item, MARGIN + TIME_WIDTH)

    pdf.ln(5)
    _line(pdf, "Actions", 13, "B", height=7)
    if not t.actions:
        _line(pdf, "None recorded.", 10)
    else:
        _actions(pdf, t)

    pdf.ln(5)
    _line(pdf, "Checkpoint", 13, "B", height=7)
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
    return data, sum(unshown.values())


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
