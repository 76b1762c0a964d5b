"""What the school's IT notices from the nightly job and its monitor: a backup removed or cut
short behind safeguard's back, a folder that is not there, and `db upgrade`'s backup folder."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from safeguarding import backup, clock, storage
from tests.conftest import VaultInfo, invoke
from tests.test_backup import downgrade, one_line


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "backups"
    path.mkdir(mode=0o700)
    return path


def two_backups(vault: VaultInfo, folder: Path) -> tuple[backup.Created, backup.Created]:
    """Last night's and the night before's: both within --max-age 36h."""
    now = clock.now()
    older = backup.create(vault.path, folder, now=now - timedelta(hours=29))
    newest = backup.create(vault.path, folder, now=now - timedelta(hours=5))
    return older, newest


def status(folder: Path, *extra: str) -> tuple[int, str, str]:
    result = invoke("backup", "status", str(folder), "--max-age", "36h", *extra)
    return result.exit_code, result.stdout, result.stderr


# A backup file gone, its manifest left --------------------------------------------------------


def test_status_fails_naming_the_newest_backup_when_only_its_manifest_is_left(
    vault: VaultInfo, folder: Path
) -> None:
    older, newest = two_backups(vault, folder)
    assert status(folder)[0] == 0
    newest.path.unlink()
    code, stdout, stderr = status(folder)
    assert (code, stdout) == (1, "")
    message = one_line(stderr)
    assert newest.path.name in message and "missing" in message
    assert older.path.name in stderr  # the hint names the newest that verifies
    code, stdout, _ = status(folder, "--json")
    problem = json.loads(stdout)
    assert code == 1 and problem["ok"] is False and newest.path.name in problem["problem"]


def test_list_shows_a_backup_whose_file_is_missing(vault: VaultInfo, folder: Path) -> None:
    older, newest = two_backups(vault, folder)
    newest.path.unlink()
    listed = json.loads(invoke("backup", "list", str(folder), "--json").stdout)
    assert [item["backup"] for item in listed] == [newest.path.name, older.path.name]
    assert [item["verified"] for item in listed] == [False, True]
    assert listed[0]["size"] is None and "missing" in listed[0]["problem"]
    assert listed[0]["entries"] == newest.manifest.entries
    table = invoke("backup", "list", str(folder))
    assert table.exit_code == 0, table.stderr
    assert "MISSING" in table.stdout
    assert f"{newest.path.name}: its file is missing" in table.stdout


@pytest.mark.parametrize("damage", ["removed", "truncated"])
def test_status_fails_when_an_older_backup_was_removed_or_cut_short(
    vault: VaultInfo, folder: Path, damage: str
) -> None:
    # Checking every older backup's size and presence costs one stat each, so the nightly
    # monitor does it; hashing them all would not be cheap, and is left to 'backup list'.
    older, newest = two_backups(vault, folder)
    if damage == "removed":
        older.path.unlink()
    else:
        with older.path.open("r+b") as handle:
            handle.truncate(older.manifest.size // 2)
    code, _, stderr = status(folder)
    assert code == 1
    message = one_line(stderr)
    assert older.path.name in message
    assert ("missing" if damage == "removed" else "bytes but its manifest says") in message
    assert f"the newest, {newest.path.name}, verifies" in stderr


def test_status_stays_quiet_when_prune_removed_backups_with_their_manifests(
    vault: VaultInfo, folder: Path
) -> None:
    older, _ = two_backups(vault, folder)
    result = invoke("backup", "prune", str(folder), "--keep-last", "1", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert not older.path.exists() and not older.path.with_suffix(".json").exists()
    assert status(folder) == (0, "", "")


# A folder that is not there --------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["backup", "status", "{dir}", "--max-age", "36h"],
        ["backup", "list", "{dir}"],
        ["backup", "prune", "{dir}", "--keep-daily", "1"],
        ["verify", "--checkpoints", "{dir}"],
    ],
    ids=["status", "list", "prune", "verify-checkpoints"],
)
def test_reading_a_missing_folder_says_check_the_path_not_create_it(
    vault: VaultInfo, tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "nope"
    result = invoke(*[part.format(dir=missing) for part in command])
    assert result.exit_code == 4
    assert one_line(result.stderr) == f"safeguard: there is no folder {missing}"
    assert "check the path" in result.stderr
    assert "mkdir" not in result.stderr
    assert not missing.exists()


def test_restoring_from_a_missing_folder_says_check_the_path(
    vault: VaultInfo, tmp_path: Path
) -> None:
    source = tmp_path / "nope" / "safeguard-20261124T020000Z.db"
    result = invoke("restore", str(source), "--to", str(tmp_path / "restored.db"))
    assert result.exit_code == 4
    assert f"there is no backup {source}" in one_line(result.stderr)
    assert "check the path" in result.stderr and "mkdir" not in result.stderr


def test_create_into_a_missing_folder_still_says_create_it(
    vault: VaultInfo, tmp_path: Path
) -> None:
    missing = tmp_path / "nope"
    result = invoke("backup", "create", str(missing))
    assert result.exit_code == 4
    assert f"mkdir -m 700 {missing}" in result.stderr


# db upgrade --backup-dir -------------------------------------------------------------------------


@pytest.fixture
def old_vault(vault: VaultInfo) -> str:
    if len(storage.KNOWN_REVISIONS) < 2:
        pytest.skip("only one schema revision so far")
    old = storage.KNOWN_REVISIONS[-2]
    downgrade(vault.path, old)
    return old


def test_db_upgrade_refuses_a_missing_backup_dir_as_backup_create_does(
    vault: VaultInfo, old_vault: str, tmp_path: Path
) -> None:
    missing = tmp_path / "nope"
    upgrade = invoke("db", "upgrade", "--backup-dir", str(missing))
    create = invoke("backup", "create", str(missing))
    assert upgrade.exit_code == create.exit_code == 4
    assert upgrade.stderr == create.stderr
    assert not missing.exists()
    assert json.loads(invoke("db", "status", "--json").stdout)["revision"] == old_vault


def test_db_upgrade_still_makes_its_default_backups_folder(
    vault: VaultInfo, old_vault: str
) -> None:
    result = invoke("db", "upgrade")
    assert result.exit_code == 0, result.stderr
    [taken] = (vault.path.parent / "backups").glob("safeguard-*.db")
    assert backup.check(taken).ok
