"""A list laid out for 80 columns, two lines an item, drawn line by line.

Each item is its short fields, each kept whole in a column as wide as its widest value (the
last takes what is left and wraps at words), then its prose on a line of its own, indented,
wrapped at words.  No column is squeezed to a sliver, so no word is broken in the middle; a word
longer than the line goes on over the next rather than being cut off.

What a grid of Rich tables a line would show, drawn straight to a few segments: ten thousand
cases are listed in the time Rich takes to lay out a few hundred rows.  Text is wrapped as Rich
wraps it (`rich._wrap.divide_line`); plain ASCII, the usual case, by a shortcut that gives the
same lines without measuring word by word.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich._wrap import divide_line
from rich.cells import cell_len
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.segment import Segment
    from rich.style import Style


@dataclass(frozen=True, slots=True)
class Runs:
    """Text in runs of one style each (a style's name, "" for none): what a Rich `Text` of a
    few spans shows, without building one."""

    parts: tuple[tuple[str, str], ...]


#: A field or an item's prose: a plain string (shown as it is, never read as markup), a Rich
#: `Text`, or `Runs`.
Cell = str | Text | Runs

#: The narrowest the last column is drawn line by line; narrower than this, the list is laid
#: out as a table, which squeezes columns as it must.
LAST_COLUMN_MIN = 8
INDENT = 4


class TwoLineList:
    """The list of `items` (fields, prose) under `headings`, and a `title` above it if given."""

    def __init__(
        self,
        headings: Sequence[str],
        items: Sequence[tuple[Sequence[Cell], Cell]],
        title: str | None = None,
    ) -> None:
        self.headings, self.items, self.title = headings, items, title
        columns = zip(*(fields for fields, _ in items), strict=False) if items else ()
        self.widths = [
            max(len(heading), _widest(column))
            for heading, column in itertools.zip_longest(headings, columns, fillvalue=())
        ]
        self.fixed = sum(self.widths[:-1]) + 2 * (len(self.widths) - 1)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.rule import Rule

        width = options.max_width
        if width - self.fixed < LAST_COLUMN_MIN:
            yield self._gridded()
            return
        if self.title:
            yield Text(self.title, style="bold")
        pen = _Pen(console)
        self._fields(pen, [Text(h, style="bold") for h in self.headings], width)
        yield from pen.segments()
        yield Rule(style="dim")
        pen = _Pen(console)
        for fields, prose in self.items:
            self._fields(pen, fields, width)
            pen.wrapped(prose, width - INDENT, " " * INDENT)
        yield from pen.segments()

    def _fields(self, pen: _Pen, fields: Sequence[Cell], width: int) -> None:
        strings = _ascii_strings(fields)
        if strings is not None and len(strings[-1]) <= width - self.fixed:
            # Plain text on one line, the usual row: written at once.
            padded = zip(strings[:-1], self.widths, strict=False)
            pen.write("".join([f + " " * (w - len(f) + 2) for f, w in padded]) + strings[-1] + "\n")
            return
        head: list[str | tuple[str, Style | None]] = []
        for field, column in zip(fields[:-1], self.widths, strict=False):
            plain = _plain(field)
            if isinstance(field, str):
                head.append(field)
            else:
                head += pen.pieces(field, 0, len(plain))
            head.append(" " * (column - _cells(plain) + 2))
        pen.wrapped(fields[-1], width - self.fixed, " " * self.fixed, first=head)

    def _gridded(self) -> RenderableType:
        """The list as a grid of Rich tables, a line each, for a line too narrow for its
        fields: Rich squeezes the columns as it must."""
        from rich.console import Group
        from rich.padding import Padding
        from rich.rule import Rule
        from rich.table import Table

        def line(cells: Sequence[Text]) -> Table:
            grid = Table.grid(padding=(0, 2))
            for width in self.widths[:-1]:
                grid.add_column(width=width, no_wrap=True)
            grid.add_column(overflow="fold")
            grid.add_row(*cells)
            return grid

        parts: list[RenderableType] = []
        if self.title:
            parts.append(Text(self.title, style="bold"))
        parts += [line([Text(h, style="bold") for h in self.headings]), Rule(style="dim")]
        for fields, prose in self.items:
            text = as_text(prose)
            text.overflow, text.justify = "fold", "default"
            indented = Padding(text, (0, 0, 0, INDENT), expand=False)
            parts += [line([as_text(f) for f in fields]), indented]
        return Group(*parts)


def as_text(cell: Cell) -> Text:
    """`cell` as a Rich `Text` (a copy, where it was one)."""
    if isinstance(cell, Text):
        return cell.copy()
    if isinstance(cell, str):
        return Text(cell)
    text = Text()
    for part, style in cell.parts:
        text.append(part, style=style or None)
    return text


def _plain(cell: Cell) -> str:
    if isinstance(cell, str):
        return cell
    if isinstance(cell, Text):
        return cell.plain
    return "".join(part for part, _ in cell.parts)


def _cells(text: str) -> int:
    return len(text) if text.isascii() and text.isprintable() else cell_len(text)


def _widest(column: Sequence[Cell]) -> int:
    """The width in cells of the widest of a column's cells (0: none)."""
    plains = [c if isinstance(c, str) else _plain(c) for c in column]
    joined = "".join(plains)
    measure = len if joined.isascii() and joined.isprintable() else cell_len
    return max(map(measure, plains), default=0)


def _ascii_strings(fields: Sequence[Cell]) -> list[str] | None:
    """The fields, if every one is a plain string of printable ASCII (each as wide as it is
    long); None if not."""
    strings = [f for f in fields if isinstance(f, str)]
    if len(strings) != len(fields):
        return None
    joined = "".join(strings)
    return strings if joined.isascii() and joined.isprintable() else None


def lines_of(plain: str, room: int) -> tuple[list[tuple[int, int, int]], int]:
    """`plain` wrapped at words to at most `room` cells, as Rich wraps it: each line's start
    and end in `plain` and its width in cells, and the widest line's width (at most `room`)."""
    lines: list[tuple[int, int, int]] = []
    start = widest = 0
    for part in plain.split("\n"):
        simple = part.isascii() and part.isprintable()
        width = len(part) if simple else cell_len(part)
        widest = max(widest, width)
        if width <= room:
            lines.append((start, start + len(part), width))
        else:
            breaks = _ascii_breaks(part, room) if simple else None
            if breaks is None:
                breaks = divide_line(part, room)
            for a, b in itertools.pairwise([0, *breaks, len(part)]):
                width = len(part[a:b]) if simple else cell_len(part[a:b])
                if width > room:  # whitespace beyond the line goes, as Rich's `Text.wrap` drops it
                    b -= min(width - room, len(part[a:b]) - len(part[a:b].rstrip()))
                    width = len(part[a:b]) if simple else cell_len(part[a:b])
                lines.append((start + a, start + b, width))
        start += len(part) + 1
    return lines, min(room, widest)


def _ascii_breaks(part: str, room: int) -> list[int] | None:
    """Where Rich's `divide_line` breaks `part` (printable ASCII, wider than `room`) into
    lines, found a line at a time rather than a word at a time; None where its words are not
    one space apart, or one is wider than a line (Rich folds it), for `divide_line` itself.

    A word fits on the line that starts at `a` when it ends (spaces after it not counted) at
    most `room` cells after `a`; the first that does not starts the next line."""
    if part.startswith(" ") or "  " in part:
        return None
    end = len(part.rstrip(" "))
    breaks: list[int] = []
    a = 0
    while end - a > room:
        limit = a + room
        if part[limit] == " ":
            a = limit + 1
        else:
            space = part.rfind(" ", a, limit)
            if space < 0:
                return None  # a word wider than the line
            a = space + 1
        breaks.append(a)
    return breaks


class _Pen:
    """Lines written as runs of one style, joined into as few segments as the styles allow:
    the console's work is per segment."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.styles: dict[str, Style] = {}
        self.done: list[Segment] = []
        self.texts: list[str] = []
        self.style: Style | None = None

    def style_of(self, name: str) -> Style | None:
        if not name:
            return None
        found = self.styles.get(name)
        if found is None:
            found = self.styles[name] = self.console.get_style(name)
        return found

    def write(self, text: str, style: Style | None = None) -> None:
        if not text:
            return  # nothing to show: the style in force stays
        if style is not self.style:
            self.switch(style)
        self.texts.append(text)

    def switch(self, style: Style | None) -> None:
        """What is written next is in `style`: what came before becomes a segment."""
        self._flush()
        self.style = style

    def _flush(self) -> None:
        from rich.segment import Segment

        if self.texts:
            self.done.append(Segment("".join(self.texts), self.style))
            self.texts.clear()  # the same list: `wrapped` appends to it directly

    def segments(self) -> Iterator[Segment]:
        self._flush()
        yield from self.done
        self.done = []

    def runs(self, cell: Cell) -> list[tuple[int, int, Style | None]]:
        """`cell` cut where its style changes: each piece's start, end and style."""
        if isinstance(cell, str):
            return [(0, len(cell), None)]
        if isinstance(cell, Runs):
            found: list[tuple[int, int, Style | None]] = []
            at = 0
            for part, name in cell.parts:
                this = self.style_of(name)
                if found and found[-1][2] is this:  # one run with the part before it
                    found[-1] = (found[-1][0], at + len(part), this)
                elif part:
                    found.append((at, at + len(part), this))
                at += len(part)
            return found
        plain, spans = cell.plain, cell.spans
        if not spans and not cell.style:
            return [(0, len(plain), None)]
        cuts = sorted({0, len(plain)} | {s.start for s in spans} | {s.end for s in spans})
        pieces = []
        for a, b in itertools.pairwise(cuts):
            style: Style | None = None
            for each in (cell.style, *(s.style for s in spans if s.start <= a and s.end >= b)):
                one = self.style_of(each) if isinstance(each, str) else each
                if one is not None:
                    style = one if style is None else style + one
            pieces.append((a, b, style))
        return pieces

    def pieces(self, cell: Cell, start: int, end: int) -> list[tuple[str, Style | None]]:
        """The characters `start` to `end` of `cell`, cut where its style changes."""
        plain = _plain(cell)
        return [
            (plain[max(a, start) : min(b, end)], style)
            for a, b, style in self.runs(cell)
            if a < end and b > start
        ]

    def wrapped(
        self,
        cell: Cell,
        room: int,
        indent: str,
        first: Sequence[str | tuple[str, Style | None]] = (),
    ) -> None:
        """`cell` wrapped at words to at most `room` cells, each line after `indent` (the
        first after `first`, if given) and padded to the widest line's width."""
        plain = _plain(cell)
        write = self.write
        if not first and len(plain) <= room and plain.isascii() and plain.isprintable():
            # One line, as wide as it is long: its runs written as they are.
            write(indent)
            for start, end, style in self.runs(cell):
                write(plain[start:end], style)
            write("\n")
            return
        lines, widest = lines_of(plain, room)
        runs = self.runs(cell)  # none of them empty
        texts = self.texts  # written to directly, a few times a line: `write`'s work inlined
        for number, (a, b, width) in enumerate(lines):
            if number == 0 and first:
                for each in first:
                    if isinstance(each, str):
                        write(each)
                    else:
                        write(*each)
            elif indent:
                if self.style is not None:
                    self.switch(None)
                texts.append(indent)
            for start, end, style in runs:
                if start < b and end > a:
                    if style is not self.style:
                        self.switch(style)
                    texts.append(plain[max(a, start) : min(b, end)])
            if self.style is not None:
                self.switch(None)
            texts.append(" " * (widest - width) + "\n")
