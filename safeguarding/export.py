"""Exports of a case's timeline: txt recorded from the same Rich renderables as the terminal
view, html (a page from a template) and pdf (Typst), both laid out from the same document
(`safeguarding.document`), and json (the full structured case).  Each export is recorded as an
`export` entry in the case's chronology, in the transaction that reads the case.

An export is the one place plaintext reaches the disk, because the user asked: the file is
written as a private file (`files`: 0600, nameless until the export entry is committed, then
linked, or renamed where links are refused), and an existing file is replaced only when
`force` says so.  Nothing here prints.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from safeguarding import (
    access,
    clock,
    documents_json,
    files,
    jsontext,
    timeline,
    timeline_rich,
    transfers,
)
from safeguarding.entries import Export
from safeguarding.errors import NotFound, UsageError

if TYPE_CHECKING:
    from safeguarding.casefile import CaseFile
    from safeguarding.categories import Categories
    from safeguarding.chronology import Checkpoint
    from safeguarding.vault import Unlocked

FORMATS = ("txt", "html", "pdf", "json")
DEFAULT_WIDTH = 100
#: How many times an export reads and lays the case out without the write lock before, others
#: having written each time meanwhile, it does so under the lock.
OPTIMISTIC_TRIES = 3
MIN_WIDTH, MAX_WIDTH = 60, 240


def check_format(fmt: str) -> str:
    cleaned = fmt.strip().lower()
    if cleaned not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return cleaned


def check_width(width: int) -> int:
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        raise UsageError(f"the width must be from {MIN_WIDTH} to {MAX_WIDTH} columns")
    return width


# Renderings --------------------------------------------------------------------------------


def _recording(t: timeline.Timeline, width: int, color: bool) -> object:
    from rich.console import Console

    console = Console(
        record=True,
        width=width,
        file=io.StringIO(),
        force_terminal=color,
        color_system="truecolor" if color else None,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
        _environ={},
    )
    console.print(timeline_rich.render(t))
    return console


def render_text(t: timeline.Timeline, width: int = DEFAULT_WIDTH) -> str:
    """Exactly what the terminal shows at `width` columns, without colour."""
    from rich.console import Console

    console = _recording(t, width, color=False)
    assert isinstance(console, Console)
    lines = [line.rstrip() for line in console.export_text(styles=False).splitlines()]
    return "\n".join(lines) + "\n"


def render_html(t: timeline.Timeline) -> str:
    """One self-contained, semantic HTML page that prints on A4 (see `safeguarding.html`)."""
    from safeguarding import html

    return html.render(t)


def render_json(t: timeline.Timeline) -> str:
    return jsontext.dumps(documents_json.case(t)) + "\n"


def render(t: timeline.Timeline, fmt: str, width: int = DEFAULT_WIDTH) -> bytes:
    return render_counted(t, fmt, width)[0]


def render_counted(t: timeline.Timeline, fmt: str, width: int = DEFAULT_WIDTH) -> tuple[bytes, int]:
    """The export's bytes, and how many characters it could not show (written as `[U+XXXX]`
    in a PDF; every other format shows every character)."""
    fmt = check_format(fmt)
    if fmt == "txt":
        return render_text(t, width).encode("utf-8"), 0
    if fmt == "html":
        return render_html(t).encode("utf-8"), 0
    if fmt == "json":
        return render_json(t).encode("utf-8"), 0
    from safeguarding import pdf

    return pdf.render_counted(t)


# Files -------------------------------------------------------------------------------------


class Target:
    """Where an export goes: a private file (`files.PrivateFile`) for the destination, made
    before anything is read, so an unwritable folder fails first and nothing is recorded.  It is
    written under the lock before the export entry commits, and gets its name only after:
    an export killed before then leaves no file with a name, and never one that is not
    recorded."""

    def __init__(self, path: Path, force: bool) -> None:
        self.path = path
        self.force = force
        if path.is_dir():
            raise UsageError(f"{path} is a folder; give a file name for the export")
        if (path.exists() or path.is_symlink()) and not force:
            raise UsageError(
                f"{path} already exists; nothing was written",
                hint="choose another name, or add --force to replace it",
            )
        folder = path.parent
        if not folder.is_dir():
            raise NotFound(f"there is no folder {folder}; nothing was written")
        try:
            self.file = files.PrivateFile(path)
        except OSError as error:
            raise UsageError(
                f"cannot write in {folder} ({error.strerror or type(error).__name__}); "
                "nothing was written",
                hint="choose a folder you can write to",
            ) from None

    def write(self, data: bytes) -> None:
        try:
            self.file.write_all(data)
        except OSError as error:
            raise unwritable(str(self.path), error) from None

    def commit(self, reference: str, number: int) -> None:
        """Publish the written file: replacing only with `force`, never following links."""
        try:
            self.file.publish(replace=self.force)
        except FileExistsError:
            raise UsageError(
                f"{self.path} appeared meanwhile; the export was not written there "
                f"(it is recorded as entry {number} of {reference})",
                hint="choose another name, or add --force to replace it",
            ) from None
        except OSError as error:
            reason = (error.strerror or type(error).__name__).lower()
            raise UsageError(
                f"could not put the export in place at {self.path} ({reason}); "
                f"it is recorded as entry {number} of {reference}",
                hint="free some space or choose another --output, and export again",
            ) from None

    def discard(self) -> None:
        self.file.discard()


# The export --------------------------------------------------------------------------------


def unwritable(where: str, error: OSError) -> UsageError:
    reason = (error.strerror or type(error).__name__).lower()
    return UsageError(
        f"could not write the export to {where} ({reason}); nothing was written or recorded",
        hint="free some space or choose another --output",
    )


@dataclass(frozen=True)
class Exported:
    reference: str
    entry: int  # the export entry's place in the vault's chronology
    number: int  # and its number in the case
    format: str
    redacted: bool
    path: Path | None
    data: bytes | None  # the export itself when it goes to standard output
    checkpoint: str
    #: Characters the PDF's fonts could not show, written as `[U+XXXX]` (0 for other formats).
    unshown: int = 0


class _Made(NamedTuple):
    """An export laid out and, with its entry, recorded."""

    case: CaseFile
    entry: int
    checkpoint: Checkpoint
    data: bytes
    unshown: int

    @property
    def number(self) -> int:
        """The export entry's number in the case."""
        return self.case.entry(self.entry).number


