"""Whether a folder holds a recent backup that verifies, for monitoring."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from safeguarding import clock
from safeguarding.backup_check import (
    Check,
    _ahead,
    _check_listed,
    _manifest_or_none,
    _missing,
    describe_age,
)
from safeguarding.backup_create import _require_extends
from safeguarding.backup_files import BackupFile, Manifest, manifest_path
from safeguarding.backup_folder import scan
from safeguarding.errors import CheckFailed
from safeguarding.prune import Duration
from safeguarding.server import Location


def _cheap_problem(backup: BackupFile) -> Check | None:
    """What one stat shows wrong with a backup: gone, or not the size its manifest records.

    The monitor runs this over every older backup each night; hashing them all would cost a
    read of every backup, so that is left to `backup list` and `backup verify`.
    """
    if not backup.path.is_file():
        missing = _missing(backup)
        return None if missing.pending else missing
    try:
        manifest = Manifest.load(backup.manifest_path)
    except CheckFailed:
        return None  # a backup without a readable manifest is shown by `list`; not an alert
    size = backup.path.stat().st_size
    if size == manifest.size:
        return None
    problem = (
        f"it is {size} bytes but its manifest says {manifest.size}: it was truncated or altered"
    )
    return Check(backup.path, manifest, problem)


@dataclass(frozen=True)
class Status:
    newest: BackupFile
    age: timedelta
    failing_newer: list[Check] = field(default_factory=list)


def status(
    directory: Path,
    max_age: Duration,
    now: datetime | None = None,
    vault_path: Location | None = None,
) -> Status:
    """The newest backup that verifies; raises `CheckFailed` if `vault_path` (when given) no
    longer holds the newest manifest's head, if there is no backup, if it is too old, if a
    backup or manifest is dated in the future, if a newer backup does not verify
    (damage to the newest backup is an alert even while an older one is recent enough), or if
    an older backup is gone or not the size its manifest records.

    A backup whose copy a `create` has still to put in place is passed over: it is not yet a
    backup, and not a lost one.
    """
    moment = now or clock.now()
    backups = scan(directory, with_missing=True)
    _refuse_future(directory, backups, moment)
    _refuse_nothing_to_check(directory, backups, moment, vault_path)
    newest, failing = _newest_verified(directory, backups)
    age = moment - newest.taken_at
    if newest.taken_at < max_age.before(moment):
        raise CheckFailed(
            f"the newest verified backup in {directory} is {describe_age(age)} old, older than "
            f"{max_age} ({newest.name})",
            hint="check that the nightly 'safeguard backup create' runs (cron or systemd)",
        )
    if failing:
        first_failing = failing[0]
        raise CheckFailed(
            f"the newest backup in {directory}, {first_failing.path.name}, does not verify: "
            f"{first_failing.problem}",
            hint=f"{_what_to_do(first_failing)}; the newest that verifies is {newest.name}, "
            f"{describe_age(age)} old",
        )
    _refuse_older_damage(directory, backups, newest)
    return Status(newest, age, failing)


def _refuse_future(directory: Path, backups: list[BackupFile], moment: datetime) -> None:
    ahead = [
        (backup, reason)
        for backup in backups
        if (reason := _ahead(backup, _manifest_or_none(backup), moment)) is not None
    ]
    if ahead:
        first, reason = ahead[-1]  # the nearest to now among them
        more = f" (and {len(ahead) - 1} more)" if len(ahead) > 1 else ""
        raise CheckFailed(
            f"the backup {first.name} in {directory} is dated in the future: {reason}{more}",
            hint="if this machine's clock is right, something else put it there: move it and its "
            "manifest out of the folder (keep them) and find out what; if the clock was wrong, "
            "set it right",
        )


def _refuse_nothing_to_check(
    directory: Path, backups: list[BackupFile], moment: datetime, vault_path: Location | None
) -> None:
    if not backups:
        raise CheckFailed(
            f"there are no backups in {directory}",
            hint="check that the nightly 'safeguard backup create' runs (cron or systemd)",
        )
    if isinstance(vault_path, Path) and not vault_path.exists():
        raise CheckFailed(
            f"there is no vault at {vault_path}: it was moved or deleted",
            hint="restore the newest backup that verifies ('safeguard restore FILE --to PATH')",
        )
    if vault_path is not None:
        _require_extends(
            vault_path, directory, moment, "the vault may have been tampered with", live=True
        )


def _newest_verified(directory: Path, backups: list[BackupFile]) -> tuple[BackupFile, list[Check]]:
    """The newest backup that verifies, and the newer ones that do not."""
    failing: list[Check] = []
    newest: BackupFile | None = None
    for backup in backups:
        result = _check_listed(backup)
        if result.pending:
            continue
        if result.ok:
            newest = backup
            break
        failing.append(result)
    if newest is None:
        if not failing:
            raise CheckFailed(
                f"there are no finished backups in {directory}",
                hint="check that the nightly 'safeguard backup create' runs (cron or systemd)",
            )
        raise CheckFailed(
            f"none of the {len(backups)} backups in {directory} verifies (the newest, "
            f"{failing[0].path.name}: {failing[0].problem})",
            hint="take a new backup now, and find out what damaged them",
        )
    return newest, failing


def _refuse_older_damage(directory: Path, backups: list[BackupFile], newest: BackupFile) -> None:
    older_backups = backups[backups.index(newest) + 1 :]
    older = [found for b in older_backups if (found := _cheap_problem(b))]
    if older:
        first_older = older[0]
        more = f" (and {len(older) - 1} more older ones)" if len(older) > 1 else ""
        raise CheckFailed(
            f"an older backup in {directory}, {first_older.path.name}, does not verify: "
            f"{first_older.problem}{more}",
            hint=f"{_what_to_do(first_older)}; the newest, {newest.name}, verifies",
        )


def _what_to_do(failed: Check) -> str:
    if failed.missing:
        # `prune` takes a backup's manifest back before its file, so it never leaves this.
        return (
            "find out what removed it; once you know, delete its manifest "
            f"{manifest_path(failed.path).name} to clear this"
        )
    return "take a new backup now, and find out what damaged it"
