"""`safeguard backup …`: back up without a passphrase; check, list, prune and monitor backups."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_json

from .. import output
from ..context import STATE
from ..output import JsonOption

if TYPE_CHECKING:
    from safeguarding.backup import Progress, Pruned

from ..backing_up import FullOption, VerboseOption, say_line, unlocker

app = typer.Typer(
    help="Back up without a passphrase; check, list, prune, monitor.", no_args_is_help=True
)


FolderArgument = Annotated[
    Path, typer.Argument(help="The backup folder.", metavar="DIR", file_okay=False, readable=False)
]


#: Below this size a copy takes a moment, and a progress bar would only flicker.
PROGRESS_THRESHOLD = 32 * 1024 * 1024


@contextmanager
def _progress_bar(size: int, wanted: bool) -> Iterator[Progress | None]:
    if not wanted or size < PROGRESS_THRESHOLD or not output.err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

    with Progress(
        "Backing up",
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=output.err,
        transient=True,
    ) as bar:
        task = bar.add_task("copy", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


@app.command("create")
def create(
    directory: FolderArgument, json: JsonOption = False, verbose: VerboseOption = False
) -> None:
    """Copy the vault into DIR as a checked backup.

    Writes its manifest beside it; needs no passphrase.

    The copy is consistent while others write. A second run in the same DIR at the same time
    is refused (exit 5).
    """
    from safeguarding import backup

    vault_path = STATE.vault_path
    # (A vault on a server is copied table by table, with no size to show progress against.)
    size = vault_path.stat().st_size if isinstance(vault_path, Path) and vault_path.is_file() else 0
    with _progress_bar(size, not json) as progress:
        created = backup.create(
            vault_path, directory, progress=progress, busy_timeout=STATE.busy_timeout
        )
    manifest = created.manifest
    if json:
        output.emit_json(documents_json.backup_created(created))
    elif verbose:
        say_line(f"Backed up {manifest.entries} entries ({_size(manifest.size)}) to {created.path}")


@app.command("verify")
def verify(
    file: Annotated[
        Path, typer.Argument(help="The backup's .db file.", metavar="FILE", dir_okay=False)
    ],
    full: FullOption = False,
    json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Check a backup against its manifest (fully, with a passphrase).

    Its sha256 against the manifest, SQLite's integrity and its schema.

    With a passphrase, also decrypt everything and recompute the chain. Exits 0, or 1 naming
    what is wrong.
    """
    from safeguarding import backup
    from safeguarding.errors import CheckFailed

    try:
        verified = backup.verify(file, unlocker(full))
    except CheckFailed as failure:
        if json:
            output.emit_json(documents_json.backup_verify_failed(file, failure.message))
        raise
    manifest = verified.manifest
    found = _erased_since(file)
    erased = found or []
    if json:
        document = documents_json.backup_verified(file, verified)
        compared = None if found is None else str(STATE.vault_path)
        output.emit_json({**document, "erased_since": erased, "compared_with": compared})
        return
    if verbose:
        how = "decrypted and chain checked" if verified.full else "hash and structure checked"
        say_line(f"{file.name} verifies: {manifest.entries} entries, {how}")
    if erased:
        say_line(
            f"{file.name} holds erased data: it was taken before {', '.join(erased)} "
            f"{'was' if len(erased) == 1 else 'were'} erased, and still holds the keys. It "
            "ages out under 'safeguard backup prune'; a vault restored from it must erase "
            f"{'it' if len(erased) == 1 else 'them'} again."
        )


def _erased_since(file: Path) -> list[str] | None:
    """The cases erased in the vault since the backup `file` was taken (it holds their keys);
    None if the vault (`--vault`, SAFEGUARD_VAULT, the config's) is not there, or the backup
    is not a copy of it."""
    from safeguarding import erasure

    return erasure.compared(file, STATE.vault_path)


