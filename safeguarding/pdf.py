"""The PDF rendering of a timeline: A4, a header on every page (school, OFFICIAL-SENSITIVE, case
reference, page n of m), a table of contents and bookmarks for the days, the chronology, the
actions table and the checkpoint; PDF/A-2b, titled, with no author.

Typst lays it out in this process, from `templates/timeline.typ` and the case as JSON data
(`sys.inputs`): recorded text is never written into Typst markup, so none of it can run as
Typst code.  Typst shapes every script (accents on their letters, Arabic joined and right to
left, Indic conjuncts) and kerns, with the fonts of `safeguarding.fonts`; it reads no other
font, and writes nothing to disk.  Emoji, as recorded from a child's message, are drawn in
colour from Noto Color Emoji: skin tones, flags, keycaps and ZWJ sequences as that font draws
them (a sequence it has no single glyph for, as its parts).

Nothing recorded is dropped: a character no font has a glyph for (Tibetan, Cherokee, a
hieroglyph) is written as a visible code, `[U+0F40]`, and page 1 then says so (`UNSHOWN_NOTICE`).
"""

from __future__ import annotations

import json
from datetime import UTC
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Final

from safeguarding import document, fonts
from safeguarding.errors import UsageError
from safeguarding.timeline import Timeline, visible

if TYPE_CHECKING:
    import typst

#: How a character no font can show is written, and what page 1 then says.
PLACEHOLDER = "[U+{:04X}]"
UNSHOWN_NOTICE = (
    "Some characters could not be shown in this PDF's fonts and are written as [U+XXXX]; "
    "the HTML and JSON exports show them as recorded."
)
#: The PDF standard the export meets (archival, every font embedded).
STANDARD: Final = "a-2b"


class _Shown:
    """Recorded text as the PDF shows it, counting what it could not (a string shown twice, as
    the school is, counts once)."""

    def __init__(self) -> None:
        self.unshown: dict[str, int] = {}
        #: Whether any text may hold an emoji sequence (the template then looks for them).
        self.emoji = False

    def __call__(self, text: str) -> str:
        shown = visible(text, pictures=False)
        if not self.emoji and not shown.isascii():
            self.emoji = any(fonts.emoji(ord(char)) for char in shown)
        missing = 0
        parts: list[str] = []
        for char in shown:
            if char == "\n" or fonts.showable(ord(char)):
                parts.append(char)
            else:
                parts.append(PLACEHOLDER.format(ord(char)))
                missing += 1
        if missing:
            self.unshown[text] = missing
            return "".join(parts)
        return shown


def render(t: Timeline) -> bytes:
    """The PDF bytes of a timeline."""
    return render_counted(t)[0]


def render_counted(t: Timeline) -> tuple[bytes, int]:
    """The PDF bytes of a timeline, and how many characters are written as `[U+XXXX]` because
    no font can show them."""
    shown = _Shown()
    data = document.build(t, shown)
    data["unshown"] = UNSHOWN_NOTICE if shown.unshown else None
    data["fonts"] = fonts.families()
    data["emoji"] = fonts.EMOJI_FAMILY if shown.emoji else None
    import typst

    try:
        pdf = typst.compile(
            _template(),
            font_paths=_fonts(),
            sys_inputs={"document": json.dumps(data, ensure_ascii=False)},
            pdf_standards=[STANDARD],
            timestamp=t.produced_at.astimezone(UTC).replace(microsecond=0),
        )
    except typst.TypstError:
        # The case's text is only data, never markup, but a page cannot hold everything (an
        # unbroken run of some 20,000 characters).  Typst's message could quote the text, so it
        # is not passed on.
        raise UsageError(
            "the PDF could not lay this case out (an entry may hold a very long run of "
            "characters with no space); nothing was written or recorded",
            hint="export it with --format html or --format txt, which show it whole",
        ) from None
    return pdf, sum(shown.unshown.values())


@cache
def _template() -> bytes:
    return resources.files("safeguarding").joinpath("templates", "timeline.typ").read_bytes()


@cache
def _fonts() -> typst.Fonts:
    import typst

    return typst.Fonts(
        include_system_fonts=False,
        include_embedded_fonts=False,
        font_paths=[str(folder) for folder in fonts.folders()],
    )
