"""Private files: 0600, no name until published, linked where links work and renamed where
they are refused (a FAT stick), temporary names removed on every way out and by the next run
once their process is gone; and on a filesystem without links, `init`, `backup create`,
`restore` and `export` put their files in place, or fail with an exit code of the contract,
one line, and nothing half written."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from safeguarding import backup, files
from safeguarding.vault import Vault
from tests import timeline_case as tc
from tests.conftest import PASSPHRASE, VaultInfo, invoke
from tests.test_backup import append_notes

Refuse = Callable[..., Any]


def refusing(code: int) -> Refuse:
    def link(*args: Any, **kwargs: Any) -> None:
        raise OSError(code, os.strerror(code))

    return link


@pytest.fixture(params=["nameless", "named"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with nameless files, and as on a filesystem without them."""
    if request.param == "named":
        real_open = os.open

        def no_tmpfile(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & getattr(os, "O_TMPFILE", 0) == getattr(os, "O_TMPFILE", -1):
                raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", no_tmpfile)
    elif not hasattr(os, "O_TMPFILE"):
        pytest.skip("no O_TMPFILE here")
    return str(request.param)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "out"
    made.mkdir()
    return made


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_a_private_file_is_0600_and_has_no_name_until_published(mode: str, folder: Path) -> None:
    target = folder / "out.txt"
    with files.PrivateFile(target) as private:
        assert private.nameless == (mode == "nameless")
        private.write_all(b"secret words")
        during = names(folder)
        if mode == "nameless":
            assert during == []
        else:
            assert len(during) == 1 and during[0].startswith(f".safeguard-{os.getpid()}-")
        private.publish()
    assert names(folder) == ["out.txt"]
    assert target.read_bytes() == b"secret words"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_unpublished_file_leaves_nothing(mode: str, folder: Path) -> None:
    with pytest.raises(RuntimeError), files.PrivateFile(folder / "out.txt") as private:
        private.write_all(b"secret words")
        raise RuntimeError("the export failed")
    assert names(folder) == []


def test_an_existing_file_is_replaced_only_when_asked(mode: str, folder: Path) -> None:
    target = folder / "out.txt"
    target.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        files.write_private(target, b"new")
    assert names(folder) == ["out.txt"] and target.read_bytes() == b"keep me"
    files.write_private(target, b"new", replace=True)
    assert names(folder) == ["out.txt"] and target.read_bytes() == b"new"


@pytest.mark.parametrize("code", [errno.EPERM, errno.EXDEV, errno.EOPNOTSUPP])
def test_where_links_are_refused_the_file_is_renamed_into_place(
    mode: str, code: int, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", refusing(code))
    target = folder / "out.txt"
    files.write_private(target, b"on a FAT stick")
    assert names(folder) == ["out.txt"]
    assert target.read_bytes() == b"on a FAT stick"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # Without links, a file that is there is still never replaced unasked.
    with pytest.raises(FileExistsError):
        files.write_private(target, b"other")
    assert names(folder) == ["out.txt"] and target.read_bytes() == b"on a FAT stick"


def test_other_link_errors_are_not_taken_for_a_filesystem_without_links(
    mode: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", refusing(errno.EIO))
    with pytest.raises(OSError, match="Input/output error"):
        files.write_private(folder / "out.txt", b"words")
    assert names(folder) == []


def test_stale_temporary_files_of_gone_processes_are_removed_and_nothing_else(
    folder: Path,
) -> None:
    stale = folder / f".safeguard-{dead_pid()}-{'ab' * 8}.part"
    live = folder / f".safeguard-{os.getpid()}-{'cd' * 8}.part"
    other = folder / ".case.txt.1234abcd.part"
    lookalike = folder / f".safeguard-{dead_pid()}-notours.part"
    for path in (stale, live, other, lookalike):
        path.write_bytes(b"plaintext")
    link = folder / f".safeguard-{dead_pid()}-{'ef' * 8}.part"
    link.symlink_to(other)
    removed = files.remove_stale(folder)
    assert removed == [stale.name]
    assert names(folder) == sorted(p.name for p in (live, other, lookalike, link))
    # The next private file made in a folder clears what a killed one left there.
    stale.write_bytes(b"plaintext")
    files.write_private(folder / "next.txt", b"x")
    assert not stale.exists()


# An export on a filesystem without hard links -----------------------------------------------


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tc.Built:
    case = tc.build_case(tmp_path)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(case.path))
    monkeypatch.setenv("SAFEGUARD_USER", tc.DSL)
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", tc.DSL_PASSPHRASE)
    return case


def exports_recorded(reference: str) -> int:
    result = invoke("audit", "--case", reference, "--json")
    assert result.exit_code == 0, result.stderr
    return sum(1 for event in json.loads(result.stdout) if event["action"] == "exported")


def test_an_export_where_links_are_refused_publishes_its_file(
    mode: str, built: tc.Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    monkeypatch.setattr(os, "link", refusing(errno.EPERM))
    result = invoke("export", built.reference, "-f", "txt", "-o", str(usb / "case.txt"))
    assert result.exit_code == 0, result.stderr
    assert names(usb) == ["case.txt"]
    assert built.reference in (usb / "case.txt").read_text(encoding="utf-8")
    assert exports_recorded(built.reference) == 1


def test_an_export_that_cannot_be_put_in_place_says_it_is_recorded(
    mode: str, built: tc.Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", refusing(errno.EPERM))
    monkeypatch.setattr(os, "rename", refusing(errno.EIO))
    monkeypatch.setattr(files, "_rename_no_replace", refusing(errno.EIO))
    usb = tmp_path / "usb"
    usb.mkdir()
    result = invoke("export", built.reference, "-f", "txt", "-o", str(usb / "case.txt"))
    assert result.exit_code == 2, result.stderr
    assert "could not put the export in place" in result.stderr
    assert "it is recorded as entry" in result.stderr
    assert names(usb) == []


# A vault, its backups and a restore on a filesystem without hard links ----------------------


def no_way_to_put_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """No links, and the rename that would stand in for one fails as a failing disk does."""
    monkeypatch.setattr(os, "link", refusing(errno.EPERM))
    monkeypatch.setattr(os, "rename", refusing(errno.EIO))
    monkeypatch.setattr(files, "_rename_no_replace", refusing(errno.EIO))


def first_line(text: str) -> str:
    return text.splitlines()[0]


def entries_of(path: Path) -> int:
    checked = invoke("--vault", str(path), "verify", "--json")
    assert checked.exit_code == 0, checked.stderr
    return int(json.loads(checked.stdout)["entries"])


@pytest.fixture
def usb(tmp_path: Path) -> Path:
    made = tmp_path / "usb"
    made.mkdir()
    return made


@pytest.fixture
def new_vault(usb: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = usb / "vault.db"
    monkeypatch.setenv("SAFEGUARD_VAULT", str(path))
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    return path


def test_init_where_links_are_refused_creates_the_vault(
    new_vault: Path, usb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", refusing(errno.EPERM))
    result = invoke("init", "--json")
    assert result.exit_code == 0, result.stderr
    assert names(usb) == ["vault.db"]
    assert stat.S_IMODE(new_vault.stat().st_mode) == 0o600
    opened = Vault.open(new_vault)
    try:
        opened.unlock_with_recovery_key(json.loads(result.stdout)["recovery_key"])
    finally:
        opened.close()
    assert entries_of(new_vault) >= 1


def test_init_that_cannot_put_its_vault_in_place_says_so_and_leaves_nothing(
    new_vault: Path, usb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_way_to_put_in_place(monkeypatch)
    result = invoke("init", "--json")
    assert result.exit_code == 5, result.stderr
    assert first_line(result.stderr) == (
        f"safeguard: could not write the vault at {new_vault} (input/output error); "
        "no vault was created"
    )
    assert names(usb) == []


def test_backups_where_links_are_refused_are_made_whole_and_verify(
    mode: str, vault: VaultInfo, usb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "link", refusing(errno.EPERM))
    for _ in range(2):
        result = invoke("backup", "create", str(usb))
        assert result.exit_code == 0, result.stderr
    copies = [name for name in names(usb) if name.endswith(".db")]
    manifests = [name.removesuffix(".db") + ".json" for name in copies]
    assert len(copies) == 2
    assert names(usb) == sorted([backup.LOCK_NAME, *copies, *manifests])
    assert {stat.S_IMODE((usb / name).stat().st_mode) for name in names(usb)} == {0o600}
    listed = invoke("backup", "list", str(usb), "--json")
    assert [entry["verified"] for entry in json.loads(listed.stdout)] == [True, True]


def test_a_backup_that_cannot_be_put_in_place_says_so_and_leaves_nothing(
    mode: str, vault: VaultInfo, usb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_way_to_put_in_place(monkeypatch)
    result = invoke("backup", "create", str(usb))
    assert result.exit_code == 5, result.stderr
    assert first_line(result.stderr) == (
        f"safeguard: could not write to {usb} (input/output error); no backup was written"
    )
    assert names(usb) == [backup.LOCK_NAME]


@pytest.fixture
def taken(vault: VaultInfo, tmp_path: Path) -> Path:
    """A backup of the vault, which has moved on since by two entries."""
    folder = tmp_path / "backups"
    folder.mkdir()
    made = backup.create(vault.path, folder).path
    append_notes(vault, 2)
    return made


def test_a_restore_where_links_are_refused_puts_the_vault_in_place_and_keeps_the_old_one(
    mode: str, vault: VaultInfo, taken: Path, usb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = entries_of(vault.path)
    monkeypatch.setattr(os, "link", refusing(errno.EPERM))
    fresh = usb / "vault.db"
    result = invoke("restore", str(taken), "--to", str(fresh))
    assert result.exit_code == 0, result.stderr
    assert names(usb) == ["vault.db"]
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert entries_of(fresh) == before - 2

    result = invoke("restore", str(taken), "--to", str(vault.path), "--force")
    assert result.exit_code == 0, result.stderr
    [aside] = vault.path.parent.glob("vault.db.replaced-*")
    assert stat.S_IMODE(aside.stat().st_mode) == 0o600
    assert entries_of(vault.path) == before - 2
    assert entries_of(aside) == before
    assert [name for name in names(vault.path.parent) if files.is_temp_name(name)] == []


def test_a_restore_that_cannot_be_put_in_place_says_so_and_changes_nothing(
    mode: str, vault: VaultInfo, taken: Path, usb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = entries_of(vault.path)
    around = names(vault.path.parent)
    with monkeypatch.context() as patched:
        no_way_to_put_in_place(patched)
        fresh = usb / "vault.db"
        result = invoke("restore", str(taken), "--to", str(fresh))
        assert result.exit_code == 5, result.stderr
        assert first_line(result.stderr) == (
            f"safeguard: could not write to {usb} (input/output error); nothing was changed"
        )
        assert names(usb) == []

        result = invoke("restore", str(taken), "--to", str(vault.path), "--force")
        assert result.exit_code == 5, result.stderr
        assert "nothing was changed" in first_line(result.stderr)
        assert names(vault.path.parent) == around
    assert entries_of(vault.path) == before
