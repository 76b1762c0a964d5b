"""Making the governors' report: its figures read from the vault, laid out in the format asked
for, written to its file and recorded in the chronology.

A report in a file is written as an export is (`files`: 0600, nameless until it is recorded,
then given its name; never over an existing file), so a report that fails leaves no file and no
record.  The date of the last verified backup comes from a backup folder, when one is named.
Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from safeguarding import documents_json, files, jsontext, moments, report, report_layout
from safeguarding.errors import CheckFailed, NotFound, UsageError

if TYPE_CHECKING:
    from safeguarding.vault import Unlocked

FORMATS = ("text", "json", "html", "pdf")


def check_format(fmt: str, output: Path | None, *, stdout: bool = False) -> str:
    """The format asked for; html and pdf need a file, or `--output -` (`stdout`)."""
    cleaned = fmt.strip().lower()
    if cleaned not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if cleaned in ("html", "pdf") and output is None and not stdout:
        raise UsageError(
            f"a {cleaned} report needs --output FILE (or --output - for standard output); "
            "nothing was written"
        )
    return cleaned


def check_target(path: Path) -> None:
    """Refuse a file the report could not be written to, as making it would, and leave
    nothing behind: the warning that the file is plaintext is for a report about to be
    written."""
    _Target(path).file.discard()


def last_verified_backup(folder: Path) -> date | None:
    """The day of the newest backup in `folder` that verifies (None if none does)."""
    from safeguarding.backup_folder import scan
    from safeguarding.backup_status import _newest_verified

    if not folder.is_dir():
        raise NotFound(f"there is no backup folder {folder}; nothing was written")
    try:
        newest, _ = _newest_verified(folder, scan(folder))
    except CheckFailed:
        return None
    return moments.local_date(newest.taken_at)


class _Target:
    """The report's file: made (0600, nameless) before anything is read, so a folder that
    cannot be written fails first and nothing is recorded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            raise UsageError(f"{path} is a folder; give a file name for the report")
        if path.exists() or path.is_symlink():
            raise UsageError(
                f"{path} already exists; nothing was written", hint="choose another name"
            )
        if not path.parent.is_dir():
            raise NotFound(f"there is no folder {path.parent}; nothing was written")
        try:
            self.file = files.PrivateFile(path)
        except OSError as error:
            raise _unwritable(path, error) from None


def _unwritable(path: Path, error: OSError) -> UsageError:
    reason = (error.strerror or type(error).__name__).lower()
    return UsageError(
        f"could not write the report to {path} ({reason}); nothing was written or recorded",
        hint="free some space or choose another --output",
    )


@dataclass(frozen=True)
class Made:
    report: report.Report
    format: str
    data: bytes | None  # the report itself when it goes to standard output
    layout: report_layout.Layout
    path: Path | None
    entry: int


def render(r: report.Report, fmt: str) -> tuple[report_layout.Layout, bytes]:
    layout = report_layout.build(r)
    if fmt == "json":
        text = jsontext.dumps(documents_json.report(r)) + "\n"
        return layout, text.encode("utf-8")
    if fmt == "html":
        from safeguarding import report_pages

        return layout, report_pages.render_html(layout).encode("utf-8")
    if fmt == "pdf":
        from safeguarding import report_pages

        return layout, report_pages.render_pdf(layout, r.produced_at)
    from safeguarding import report_rich

    return layout, report_rich.render_text(layout).encode("utf-8")


def make(
    unlocked: Unlocked,
    period: report.Period,
    sources: report.Sources,
    *,
    fmt: str,
    output: Path | None,
    stdout: bool = False,
    now: Callable[[], datetime] | None = None,
) -> Made:
    """Make the report for `period` as `fmt`, into `output` (None: standard output, whose bytes
    are returned; `stdout` if `--output -` asked for it), and record it.  The file gets its
    name only once the report is recorded."""
    fmt = check_format(fmt, output, stdout=stdout)
    unlocked.require_manager("make the governors' report")
    target = _Target(output) if output is not None else None
    try:
        r = report.build(unlocked, period, sources, now)
        layout, data = render(r, fmt)
        if target is not None:
            try:
                target.file.write_all(data)
            except OSError as error:
                raise _unwritable(target.path, error) from None
        named = output.name if output else "-" if stdout else None
        entry = report.record(unlocked, r, fmt, named)
        if target is not None:
            _publish(target, entry)
    except BaseException:
        if target is not None:
            target.file.discard()
        raise
    return Made(r, fmt, None if target else data, layout, output, entry)


def _publish(target: _Target, entry: int) -> None:
    try:
        target.file.publish(replace=False)
    except FileExistsError:
        raise UsageError(
            f"{target.path} appeared meanwhile; the report was not written there (it is "
            f"recorded as entry {entry})",
            hint="choose another name, and make the report again",
        ) from None
    except OSError as error:
        reason = (error.strerror or type(error).__name__).lower()
        raise UsageError(
            f"could not put the report in place at {target.path} ({reason}); it is recorded as "
            f"entry {entry}",
            hint="free some space or choose another --output, and make the report again",
        ) from None
