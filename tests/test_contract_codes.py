"""The command-line contract as a user meets it: exit codes (with and without --debug), a
damaged vault, users that do not exist, secret files others can read, and the help itself."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from safeguarding.cli.app import DISTRIBUTION

from tests.conftest import (
    DEPUTY_PASSPHRASE,
    PASSPHRASE,
    VaultInfo,
    every_command,
    invoke,
    run,
    safeguard_executable,
    write_secret,
)
from tests.flowkit import record, text_writer

DAMAGED = "safeguard: the vault is damaged: "


def entry_count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT count(*) FROM entries").fetchone()
    return int(count)


# --debug adds a traceback, never another exit code ----------------------------------------


def test_debug_keeps_the_exit_code_of_a_missing_case(vault: VaultInfo, tmp_path: Path) -> None:
    text = tmp_path / "acc.txt"
    text.write_text("An account.\n")
    for debug in ((), ("--debug",)):
        result = run(*debug, "note", "SG-2026-0099", "--text-file", str(text))
        assert result.returncode == 4, (debug, result.stderr)
        assert result.stderr.splitlines()[-2] == "safeguard: there is no case SG-2026-0099"
        assert ("Traceback" in result.stderr) == bool(debug)


@pytest.mark.parametrize("typo", ["SG-2026-001", "SG-26-0001", "2026-0001", "SG-2026-0001x"])
@pytest.mark.parametrize("command", [("note",), ("timeline",), ("access",), ("export",)])
def test_a_reference_of_the_wrong_shape_says_what_one_looks_like(
    vault: VaultInfo, typo: str, command: tuple[str, ...]
) -> None:
    before = entry_count(vault.path)
    # No passphrase is given: the shape is refused before one is asked for.
    result = invoke(*command, typo, env={"SAFEGUARD_PASSPHRASE": ""})
    assert result.exit_code == 2, result.stderr
    said = " ".join(result.stderr.split())
    assert f"{typo!r} is not a case reference" in said
    assert "a reference looks like SG-YYYY-NNNN, e.g. SG-2026-0007" in said
    assert "there is no case" not in said
    assert entry_count(vault.path) == before


def test_the_library_refuses_a_reference_of_the_wrong_shape_as_usage() -> None:
    from safeguarding.casefile import parse_reference
    from safeguarding.errors import UsageError

    assert parse_reference(" sg-2026-0007 ") == (2026, 7)
    assert parse_reference("SG-2026-12345") == (2026, 12345)
    for typo in ("SG-2026-001", "SG-2026-٣٣٣٣", "SG-2026", "XX-2026-0001", "SG-2026-0001-2"):
        with pytest.raises(UsageError, match="SG-YYYY-NNNN"):
            parse_reference(typo)


def test_debug_keeps_the_exit_code_of_a_wrong_passphrase(vault: VaultInfo) -> None:
    result = run("--debug", "cases", env={"SAFEGUARD_PASSPHRASE": "not the passphrase"})
    assert result.returncode == 3
    assert "Traceback" in result.stderr
    assert "safeguard: wrong passphrase for 'alice'; nothing was changed" in result.stderr
    assert "not the passphrase" not in result.stderr


# A damaged vault: exit 5 when reading, a failed check (1) in verify ------------------------


@dataclass
class DamagedCase:
    case: str
    seq: int  # the entry whose payload was altered


@pytest.fixture
def damaged(vault: VaultInfo, tmp_path: Path) -> DamagedCase:
    """A case whose first note has had one byte of its payload changed."""
    say = text_writer(tmp_path)
    case = record(say)["case"]
    for text in ("First note.", "Second note."):
        result = invoke("note", case, "--text-file", say(text))
        assert result.exit_code == 0, result.stderr
    with sqlite3.connect(vault.path) as db:
        (seq, payload), *_ = db.execute(
            "SELECT seq, payload FROM entries WHERE case_id IS NOT NULL ORDER BY seq LIMIT 1 "
            "OFFSET 1"
        ).fetchall()
        altered = bytearray(payload)
        altered[20] ^= 0x40
        db.execute("DROP TRIGGER entries_no_update")
        db.execute("UPDATE entries SET payload = ? WHERE seq = ?", (bytes(altered), seq))
    return DamagedCase(str(case), int(seq))


@pytest.mark.parametrize(
    "command",
    [
        ("timeline", "{case}"),
        ("export", "{case}", "--format", "json", "--output", "{tmp}/out.json"),
    ],
)
def test_reading_a_damaged_vault_exits_5_saying_what_to_do(
    damaged: DamagedCase, tmp_path: Path, command: tuple[str, ...]
) -> None:
    args = [part.format(case=damaged.case, tmp=tmp_path) for part in command]
    result = run(*args)
    assert result.returncode == 5, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-2] == f"{DAMAGED}entry {damaged.seq} does not decrypt"
    assert "'safeguard verify'" in lines[-1] and "'safeguard restore FILE --to PATH" in lines[-1]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.json").exists()


def test_correcting_a_damaged_case_exits_5_and_changes_nothing(
    vault: VaultInfo, damaged: DamagedCase, tmp_path: Path
) -> None:
    """An amendment names an entry of the case, so the whole case is read: its damage is
    found, and nothing is written."""
    before = entry_count(vault.path)
    text = tmp_path / "note.txt"
    text.write_text("A correction.\n")
    result = run("amend", damaged.case, "3", "--text-file", str(text))
    assert result.returncode == 5, result.stderr
    assert result.stderr.startswith(f"{DAMAGED}entry {damaged.seq} does not decrypt\n")
    assert entry_count(vault.path) == before


def test_listing_and_noting_read_summaries_and_verify_still_names_the_damage(
    vault: VaultInfo, damaged: DamagedCase, tmp_path: Path
) -> None:
    """`cases` and `note` read the case's summary, not its entries: they go on working on a
    case with a damaged entry, and `verify` names it (exit 1), as before and after them."""
    assert run("cases").returncode == 0
    text = tmp_path / "note.txt"
    text.write_text("A note.\n")
    before = entry_count(vault.path)
    noted = run("note", damaged.case, "--text-file", str(text))
    assert noted.returncode == 0, noted.stderr
    assert entry_count(vault.path) == before + 1
    checked = run("verify")
    assert checked.returncode == 1
    assert checked.stderr.startswith(f"safeguard: entry {damaged.seq} has been altered")


def test_verify_still_reports_damage_as_a_failed_check(damaged: DamagedCase) -> None:
    result = run("verify")
    assert result.returncode == 1
    assert result.stderr.startswith(f"safeguard: entry {damaged.seq} has been altered")


def test_a_damaged_case_key_exits_5_when_read_and_1_in_verify(
    vault: VaultInfo, tmp_path: Path
) -> None:
    say = text_writer(tmp_path)
    case = record(say, category="child-protection", subject="Amy Price", role="pupil")["case"]
    with sqlite3.connect(vault.path) as db:
        (key,) = db.execute("SELECT case_key FROM cases").fetchone()
        altered = bytearray(key)
        altered[-1] ^= 0x01
        db.execute("UPDATE cases SET case_key = ?", (bytes(altered),))
    reading = run("timeline", case)
    assert reading.returncode == 5
    assert reading.stderr.splitlines()[0] == f"{DAMAGED}cases.case_key of row 1 does not decrypt"
    verify = run("verify")
    assert verify.returncode == 1
    assert verify.stderr == (
        "safeguard: cases.case_key of row 1 does not decrypt: altered, moved or wrong key\n"
    )


# Users named as the target of a command -------------------------------------------------


def test_disabling_a_user_who_does_not_exist_is_not_found(vault: VaultInfo) -> None:
    result = run("user", "disable", "Nobody")
    assert result.returncode == 4
    assert result.stderr.splitlines() == [
        "safeguard: no user 'Nobody' in this vault",
        "  'safeguard user list' shows the vault's users",
    ]


def test_a_new_passphrase_for_nobody_is_not_found_before_it_is_asked_for(
    vault: VaultInfo,
) -> None:
    # No new passphrase is set and there is no terminal: the lookup comes first.
    result = invoke("user", "passwd", "Nobody")
    assert result.exit_code == 4, result.stderr
    assert result.stderr.startswith("safeguard: no user 'Nobody' in this vault")
    recovery = invoke(
        "user",
        "passwd",
        "Nobody",
        "--recovery",
        env={"SAFEGUARD_RECOVERY_KEY": vault.recovery_key, "SAFEGUARD_NEW_PASSPHRASE": "x" * 20},
    )
    assert recovery.exit_code == 4, recovery.stderr
    assert "no user 'Nobody'" in recovery.stderr


def test_an_unknown_acting_user_is_still_not_allowed(vault: VaultInfo) -> None:
    result = invoke("--user", "Nobody", "user", "disable", "alice")
    assert result.exit_code == 3
    assert "use --user or SAFEGUARD_USER" in result.stderr


# Secret files must be the owner's alone -------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_passphrase_file_others_can_read_is_refused(
    vault: VaultInfo, tmp_path: Path, mode: int
) -> None:
    secret = write_secret(tmp_path / "pass phrase", PASSPHRASE + "\n")
    secret.chmod(mode)
    result = run(
        "cases", env={"SAFEGUARD_PASSPHRASE": "", "SAFEGUARD_PASSPHRASE_FILE": str(secret)}
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"safeguard: SAFEGUARD_PASSPHRASE_FILE is readable by others (mode {mode:04o}): "
        f"chmod 600 '{secret}'\n"
    )
    assert PASSPHRASE not in result.stderr + result.stdout


def test_new_passphrase_and_recovery_key_files_are_checked_too(
    vault: VaultInfo, tmp_path: Path
) -> None:
    before = vault.path.read_bytes()
    new = write_secret(tmp_path / "new", DEPUTY_PASSPHRASE)
    new.chmod(0o644)
    added = invoke(
        "user", "add", "bob", "--role", "deputy", env={"SAFEGUARD_NEW_PASSPHRASE_FILE": str(new)}
    )
    assert added.exit_code == 2
    assert "SAFEGUARD_NEW_PASSPHRASE_FILE is readable by others (mode 0644)" in added.stderr
    key = write_secret(tmp_path / "key", vault.recovery_key)
    key.chmod(0o640)
    recovered = invoke(
        "user",
        "passwd",
        "alice",
        "--recovery",
        env={"SAFEGUARD_RECOVERY_KEY_FILE": str(key), "SAFEGUARD_NEW_PASSPHRASE": "x" * 20},
    )
    assert recovered.exit_code == 2
    assert "SAFEGUARD_RECOVERY_KEY_FILE is readable by others (mode 0640)" in recovered.stderr
    assert vault.recovery_key not in recovered.stderr
    assert vault.path.read_bytes() == before
    new.chmod(0o600)
    assert (
        invoke(
            "user",
            "add",
            "bob",
            "--role",
            "deputy",
            env={"SAFEGUARD_NEW_PASSPHRASE_FILE": str(new)},
        ).exit_code
        == 0
    )


# The help, the version, and what a script without a terminal is told ----------------------


def test_version_comes_from_the_package_and_loads_nothing_heavy() -> None:
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert project["project"]["name"] == DISTRIBUTION
    result = run("--version")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == f"safeguard {version(DISTRIBUTION)}\n"
    code = (
        "import sys\n"
        "sys.argv = ['safeguard', '--version']\n"
        "from safeguarding.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print([m for m in ('sqlalchemy', 'sqlmodel', 'rich.console') if m in sys.modules])\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.splitlines()[-1] == "[]"


def test_bare_safeguard_prints_the_help_on_stdout() -> None:
    result = subprocess.run(
        [safeguard_executable()], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.startswith("Usage: safeguard [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in result.stdout


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, sub in getattr(command, "commands", {}).items():
        yield (*path, name), sub
        yield from _commands(sub, (*path, name))


def test_every_command_lists_a_whole_summary_and_readable_placeholders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    root = every_command()
    for path, command in _commands(root):
        assert command.short_help, f"'safeguard {' '.join(path)}' has no short help"
        listing = invoke(*path[:-1], "--help").stdout
        line = next(ln for ln in listing.splitlines() if ln.startswith(f"  {path[-1]} "))
        assert line.split(None, 1)[1] == command.short_help, line  # whole, on one line
        own = invoke(*path, "--help").stdout
        assert not re.search(r"<[a-z ]+>|\{[A-Za-z_]+\}", own), (path, own)
    advice = invoke("--help").stdout
    assert "Record the advice given, e.g. by the LADO or the County." in advice
    assert invoke("note", "--help").stdout.startswith("Usage: safeguard note [OPTIONS] CASE\n")
    assert "[OPTIONS] NAME\n" in invoke("user", "disable", "--help").stdout
    assert "[OPTIONS] [NAME]\n" in invoke("user", "passwd", "--help").stdout
    top = invoke("--help").stdout
    assert "--vault PATH" in top and "--user NAME" in top
    assert "--width N" in invoke("export", "--help").stdout


def test_passwd_help_names_every_variable_it_reads() -> None:
    text = " ".join(invoke("user", "passwd", "--help").stdout.split())
    for variable in (
        "SAFEGUARD_NEW_PASSPHRASE_FILE",
        "SAFEGUARD_NEW_PASSPHRASE",
        "SAFEGUARD_RECOVERY_KEY_FILE",
        "SAFEGUARD_RECOVERY_KEY",
    ):
        assert re.search(rf"\b{variable}\b(?!_)", text), variable


def test_no_terminal_messages_name_the_person_as_recorded(vault: VaultInfo, tmp_path: Path) -> None:
    first = invoke(
        "--vault",
        str(tmp_path / "new.db"),
        "--user",
        "Alex Morgan",
        "init",
        env={"SAFEGUARD_PASSPHRASE": ""},
    )
    assert first.exit_code == 2
    assert first.stderr.splitlines()[0] == (
        "safeguard: a passphrase for Alex Morgan is needed and there is no terminal to ask on: "
        "set SAFEGUARD_PASSPHRASE_FILE (or SAFEGUARD_PASSPHRASE)"
    )
    added = invoke(
        "user", "add", "Sam Patel", "--role", "deputy", env={"SAFEGUARD_NEW_PASSPHRASE": "z" * 20}
    )
    assert added.exit_code == 0, added.stderr
    again = invoke("user", "passwd", "sam patel")
    assert again.exit_code == 2
    assert again.stderr.splitlines()[0] == (
        "safeguard: a new passphrase for Sam Patel is needed and there is no terminal to ask "
        "on: set SAFEGUARD_NEW_PASSPHRASE_FILE (or SAFEGUARD_NEW_PASSPHRASE)"
    )


def test_damage_in_the_acting_users_own_row_is_a_failed_check_in_verify(
    vault: VaultInfo,
) -> None:
    with sqlite3.connect(vault.path) as db:
        (name,) = db.execute("SELECT name FROM users WHERE id = 1").fetchone()
        altered = bytearray(name)
        altered[-1] ^= 0x01
        db.execute("UPDATE users SET name = ? WHERE id = 1", (bytes(altered),))
    verify = run("verify")
    assert verify.returncode == 1
    assert verify.stderr == (
        "safeguard: users.name of row 1 does not decrypt: altered, moved or wrong key\n"
    )
    cases = run("cases")
    assert cases.returncode == 5
    assert cases.stderr.startswith(f"{DAMAGED}users.name of row 1 does not decrypt\n")
