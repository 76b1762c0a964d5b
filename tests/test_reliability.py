"""Bad vaults and hostile conditions: every one gets exit 5 and one line, and nothing is lost."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from safeguarding.vault import Vault
from tests.conftest import DEPUTY_PASSPHRASE, FAST_KDF, PASSPHRASE, VaultInfo, run
from tests.reliability import fill, run_unprivileged, tiny_filesystem


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and "Traceback" not in stderr
    assert len(lines) <= 2, stderr
    return lines[0]


def entry_count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])


def test_read_only_vault_file_exits_5(vault: VaultInfo) -> None:
    before = vault.path.read_bytes()
    vault.path.chmod(0o400)
    try:
        result = run_unprivileged(
            "user",
            "add",
            "bob",
            "--role",
            "deputy",
            env={"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE},
        )
    finally:
        vault.path.chmod(0o600)
    assert result.returncode == 5, result.stderr
    assert "cannot write" in one_line(result.stderr) or "cannot read" in one_line(result.stderr)
    assert vault.path.read_bytes() == before


def test_read_only_vault_folder_exits_5(vault: VaultInfo) -> None:
    folder = vault.path.parent
    before = vault.path.read_bytes()
    mode = stat.S_IMODE(folder.stat().st_mode)
    folder.chmod(0o500)
    try:
        result = run_unprivileged("verify")
    finally:
        folder.chmod(mode)
    assert result.returncode == 5, result.stderr
    one_line(result.stderr)
    assert vault.path.read_bytes() == before


def test_truncated_vault_exits_5(vault: VaultInfo, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(vault.path.read_bytes()[:8192])
    result = run("--vault", str(truncated), "verify")
    assert result.returncode == 5, result.stderr
    assert "damaged or not a safeguard vault" in one_line(result.stderr)


def test_empty_and_random_files_exit_5(tmp_path: Path) -> None:
    for name, content in (("empty.db", b""), ("random.db", os.urandom(65536))):
        path = tmp_path / name
        path.write_bytes(content)
        result = run("--vault", str(path), "verify", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE})
        assert result.returncode == 5, (name, result.stderr)
        assert "not a safeguard vault" in one_line(result.stderr)
        assert path.read_bytes() == content


def test_writer_that_cannot_get_the_lock_exits_5_and_writes_nothing(vault: VaultInfo) -> None:
    holder = sqlite3.connect(vault.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = run(
            "user",
            "add",
            "bob",
            "--role",
            "deputy",
            env={"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE, "SAFEGUARD_BUSY_TIMEOUT": "0.5"},
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 5, result.stderr
    assert "busy" in one_line(result.stderr)
    assert entry_count(vault.path) == 2
    assert run("verify").returncode == 0


def test_disk_full_is_a_clear_error_and_the_vault_still_verifies(tmp_path: Path) -> None:
    with tiny_filesystem(tmp_path / "small", 1024) as small:
        path = small / "vault.db"
        unlocked, _ = Vault.create(path, "alice", PASSPHRASE, kdf=FAST_KDF)
        unlocked.close()
        env = {
            "SAFEGUARD_VAULT": str(path),
            "SAFEGUARD_USER": "alice",
            "SAFEGUARD_PASSPHRASE": PASSPHRASE,
        }
        fill(small, leave_bytes=0)
        results = [
            run(
                "user",
                "add",
                f"user {n}",
                "--role",
                "deputy",
                env={**env, "SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE},
            )
            for n in range(3)
        ]
        failed = [r for r in results if r.returncode != 0]
        assert failed, "the filesystem never filled up"
        for result in failed:
            assert result.returncode == 5, result.stderr
            assert "full" in one_line(result.stderr)
        succeeded = len(results) - len(failed)
        (small / "filler").unlink()
        check = run("verify", "--json", env=env)
        assert check.returncode == 0, check.stderr
        assert f'"entries": {2 + succeeded}' in check.stdout
