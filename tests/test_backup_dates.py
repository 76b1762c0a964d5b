"""Backup times: a backup dated in the future decides nothing, and retention is restic's."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeguarding import backup
from tests.conftest import SetClock, VaultInfo, invoke
from tests.test_backup import one_line

NIGHT = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "backups"
    path.mkdir(mode=0o700)
    return path


def nightly(vault: VaultInfo, folder: Path, nights: int) -> list[Path]:
    """A backup at 02:00 on each of `nights` nights from 1 November, oldest first."""
    return [
        backup.create(vault.path, folder, now=NIGHT + timedelta(days=n)).path for n in range(nights)
    ]


def forge(genuine: Path, moment: datetime) -> Path:
    """A copy of a genuine backup and its manifest, named as if taken at `moment`."""
    copy = genuine.with_name(backup.backup_name(moment))
    shutil.copy2(genuine, copy)
    shutil.copy2(backup.manifest_path(genuine), backup.manifest_path(copy))
    return copy


def names(paths: list[Path]) -> list[str]:
    return sorted(path.name for path in paths)


# Dated in the future ------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", [["--keep-daily", "7"], ["--keep-within", "7d"]])
def test_a_copy_dated_in_the_future_neither_empties_the_folder_nor_passes_status(
    vault: VaultInfo, folder: Path, set_clock: SetClock, rule: list[str]
) -> None:
    genuine = nightly(vault, folder, 10)
    set_clock(NIGHT + timedelta(days=9, hours=8))  # 10 November, 10:00
    forged = forge(genuine[-1], datetime(2028, 11, 10, 2, 0, tzinfo=UTC))
    assert backup.verify(forged)  # a byte copy: its hash is right

    status = invoke("backup", "status", str(folder), "--max-age", "36h")
    assert status.exit_code == 1
    line = one_line(status.stderr)
    assert forged.name in line and "dated in the future" in line

    pruned = invoke("backup", "prune", str(folder), *rule, "--quiet", "--json")
    assert pruned.exit_code == 0, pruned.stderr
    document = json.loads(pruned.stdout)
    assert document["dated_ahead"] == [forged.name]
    assert f"left {forged.name} in place" in pruned.stderr
    kept = {item["backup"]: item["reasons"] for item in document["kept"]}
    assert sorted(kept) == names(genuine[3:])  # the seven newest genuine nights
    assert "newest verified" in kept[genuine[-1].name]
    assert names(list(folder.glob("*.db"))) == names([*genuine[3:], forged])

    listed = json.loads(invoke("backup", "list", str(folder), "--json").stdout)
    ahead = {item["backup"]: item for item in listed if item["dated_ahead"]}
    assert list(ahead) == [forged.name] and ahead[forged.name]["verified"] is False
    assert "ahead of this machine's clock" in ahead[forged.name]["problem"]
    table = invoke("backup", "list", str(folder)).stdout
    assert "FUTURE" in table


def test_a_manifest_dated_in_the_future_is_reported_and_counts_for_no_rule(
    vault: VaultInfo, folder: Path, set_clock: SetClock
) -> None:
    genuine = nightly(vault, folder, 3)
    set_clock(NIGHT + timedelta(days=2, hours=8))
    manifest_file = backup.manifest_path(genuine[-1])
    manifest = json.loads(manifest_file.read_text())
    manifest["created_at"] = "2031-01-01T00:00:00Z"
    manifest_file.write_text(json.dumps(manifest))

    status = invoke("backup", "status", str(folder), "--max-age", "36h")
    assert status.exit_code == 1
    assert genuine[-1].name in one_line(status.stderr)
    assert "its manifest is dated 2031-01-01 00:00 UTC" in status.stderr

    pruned = json.loads(invoke("backup", "prune", str(folder), "--keep-last", "1", "--json").stdout)
    assert [item["backup"] for item in pruned["kept"]] == [genuine[1].name]
    assert pruned["removed"] == [genuine[0].name]
    assert genuine[-1].exists()


def test_the_clock_may_be_ten_minutes_behind_a_backup_and_no_more(
    vault: VaultInfo, folder: Path, set_clock: SetClock
) -> None:
    taken = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    backup.create(vault.path, folder, now=taken)
    set_clock(taken - timedelta(minutes=9))
    assert invoke("backup", "status", str(folder), "--max-age", "36h").exit_code == 0
    set_clock(taken - timedelta(minutes=11))
    late = invoke("backup", "status", str(folder), "--max-age", "36h")
    assert late.exit_code == 1 and "dated in the future" in late.stderr


# Retention as restic does it -------------------------------------------------------------------


def test_two_backups_on_one_day_with_keep_daily_as_restic(
    vault: VaultInfo, folder: Path, set_clock: SetClock
) -> None:
    set_clock(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    morning = backup.create(vault.path, folder, now=datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    by_hand = backup.create(vault.path, folder, now=datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    # The only two backups: the rule has days left to fill, so the oldest stays too.
    first = json.loads(invoke("backup", "prune", str(folder), "--keep-daily", "7", "--json").stdout)
    assert {item["backup"]: item["reasons"] for item in first["kept"]} == {
        by_hand.path.name: ["daily", "newest verified"],
        morning.path.name: ["oldest daily"],
    }
    # With an older night in the folder, the day keeps only its newest backup.
    older = backup.create(vault.path, folder, now=datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    second = json.loads(
        invoke("backup", "prune", str(folder), "--keep-daily", "7", "--json").stdout
    )
    assert second["removed"] == [morning.path.name]
    assert names(list(folder.glob("*.db"))) == names([older.path, by_hand.path])


def test_keep_within_keeps_what_is_strictly_within_as_restic(
    vault: VaultInfo, folder: Path, set_clock: SetClock
) -> None:
    genuine = nightly(vault, folder, 10)
    set_clock(NIGHT + timedelta(days=9, hours=8))
    result = invoke("backup", "prune", str(folder), "--keep-within", "7d")
    assert result.exit_code == 0, result.stderr
    # 3 November 02:00 is exactly seven days before the newest: not within, as in restic.
    assert names(list(folder.glob("*.db"))) == names(genuine[3:])
    zero = invoke("backup", "prune", str(folder), "--keep-within", "0h")
    assert zero.exit_code == 2 and "say which backups to keep" in zero.stderr