@dataclass(frozen=True)
class _Job:
    """One export as asked for: how a read of the case becomes its bytes, and where they go."""

    unlocked: Unlocked
    reference: str
    fmt: str
    redact: bool
    school: str
    categories: Categories | None
    closures: Container[date]
    width: int
    tz: tzinfo | None
    target: Target | None
    # Only the file's name is recorded, never its folder (which may be named after a person).
    payload: dict[str, object]
    users: Sequence[tuple[str, str]]  # names and roles a redaction hides
    sent: Sequence[transfers.Transfer] = ()  # transfers sent: their entries say where, and how

    def lay_out(
        self, case: CaseFile, checkpoint: Checkpoint, produced_at: datetime
    ) -> tuple[bytes, int]:
        produced_by = self.unlocked.user.name
        if self.redact:
            from safeguarding import redaction

            case, redactor = redaction.redact(case, self.users)
            produced_by = redactor.label(produced_by)
        view = timeline.build(
            case,
            school=self.school,
            categories=self.categories,
            checkpoint=checkpoint,
            produced_at=produced_at,
            produced_by=produced_by,
            closures=self.closures,
            tz=self.tz,
            redacted=self.redact,
            since=transfers.said_in(self.sent, case, self.closures, redacted=self.redact),
        )
        return render_counted(view, self.fmt, self.width)

    def optimistically(self, read_clock: Callable[[], datetime]) -> _Made | None:
        """Read and lay out without the write lock, recording only if nobody wrote meanwhile;
        None if others wrote each time."""
        for _ in range(OPTIMISTIC_TRIES):
            # Each read is timed afresh: the export holds everything written before it.
            produced_at = read_clock()
            read = access.prepare_read(
                self.unlocked, self.reference, Export.kind, self.payload, produced_at
            )
            data, unshown = self.lay_out(read.case, read.checkpoint, produced_at)
            with access.recording(self.unlocked, read) as recorded:
                if recorded:
                    if self.target is not None:
                        self.target.write(data)
                    return _Made(read.case, read.entry, read.checkpoint, data, unshown)
        return None

    def under_the_lock(self, read_clock: Callable[[], datetime]) -> _Made:
        produced_at = read_clock()
        with access.reading_case(
            self.unlocked, self.reference, Export.kind, self.payload, now=lambda: produced_at
        ) as snap:
            data, unshown = self.lay_out(snap.case, snap.checkpoint, produced_at)
            if self.target is not None:
                self.target.write(data)
            return _Made(snap.case, snap.entry, snap.checkpoint, data, unshown)


def export_case(
    unlocked: Unlocked,
    reference: str,
    *,
    fmt: str,
    output: Path | None,
    categories: Categories | None,
    school: str,
    closures: Container[date] = (),
    redact: bool = False,
    force: bool = False,
    width: int = DEFAULT_WIDTH,
    now: Callable[[], datetime] | None = None,
    tz: tzinfo | None = None,
) -> Exported:
    """Export a case to `output` (None: return the bytes, for standard output), recording it.

    The export shows its own export entry and a checkpoint that includes it.  The case is read
    and laid out without the write lock (a long case's PDF takes seconds, and nobody else should
    wait on it), with the export entry made ready to follow the head as read; then, under the
    lock, the file is written and the entry appended only if the head has not moved.  If
    someone wrote meanwhile the case is read again; after `OPTIMISTIC_TRIES` it is read and laid
    out under the lock.  A file is written before the entry commits: one not written is not
    recorded."""
    fmt = check_format(fmt)
    job = _Job(
        unlocked,
        reference,
        fmt,
        redact,
        school,
        categories,
        closures,
        check_width(width),
        tz,
        Target(output, force) if output is not None else None,
        Export(format=fmt, redacted=redact, to=output.name if output else "-").payload(),
        [(u.name, u.role.value) for u in unlocked.users()] if redact else [],
        transfers.every_sent(unlocked),
    )
    read_clock = now or clock.now
    try:
        made = job.optimistically(read_clock) or job.under_the_lock(read_clock)
        if job.target is not None:
            job.target.commit(made.case.reference, made.number)
    except BaseException:
        if job.target is not None:
            job.target.discard()
        raise
    return Exported(
        reference=made.case.reference,
        entry=made.entry,
        number=made.number,
        format=fmt,
        redacted=redact,
        path=output,
        data=None if job.target is not None else made.data,
        checkpoint=str(made.checkpoint),
        unshown=made.unshown,
    )
