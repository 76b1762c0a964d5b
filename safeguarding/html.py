"""The HTML rendering of a timeline: one self-contained, semantic page (headings, a definition
list for the header, an `<article>` per entry, a table of actions) with print CSS for A4.

Laid out by a Mako template (Mako comes with Alembic) with every value escaped.  The page
holds no script and loads nothing: its Content-Security-Policy forbids both, allowing only its
own stylesheet by hash.  Recorded control characters are shown as visible symbols.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from safeguarding import document
from safeguarding.timeline import Timeline, visible

if TYPE_CHECKING:
    from mako.template import Template

STYLE = """
:root { color: #141414; background: #fff; font-family: "Noto Sans", "Segoe UI", Arial,
  sans-serif; font-size: 11pt; line-height: 1.4; }
body { max-width: 52em; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 1.5em; margin: 0.6em 0 0.4em; }
h2 { font-size: 1.25em; margin: 1.4em 0 0.4em; border-block-end: 1px solid #5a5a5a; }
h3 { font-size: 1.05em; background: #e1ecf2; padding: 0.15em 0.4em; margin: 1em 0 0.4em; }
h4, h5, h6 { font-size: 1em; margin: 0; display: inline; }
.marking { font-weight: bold; color: #961e1e; letter-spacing: 0.04em; font-size: 0.85em; }
.notice { font-weight: bold; color: #961e1e; }
dl.header { display: grid; grid-template-columns: max-content 1fr; gap: 0.15em 1.5em; }
dl.header dt { font-weight: bold; }
dl.header dd, dl.header dd p { margin: 0; }
article.entry { margin: 0.6em 0 0.9em 4.5em; break-inside: avoid-page; }
article.entry > header time { float: left; margin-left: -4.5em; font-weight: bold; }
article.amendment { margin: 0.5em 0 0 1.5em; padding-left: 0.6em;
  border-left: 3px solid #005a82; }
article.amendment > header h5, article.amendment > header h6 { color: #005a82; }
.late { color: #961e1e; margin: 0; }
.stub { color: #005a82; margin: 0.2em 0; }
dl.facts { margin: 0.2em 0; color: #5a5a5a; }
dl.facts dt { display: inline; font-style: italic; }
dl.facts dt::after { content: ": "; }
dl.facts dd { display: inline; margin: 0; }
dl.facts dd::after { content: ""; display: block; }
p.text { white-space: pre-wrap; margin: 0.3em 0; }
p.label { font-weight: bold; margin: 0.3em 0 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.2em 0.5em;
  border-block-end: 1px solid #ccc; }
th { background: #e1ecf2; }
td p.text { margin: 0; }
td:first-child, td:nth-child(4), td:nth-child(5) { white-space: nowrap; }
tr.overdue td:last-child { color: #961e1e; font-weight: bold; }
@page { size: A4; margin: 15mm 14mm; }
@media print {
  :root { font-size: 10pt; }
  body { max-width: none; margin: 0; padding: 0; }
  h2, h3 { break-after: avoid-page; }
  thead { display: table-header-group; }
  tr { break-inside: avoid-page; }
}
"""

#: Nothing may load or run: no script, no image, no font, no frame, no form, no base; only the
#: page's own stylesheet, named by its hash.
CSP = (
    "default-src 'none'; script-src 'none'; img-src 'none'; font-src 'none'; "
    "connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'; "
    "style-src 'sha256-{digest}'"
)

#: The language of a paragraph written mostly in one of these scripts (the first word of its
#: letters' Unicode names), where the script names the language.  Other text is English, as
#: the page is.  Arabic script is left out: it writes Arabic, Urdu, Persian and more.
LANGUAGES = {
    "HEBREW": "he",
    "THAI": "th",
    "GREEK": "el",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
    "TAMIL": "ta",
    "GURMUKHI": "pa",
    "GUJARATI": "gu",
    "SINHALA": "si",
    "TELUGU": "te",
    "KANNADA": "kn",
    "MALAYALAM": "ml",
    "ORIYA": "or",
    "LAO": "lo",
    "KHMER": "km",
    "MYANMAR": "my",
    "HANGUL": "ko",
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
}


def render(t: Timeline) -> str:
    """The HTML page of a timeline."""
    doc = document.build(t, visible)
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    return str(
        template().render(
            doc=doc,
            style=STYLE,
            csp=CSP.format(digest=digest),
            direction=direction,
            lang=lang,
        )
    )


def direction(run: dict[str, Any]) -> str:
    """A paragraph's `dir`: rtl when most of its letters read right to left, ltr when it only
    begins with such a letter (an English sentence that starts with an Arabic name), else auto.
    """
    if run["rtl"]:
        return "rtl"
    text: str = run["text"]
    first = next((c for c in text if unicodedata.bidirectional(c) in ("L", "R", "AL")), "")
    if first and unicodedata.bidirectional(first) != "L":
        return "ltr"
    return "auto"


def lang(run: dict[str, Any]) -> str:
    """A ` lang="…"` attribute for a paragraph mostly in a script that names its language."""
    counts: dict[str, int] = {}
    letters = 0
    for char in run["text"]:
        if char.isalpha():
            letters += 1
            script = unicodedata.name(char, "").split(" ", 1)[0]
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return ""
    script, count = max(counts.items(), key=lambda pair: pair[1])
    code = LANGUAGES.get(script)
    if code is None or 2 * count <= letters:
        return ""
    return f' lang="{code}"'


@cache
def template(name: str = "timeline.html.mako") -> Template:
    """A page template of `safeguarding/templates`, every expression escaped."""
    from mako.template import Template

    source = resources.files("safeguarding").joinpath("templates", name)
    # Escaping is on for every expression: `h` is the default filter (ruff's S702 asks for it).
    return Template(  # noqa: S702
        source.read_text(encoding="utf-8"),
        default_filters=["str", "h"],
        strict_undefined=True,
    )
