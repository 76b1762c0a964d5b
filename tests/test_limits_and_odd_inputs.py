"""Exit 70 is for bugs only: odd inputs (bytes that are not UTF-8, a year before 1000, an
impossible time zone, a config nested 2,000 deep) and a machine's own limits (memory, open files,
a read-only disk) each get the contract's code and one or two plain lines."""

from __future__ import annotations

import errno
import resource
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from safeguarding import clock, moments
from safeguarding.errors import UsageError
from safeguarding.vault import Vault
from tests.conftest import DEPUTY_PASSPHRASE, FAST_KDF, PASSPHRASE, VaultInfo, invoke, run
from tests.flowkit import entry_count, text_writer
from tests.reliability import record_case, tiny_filesystem

NOT_UTF8 = "\udcff\udcfe"  # the bytes ff fe, as Python keeps them in argv and the environment


def plain(stderr: str) -> str:
    """The message's first line; there are at most two, and never a traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and len(lines) <= 2 and "Traceback" not in stderr, stderr
    assert "internal error" not in stderr, stderr
    return lines[0]


def limited(resource_id: int, value: int) -> Callable[[], None]:
    return lambda: resource.setrlimit(resource_id, (value, value))


def run_limited(preexec: Callable[[], None], *args: str) -> subprocess.CompletedProcess[str]:
    from tests.conftest import safeguard_executable

    return subprocess.run(
        [safeguard_executable(), *args],
        capture_output=True,
        text=True,
        preexec_fn=preexec,  # the limit holds from the process's start
        timeout=120,
        check=False,
    )


# Bytes that are not UTF-8 ------------------------------------------------------------------


def test_a_passphrase_variable_that_is_not_utf8_is_a_usage_error(vault: VaultInfo) -> None:
    result = run("cases", env={"SAFEGUARD_PASSPHRASE": NOT_UTF8})
    assert result.returncode == 2
    assert "SAFEGUARD_PASSPHRASE is not UTF-8 text" in plain(result.stderr)
    added = run(
        "user",
        "add",
        "Sam Patel",
        "--role",
        "deputy",
        env={"SAFEGUARD_NEW_PASSPHRASE": f"deputy {NOT_UTF8} passphrase"},
    )
    assert added.returncode == 2
    assert "SAFEGUARD_NEW_PASSPHRASE is not UTF-8 text" in plain(added.stderr)
    assert "Sam Patel" not in run("user", "list").stdout


def test_an_output_name_that_is_not_utf8_is_a_usage_error_and_writes_nothing(
    vault: VaultInfo, tmp_path: Path
) -> None:
    case = record_case(vault.path)
    before = entry_count(vault.path)
    folder = tmp_path / "exports"
    folder.mkdir()
    result = run("export", case, "--format", "txt", "--output", f"{folder}/{NOT_UTF8}.txt")
    assert result.returncode == 2
    assert "--output name is not UTF-8" in plain(result.stderr)
    assert list(folder.iterdir()) == []
    assert entry_count(vault.path) == before


# Times ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0999-05-01 10:00", "1000-01-01 00:30+01:00", "0001-01-02"])
def test_a_year_before_1000_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="too far in the past"):
        moments.parse_at(text, clock.now())


def test_a_disclosure_in_the_year_999_is_a_usage_error(vault: VaultInfo, tmp_path: Path) -> None:
    say = text_writer(tmp_path)
    result = invoke(
        *("record", "--category", "staff-misuse", "--subject", "Daniel Price"),
        *("--subject-role", "staff", "--disclosed-by", "Karen Webb", "--relationship", "parent"),
        *("--where", "the office", "--text-file", say("An account."), "--at", "0999-05-01 10:00"),
    )
    assert result.exit_code == 2
    assert "too far in the past" in plain(result.stderr)
    assert entry_count(vault.path) == 2


def test_a_time_zone_a_day_or_more_from_utc_is_a_usage_error(vault: VaultInfo) -> None:
    for args in (("cases",), ("verify",), ("note", "SG-2026-0001", "--text-file", "-")):
        result = run(*args, input="A note.\n", env={"TZ": "UTC+99"})
        assert result.returncode == 2, (args, result.stderr)
        assert "TZ=UTC+99" in plain(result.stderr)
    assert run("--help", env={"TZ": "UTC+99"}).returncode == 0


# Config nested too deeply --------------------------------------------------------------------


def test_a_config_nested_2000_deep_is_a_usage_error(vault: VaultInfo, tmp_path: Path) -> None:
    deep = tmp_path / "config.toml"
    deep.write_text("closure_days = " + "[" * 2000 + "]" * 2000 + "\n")
    result = invoke("cases", env={"SAFEGUARD_CONFIG": str(deep)})
    assert result.exit_code == 2
    assert "nests arrays or tables too deeply" in plain(result.stderr)
    kinds = tmp_path / "categories.toml"
    kinds.write_text("category = " + "[" * 2000 + "]" * 2000 + "\n")
    deep.write_text(f'categories_file = "{kinds}"\n')
    result = invoke("categories", env={"SAFEGUARD_CONFIG": str(deep)})
    assert result.exit_code == 2
    assert "nests arrays or tables too deeply" in plain(result.stderr)


def test_a_manifest_nested_too_deeply_is_a_backup_that_does_not_verify(
    vault: VaultInfo, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    assert invoke("backup", "create", str(folder)).exit_code == 0
    (manifest,) = folder.glob("*.json")
    manifest.write_text("[" * 100_000 + "]" * 100_000)
    (backup,) = folder.glob("*.db")
    result = invoke("backup", "verify", str(backup))
    assert result.exit_code == 1
    assert "cannot be read as JSON" in plain(result.stderr)


# The machine's limits ------------------------------------------------------------------------


@pytest.mark.parametrize("megabytes", [30, 100, 160])
def test_too_little_memory_is_one_line_and_exit_5(vault: VaultInfo, megabytes: int) -> None:
    result = run_limited(limited(resource.RLIMIT_AS, megabytes * 2**20), "verify")
    assert result.returncode == 5, result.stderr
    assert "not enough memory" in plain(result.stderr) and "ulimit -v" in result.stderr
    assert result.stdout == ""


def test_memory_running_out_mid_command_is_exit_5(
    vault: VaultInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(*_args: object, **_kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(Vault, "unlock", exhausted)
    result = invoke("verify")
    assert result.exit_code == 5
    assert "not enough memory" in plain(result.stderr)


@pytest.mark.parametrize("files", [5, 6, 10])
def test_too_few_open_files_is_one_line_and_exit_5(vault: VaultInfo, files: int) -> None:
    result = run_limited(limited(resource.RLIMIT_NOFILE, files), "verify")
    assert result.returncode == 5, result.stderr
    assert "open files" in plain(result.stderr) and "ulimit -n" in result.stderr


def test_running_out_of_files_mid_command_is_exit_5(
    vault: VaultInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(Vault, "unlock", exhausted)
    result = invoke("verify")
    assert result.exit_code == 5
    assert "too many open files" in plain(result.stderr)


def test_a_vault_on_a_read_only_disk_is_named_as_the_problem_not_the_backup_folder(
    tmp_path: Path,
) -> None:
    with tiny_filesystem(tmp_path / "disk", 4096) as disk:
        path = disk / "vault.db"
        unlocked, _ = Vault.create(path, "alice", PASSPHRASE, kdf=FAST_KDF)
        unlocked.close()
        remounted = subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=False)
        if remounted.returncode != 0:
            pytest.skip("this machine does not allow remounting read-only")
        backups = tmp_path / "backups"
        backups.mkdir(mode=0o700)
        env = {"SAFEGUARD_VAULT": str(path), "SAFEGUARD_USER": "alice"}
        result = run("backup", "create", str(backups), env=env)
        assert result.returncode == 5
        line = plain(result.stderr)
        assert str(path) in line and "read-only filesystem" in line
        assert str(backups) not in result.stderr and "permission" not in result.stderr
        assert list(backups.iterdir()) == []
        note = run(
            "user",
            "add",
            "bob",
            "--role",
            "deputy",
            env={
                **env,
                "SAFEGUARD_PASSPHRASE": PASSPHRASE,
                "SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE,
            },
        )
        assert note.returncode == 5
        assert "read-only filesystem" in plain(note.stderr)
        assert "restore" not in note.stderr
