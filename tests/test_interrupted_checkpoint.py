"""A checkpoint cut short (a full disk, a kill) leaves the main file shorter than its header says
while the WAL holds every page: the vault is whole, the next command completes the checkpoint,
and safeguard never calls it damaged or advises a restore."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from safeguarding.vault import Vault
from tests.conftest import FAST_KDF, PASSPHRASE, VaultInfo, run
from tests.reliability import case_entries, fill, record_case, tiny_filesystem


def header_bytes(path: Path) -> int:
    """The database's size as its header gives it (page count x page size)."""
    header = path.read_bytes()[:100]
    page_size = int.from_bytes(header[16:18], "big")
    return int.from_bytes(header[28:32], "big") * (65536 if page_size == 1 else page_size)


def is_cut(path: Path) -> bool:
    return path.stat().st_size < header_bytes(path)


def sqlite_reads_it_whole(path: Path) -> int:
    """What SQLite itself makes of the vault, WAL included, without changing it: the entries."""
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        count = int(db.execute("SELECT count(*) FROM entries").fetchone()[0])
    db.close()
    return count


def notes_of(path: Path, case: str) -> list[str]:
    return [entry.text for entry in case_entries(path, case) if entry.kind == "note"]


def nobody_says_restore(*results: object) -> None:
    for result in results:
        said = f"{getattr(result, 'stdout', '')}{getattr(result, 'stderr', '')}".lower()
        assert "restore" not in said and "damaged" not in said, said


def cut_checkpoint_copy(vault: VaultInfo, case: str, where: Path, notes: list[str]) -> Path:
    """A copy of the vault as a checkpoint stopped partway leaves it: the first pages of the
    checkpointed file written (page 1, with its new page count, among them), the rest not,
    and the WAL intact.  `notes` are added (and acknowledged) before the cut."""
    holder = sqlite3.connect(vault.path, isolation_level=None)  # no checkpoint on close
    try:
        holder.execute("SELECT count(*) FROM entries").fetchone()
        for text in notes:
            result = run("note", case, "--text-file", "-", input=text)
            assert result.returncode == 0, result.stderr
        where.mkdir()
        copy = where / "vault.db"
        shutil.copyfile(vault.path, copy)
        shutil.copyfile(f"{vault.path}-wal", f"{copy}-wal")
    finally:
        holder.close()
    before = copy.read_bytes()
    # The checkpoint finished, as it would have been with room to run (made on a scratch copy).
    scratch = where / "scratch"
    scratch.mkdir()
    shutil.copyfile(copy, scratch / "vault.db")
    shutil.copyfile(f"{copy}-wal", scratch / "vault.db-wal")
    finishing = sqlite3.connect(scratch / "vault.db")
    finishing.execute("SELECT count(*) FROM entries").fetchone()
    finishing.close()  # the last connection to close checkpoints
    after = (scratch / "vault.db").read_bytes()
    shutil.rmtree(scratch)
    assert len(after) > len(before) + 8192, "the notes did not extend the vault"
    # Pages are written in order: the cut leaves the new first pages and nothing past them.
    written = (len(before) + len(after)) // 2 // 4096 * 4096
    copy.write_bytes(after[:written] + before[written:])
    return copy


def clone(vault_file: Path, where: Path) -> Path:
    """The same vault files (main file and WAL) in a folder of their own."""
    where.mkdir(mode=0o700)
    shutil.copyfile(vault_file, where / vault_file.name)
    shutil.copyfile(f"{vault_file}-wal", where / f"{vault_file.name}-wal")
    return where / vault_file.name


def test_a_vault_whose_checkpoint_was_cut_is_whole_and_the_next_command_completes_it(
    vault: VaultInfo, tmp_path: Path
) -> None:
    case = record_case(vault.path)
    texts = [f"Note {n}: " + "what was said, " * 200 + "\n" for n in range(6)]
    cut = cut_checkpoint_copy(vault, case, tmp_path / "cut", texts)
    assert is_cut(cut)
    # SQLite itself opens it as it is, every entry there (the WAL holds what the file lacks).
    assert sqlite_reads_it_whole(cut) == 3 + len(texts)

    # Each command meets the cut vault first, on its own copy of it.
    checked = clone(cut, tmp_path / "verified")
    check = run("verify", "--json", env={"SAFEGUARD_VAULT": str(checked)})
    assert check.returncode == 0, check.stderr
    assert f'"entries": {3 + len(texts)}' in check.stdout
    assert notes_of(checked, case) == texts

    backed_up = clone(cut, tmp_path / "backed-up")
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o700)
    nightly = run("backup", "create", str(backups), env={"SAFEGUARD_VAULT": str(backed_up)})
    assert nightly.returncode == 0, nightly.stderr
    (backup,) = backups.glob("*.db")
    assert run("backup", "verify", str(backup)).returncode == 0
    assert notes_of(backup, case) == texts

    written = clone(cut, tmp_path / "written")
    env = {"SAFEGUARD_VAULT": str(written)}
    after = run("note", case, "--text-file", "-", input="Written after the cut.\n", env=env)
    assert after.returncode == 0, after.stderr
    nobody_says_restore(check, nightly, after)
    # Closing, that command completed the checkpoint: the file is as long as its header says.
    assert not is_cut(written)
    assert not Path(f"{written}-wal").exists()
    assert notes_of(written, case) == [*texts, "Written after the cut.\n"]
    assert run("verify", env=env).returncode == 0


def test_a_full_disk_that_cuts_a_checkpoint_says_free_space_and_the_nightly_backup_goes_on(
    tmp_path: Path,
) -> None:
    with tiny_filesystem(tmp_path / "small", 2048) as small:
        path = small / "vault.db"
        unlocked, _ = Vault.create(path, "alice", PASSPHRASE, kdf=FAST_KDF)
        unlocked.close()
        case = record_case(path)
        env = {
            "SAFEGUARD_VAULT": str(path),
            "SAFEGUARD_USER": "alice",
            "SAFEGUARD_PASSPHRASE": PASSPHRASE,
        }
        fill(small, leave_bytes=64 * 1024)
        saved: list[str] = []
        for n in range(12):
            text = f"Note {n}, written as the disk fills. " + "x" * 3000 + "\n"
            result = run("note", case, "--text-file", "-", input=text, env=env)
            nobody_says_restore(result)
            if result.returncode == 0:
                saved.append(text)
            else:
                assert result.returncode == 5, result.stderr
                assert result.stderr.startswith("safeguard: the disk is full"), result.stderr
            if is_cut(path):
                break
        assert is_cut(path), "no checkpoint was cut short"
        assert saved, "nothing was acknowledged before the disk filled"

        # Still full: a note is refused as a full disk, everything else carries on.
        refused = run("note", case, "--text-file", "-", input="One more.\n", env=env)
        assert refused.returncode == 5
        assert "the disk is full" in refused.stderr
        assert "free space and run the command again" in refused.stderr
        check = run("verify", "--json", env=env)
        assert check.returncode == 0, check.stderr
        assert f'"entries": {3 + len(saved)}' in check.stdout
        (tmp_path / "backups").mkdir(mode=0o700)
        nightly = run("backup", "create", str(tmp_path / "backups"), env=env)
        assert nightly.returncode == 0, nightly.stderr
        nobody_says_restore(refused, check, nightly)

        (small / "filler").unlink()
        after = run("note", case, "--text-file", "-", input="Space freed.\n", env=env)
        assert after.returncode == 0, after.stderr
        assert not is_cut(path)
        assert notes_of(path, case) == [*saved, "Space freed.\n"]
        assert run("verify", env=env).returncode == 0
