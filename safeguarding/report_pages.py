"""The governors' report as a page: HTML (a Mako template, its charts inline SVG drawn here from
the layout's numbers) and PDF (Typst, from `templates/report.typ`, its charts rectangles).

As for a case's export, the report reaches the templates as data only: every string is escaped
in the HTML and placed as a string in Typst, never as markup.  The school and the period are on
every page: in the PDF's page header, and in the HTML page's print margins.  The page loads
nothing and runs nothing.  Nothing here reads the vault or writes a file.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from safeguarding import fonts
from safeguarding.html import CSP, template
from safeguarding.report_layout import Layout

STYLE = """
:root { color: #141414; background: #fff; font-family: "Noto Sans", "Segoe UI", Arial,
  sans-serif; font-size: 11pt; line-height: 1.4; }
body { max-width: 52em; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 1.5em; margin: 0.6em 0 0.4em; }
h2 { font-size: 1.25em; margin: 1.4em 0 0.4em; border-block-end: 1px solid #5a5a5a; }
h3 { font-size: 1.05em; margin: 1em 0 0.3em; }
.marking { font-weight: bold; color: #961e1e; letter-spacing: 0.04em; font-size: 0.85em; }
.notice { font-weight: bold; color: #7a4a00; }
.note { color: #5a5a5a; font-size: 0.9em; }
table { border-collapse: collapse; width: 100%; margin: 0.3em 0 0.8em; }
th, td { text-align: left; vertical-align: top; padding: 0.2em 0.5em;
  border-block-end: 1px solid #ccc; }
th { background: #e1ecf2; }
td.n, th.n { text-align: right; white-space: nowrap; }
figure { margin: 0.5em 0 1em; break-inside: avoid-page; }
figcaption { font-weight: bold; margin-bottom: 0.3em; }
svg { max-width: 100%; height: auto; }
@page { size: A4; margin: 18mm 14mm; }
@media print {
  :root { font-size: 10pt; }
  body { max-width: none; margin: 0; padding: 0; }
  h2 { break-after: avoid-page; }
  tr { break-inside: avoid-page; }
}
"""

#: The colours of a bar, and of a bar for a count of fewer than 3.
BAR, FEWER_BAR = "#005a82", "#d9a441"
ROW, LABEL_WIDTH, BAR_SPACE, COLUMN, COLUMN_HEIGHT = 22, 230, 300, 64, 140
#: A label's line: its height, and its most characters (at 12px, a character of Noto Sans is
#: at most 0.6em, 7.2px, wide, so a line of 30 fits in the label's 222px).
LINE, LABEL_CHARACTERS = 15, 30


def _css_string(text: str) -> str:
    """`text` as a CSS string: nothing in it can end the string or the stylesheet."""
    escaped = "".join(
        f"\\{ord(char):X} " if char in '\\"<>\n\r' or ord(char) < 32 else char for char in text
    )
    return f'"{escaped}"'


def _style(doc: Layout) -> str:
    """The page's stylesheet, with the school and the period in every printed page's margin."""
    heading = _css_string(f"{doc['school']} · {doc['period']} · {doc['marking']}")
    return STYLE + (
        "@page { @top-center { content: " + heading + "; font-size: 8pt; color: #5a5a5a; }\n"
        '  @bottom-right { content: "page " counter(page) " of " counter(pages); '
        "font-size: 8pt; } }\n"
    )


def svg_chart(c: dict[str, Any]) -> dict[str, Any]:
    """Where each bar of a chart goes in its SVG picture: rectangles and their labels."""
    longest = max(c["longest"], 1)
    bars = []
    if c["columns"]:
        for n, b in enumerate(c["bars"]):
            height = round(COLUMN_HEIGHT * b["length"] / longest)
            x = n * COLUMN + 6
            bars.append(
                {
                    **b,
                    "x": x,
                    "y": 20 + COLUMN_HEIGHT - height,
                    "w": COLUMN - 12,
                    "h": height,
                    "tx": x + (COLUMN - 12) / 2,
                    "ty": 14 + COLUMN_HEIGHT - height,
                    "lx": x + (COLUMN - 12) / 2,
                    "ly": COLUMN_HEIGHT + 38,
                }
            )
        size = (COLUMN * len(c["bars"]), COLUMN_HEIGHT + 46)
    else:
        bars, height = _horizontal(c["bars"], longest)
        size = (LABEL_WIDTH + BAR_SPACE + 110, height)
    return {
        "title": c["title"],
        "columns": c["columns"],
        "bars": bars,
        "width": size[0],
        "height": size[1],
        "colour": BAR,
        "fewer_colour": FEWER_BAR,
    }


def label_lines(label: str) -> list[str]:
    """A bar's label in lines that fit left of the bars, at most `LABEL_CHARACTERS` each."""
    import textwrap

    return textwrap.wrap(label, LABEL_CHARACTERS, break_on_hyphens=False) or [""]


def _horizontal(bars: list[dict[str, Any]], longest: int) -> tuple[list[dict[str, Any]], int]:
    """Horizontal bars, each row as tall as its label's lines; and the chart's height."""
    placed: list[dict[str, Any]] = []
    y = 4
    for b in bars:
        lines = label_lines(b["label"])
        row = max(ROW, LINE * len(lines) + 8)
        width = round(BAR_SPACE * b["length"] / longest)
        middle = y + (row - 8) / 2
        top = middle - LINE * (len(lines) - 1) / 2 + 4
        placed.append(
            {
                **b,
                "x": LABEL_WIDTH,
                "y": middle - (ROW - 8) / 2,
                "w": width,
                "h": ROW - 8,
                "tx": LABEL_WIDTH + width + 6,
                "ty": middle + 4,
                "lx": LABEL_WIDTH - 8,
                "lines": [(top + LINE * n, line) for n, line in enumerate(lines)],
            }
        )
        y += row
    return placed, y + 4


def render_html(doc: Layout) -> str:
    style = _style(doc)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return str(
        template("report.html.mako").render(
            doc=doc, style=style, csp=CSP.format(digest=digest), svg_chart=svg_chart
        )
    )


def render_pdf(doc: Layout, produced_at: datetime) -> bytes:
    import typst

    data = {**doc, "fonts": fonts.families()}
    try:
        return bytes(
            typst.compile(
                _typst_template(),
                font_paths=_fonts(),
                sys_inputs={"document": json.dumps(data, ensure_ascii=False)},
                pdf_standards=["a-2b"],
                timestamp=produced_at.astimezone(UTC).replace(microsecond=0),
            )
        )
    except typst.TypstError:
        raise RuntimeError("the PDF template could not lay out this report") from None


@cache
def _typst_template() -> bytes:
    return resources.files("safeguarding").joinpath("templates", "report.typ").read_bytes()


@cache
def _fonts() -> Any:
    import typst

    return typst.Fonts(
        include_system_fonts=False,
        include_embedded_fonts=False,
        font_paths=[str(folder) for folder in fonts.folders()],
    )
