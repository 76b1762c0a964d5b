"""Upgrade a vault's schema with a backup taken first: no backup, no upgrade."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safeguarding import backup
from safeguarding.errors import UsageError, VaultUnusable
from safeguarding.migrate import status, upgrade_vault
from safeguarding.server import Location, Server


@dataclass(frozen=True)
class Upgraded:
    before: str
    after: str
    backup: Path | None


def upgrade_with_backup(path: Location, backup_dir: Path | None = None) -> Upgraded:
    """Back the vault up into `backup_dir`, then upgrade it: no backup, no upgrade.

    Without `backup_dir`, a `backups` folder beside the vault is made if need be; a folder that
    was named must exist already, as for `backup create` (a mistyped path would otherwise
    become a new folder nobody looks in).  A vault on a PostgreSQL server has no folder
    beside it: its backup folder must be named.  A vault that is already current is left alone, with
    no backup taken.
    """
    state = status(path)
    if state.up_to_date:
        return Upgraded(state.revision, state.head, None)
    if backup_dir is None:
        if isinstance(path, Server):
            raise UsageError(
                "a vault on a PostgreSQL server has no folder beside it for the backup taken "
                "before upgrading; the vault was not upgraded",
                hint="give one: safeguard db upgrade --backup-dir DIR",
            )
        backup_dir = _default_backup_dir(path)
    # A named folder that is missing is left to `backup.create` to refuse, in its own words.
    created = backup.create(path, backup_dir)
    before, after = upgrade_vault(path)
    return Upgraded(before, after, created.path)


def _default_backup_dir(path: Path) -> Path:
    backup_dir = path.parent / "backups"
    if not backup_dir.exists():
        try:
            backup_dir.mkdir(mode=0o700)
        except OSError as error:
            raise VaultUnusable(
                f"cannot create the backup folder {backup_dir} ({error.strerror}); "
                "the vault was not upgraded",
                hint="choose another folder with --backup-dir",
            ) from None
    return backup_dir
