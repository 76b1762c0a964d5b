"""Prune a backup folder by a retention policy, and finish a prune a kill interrupted."""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from safeguarding import clock, files
from safeguarding.backup_check import _ahead, _manifest_or_none, check
from safeguarding.backup_files import BackupFile, write_error
from safeguarding.backup_folder import _heal, _require_own_folder, folder_lock, scan
from safeguarding.errors import UsageError
from safeguarding.prune import Policy, kept


@dataclass(frozen=True)
class Pruned:
    kept: list[tuple[BackupFile, list[str]]]
    removed: list[BackupFile]
    dry_run: bool
    #: Backups dated in the future, and why: neither kept by a rule nor removed.
    ahead: list[tuple[BackupFile, str]] = field(default_factory=list)


def prune(directory: Path, policy: Policy, *, dry_run: bool = False) -> Pruned:
    """Remove the backups that no rule of `policy` keeps (restic's `forget` rules).

    The newest backup that verifies is always kept, whatever the policy says.  A backup dated
    in the future counts for no rule, is never the newest that verifies, and is left where it
    is (`status` reports it).  A removal a killed prune left half done is finished first.
    """
    if policy.empty:
        raise UsageError(
            "say which backups to keep (--keep-daily, --keep-weekly, --keep-monthly, "
            "--keep-within…); nothing was removed"
        )
    _require_own_folder(directory)
    outcome = "some backups may not have been removed"
    with folder_lock(directory):
        if not dry_run:
            try:
                _heal(directory)
            except OSError as error:
                raise write_error(error, directory, outcome) from None
        moment = clock.now()
        ahead: list[tuple[BackupFile, str]] = []
        backups: list[BackupFile] = []
        for found in scan(directory):
            reason = _ahead(found, _manifest_or_none(found), moment)
            if reason is None:
                backups.append(found)
            else:
                ahead.append((found, reason))
        reasons = kept([backup.taken_at for backup in backups], policy)
        for index, backup in enumerate(backups):
            if check(backup.path).ok:
                reasons.setdefault(index, []).append("newest verified")
                break
        removed = [backup for index, backup in enumerate(backups) if index not in reasons]
        if not dry_run and removed:
            try:
                for backup in removed:
                    _remove(backup)
                files.fsync_folder(directory)
            except OSError as error:
                raise write_error(error, directory, outcome) from None
    return Pruned(
        kept=[(backup, reasons[i]) for i, backup in enumerate(backups) if i in reasons],
        removed=removed,
        dry_run=dry_run,
        ahead=ahead,
    )


def _remove(backup: BackupFile) -> None:
    """Remove a backup so that no kill leaves its manifest without its file: the manifest is
    renamed to the prune mark (one step), then the file goes, then the mark."""
    with suppress(FileNotFoundError):  # without a manifest, removing the file is one step
        os.rename(backup.manifest_path, backup.mark_path)
    backup.path.unlink(missing_ok=True)
    backup.mark_path.unlink(missing_ok=True)