@app.command("list")
def list_backups(directory: FolderArgument, json: JsonOption = False) -> None:
    """List the backups in DIR, newest first, and whether each verifies.

    For each: when, size and entries.

    A backup whose file is gone while its manifest is left is listed as MISSING; one whose copy
    a running (or stopped) `backup create` has still to put in place, PENDING; one dated in the
    future, FUTURE.
    """
    from safeguarding import backup

    checks = backup.list_backups(directory)
    if json:
        output.emit_json(documents_json.backups(checks))
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for title in ("Taken (UTC)", "Size", "Entries", "Verified", "Backup"):
        table.add_column(title, no_wrap=True, overflow="fold")
    for check in checks:
        found = backup.BackupFile.from_path(check.path)
        taken = found.taken_at.strftime("%Y-%m-%d %H:%M") if found else "?"
        entries = str(check.manifest.entries) if check.manifest else "?"
        size = "-" if check.missing else _size(check.path.stat().st_size)
        if check.ahead:
            verdict = "[red]FUTURE[/red]"
        elif check.pending:
            verdict = "[yellow]PENDING[/yellow]"
        elif check.missing:
            verdict = "[red]MISSING[/red]"
        else:
            verdict = "yes" if check.ok else "[red]NO[/red]"
        table.add_row(taken, size, entries, verdict, check.path.name)
    output.out.print(table)
    for check in checks:
        if not check.ok:
            output.out.print(f"{check.path.name}: {check.problem}", soft_wrap=True, markup=False)


@app.command("prune")
def prune(
    directory: FolderArgument,
    keep_last: Annotated[int, typer.Option(help="Keep the N newest backups.", metavar="N")] = 0,
    keep_daily: Annotated[
        int, typer.Option(help="Keep the newest backup of each of the last N days.", metavar="N")
    ] = 0,
    keep_weekly: Annotated[
        int, typer.Option(help="Keep the newest backup of each of the last N weeks.", metavar="N")
    ] = 0,
    keep_monthly: Annotated[
        int,
        typer.Option(help="Keep the newest backup of each of the last N months.", metavar="N"),
    ] = 0,
    keep_yearly: Annotated[
        int, typer.Option(help="Keep the newest backup of each of the last N years.", metavar="N")
    ] = 0,
    keep_within: Annotated[
        str | None,
        typer.Option(
            help="Keep every backup within this span of the newest one, e.g. 30d, 2w, 6m.",
            metavar="DURATION",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Do not list what was removed (for cron).")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Remove the backups in DIR that no --keep rule keeps.

    The rules are restic's; it says which backups it removed.

    Periods are counted among days (weeks, months…) that have backups, in UTC. The newest backup
    that verifies is never removed. A backup dated in the future counts for no rule and is left
    in place, with a warning.
    """
    from safeguarding import backup
    from safeguarding.prune import Duration, Policy

    policy = Policy(
        last=keep_last,
        daily=keep_daily,
        weekly=keep_weekly,
        monthly=keep_monthly,
        yearly=keep_yearly,
        within=Duration.parse(keep_within) if keep_within is not None else None,
    )
    _report_pruned(backup.prune(directory, policy, dry_run=dry_run), json=json, quiet=quiet)


def _report_pruned(pruned: Pruned, *, json: bool, quiet: bool) -> None:
    for ahead, reason in pruned.ahead:
        say_line(f"left {ahead.name} in place: {reason}")
    if json:
        output.emit_json(documents_json.pruned(pruned))
        return
    if quiet and not pruned.dry_run:
        return
    verb = "would remove" if pruned.dry_run else "removed"
    for removed in pruned.removed:
        output.out.print(f"{verb} {removed.name}", soft_wrap=True)


@app.command("status")
def status(
    directory: FolderArgument,
    max_age: Annotated[
        str,
        typer.Option(
            "--max-age",
            help="Fail (exit 1) if the newest backup that verifies is older than this, e.g. 36h.",
            metavar="DURATION",
        ),
    ] = "36h",
    json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """For monitoring: exit 1 unless a recent backup verifies.

    Exit 1 if DIR has no backup that verifies newer than --max-age, if its newest backup does not
    verify, if an older one is missing or not its manifest's size, or if a backup is dated in
    the future.
    """
    from safeguarding import backup
    from safeguarding.errors import CheckFailed
    from safeguarding.prune import Duration

    limit = Duration.parse(max_age)
    try:
        # The vault named by --vault or SAFEGUARD_VAULT (else the default one, if it is there)
        # must still be there and hold the newest backup's head: a vault gone, replaced, or
        # rolled back or rewritten behind it is an alert too.
        vault = STATE.vault_path
        named = STATE.vault is not None or (isinstance(vault, Path) and vault.exists())
        found = backup.status(directory, limit, vault_path=vault if named else None)
    except CheckFailed as failure:
        if json:
            output.emit_json(documents_json.backup_status_failed(limit, failure.message))
        raise
    if json:
        output.emit_json(documents_json.backup_status(limit, found))
    elif verbose:
        say_line(
            f"newest verified backup: {found.newest.name}, "
            f"{backup.describe_age(found.age)} old (limit {limit})"
        )


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
