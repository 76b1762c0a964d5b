"""The foundation's commands as a user meets them: exit codes, messages, files and secrets."""

from __future__ import annotations

import ast
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import (
    DEPUTY_PASSPHRASE,
    PASSPHRASE,
    VaultInfo,
    every_command,
    invoke,
    run,
    safeguard_executable,
    vault_files,
    write_secret,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_a_private_vault_and_shows_the_recovery_key_once(tmp_path: Path) -> None:
    path = tmp_path / "school" / "vault.db"
    result = invoke(
        "--vault",
        str(path),
        "--user",
        "Alice Jones",
        "init",
        env={"SAFEGUARD_PASSPHRASE": PASSPHRASE},
    )
    assert result.exit_code == 0, result.stderr
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert "Recovery key" in result.stdout and "school safe" in result.stdout
    key = next(word for word in result.stdout.split() if word.count("-") == 7)
    assert len(key) == 39
    assert "Alice Jones is its DSL" in result.stderr

    listing = invoke(
        "--vault",
        str(path),
        "--user",
        "alice jones",
        "user",
        "list",
        "--json",
        env={"SAFEGUARD_PASSPHRASE": PASSPHRASE},
    )
    assert listing.exit_code == 0, listing.stderr
    assert '"role": "dsl"' in listing.stdout
    assert key not in listing.stdout  # shown once, never again


def test_init_json_and_default_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAFEGUARD_VAULT")
    result = invoke("--user", "alice", "init", "--json", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 0, result.stderr
    import json

    document = json.loads(result.stdout)
    expected = tmp_path / "home" / "data" / "safeguard" / "vault.db"
    assert document["vault"] == str(expected) and expected.exists()
    assert document["user"] == "alice" and document["role"] == "dsl"
    assert len(document["recovery_key"]) == 39


def test_init_on_an_existing_vault_changes_nothing(vault: VaultInfo) -> None:
    before = vault.path.read_bytes()
    result = invoke("init")
    assert result.exit_code == 2
    assert "already exists; nothing was changed" in result.stderr
    assert vault.path.read_bytes() == before


@pytest.mark.parametrize(
    ("passphrase", "message"),
    [("short", "too short"), ("alice", "too short"), ("alicealicealice", "own name")],
)
def test_init_refuses_weak_passphrases(tmp_path: Path, passphrase: str, message: str) -> None:
    user = "alicealicealice" if message == "own name" else "alice"
    result = invoke("--user", user, "init", env={"SAFEGUARD_PASSPHRASE": passphrase})
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "vault.db").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["home"]


def test_no_passphrase_and_no_terminal_fails_at_once(vault: VaultInfo) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SAFEGUARD_PASSPHRASE"}
    result = subprocess.run(
        [safeguard_executable(), "verify"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "no terminal" in result.stderr and "SAFEGUARD_PASSPHRASE_FILE" in result.stderr


def test_passphrase_file_is_read_without_its_trailing_newline(
    vault: VaultInfo, tmp_path: Path
) -> None:
    secret = write_secret(tmp_path / "secret", PASSPHRASE + "\n")
    result = invoke(
        "verify", env={"SAFEGUARD_PASSPHRASE": "", "SAFEGUARD_PASSPHRASE_FILE": str(secret)}
    )
    assert result.exit_code == 0, result.stderr
    missing = invoke("verify", env={"SAFEGUARD_PASSPHRASE_FILE": str(tmp_path / "nope")})
    assert missing.exit_code == 2 and "cannot be read" in missing.stderr


def records(path: Path) -> list[tuple[object, ...]]:
    """Every row of every table but the failed attempts to unlock, which a refusal adds to."""
    with sqlite3.connect(path) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name != "unlock_attempts"
        ]
        return [
            (table, *row)
            for table in sorted(tables)
            for row in db.execute(f"SELECT * FROM {table}")
        ]


def test_wrong_passphrase_exits_3_and_writes_nothing(vault: VaultInfo) -> None:
    before = records(vault.path)
    result = invoke(
        "user",
        "add",
        "bob",
        "--role",
        "deputy",
        env={
            "SAFEGUARD_PASSPHRASE": "not the passphrase",
            "SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE,
        },
    )
    assert result.exit_code == 3
    assert result.stderr.strip() == "safeguard: wrong passphrase for 'alice'; nothing was changed"
    assert records(vault.path) == before
    with sqlite3.connect(vault.path) as db:  # only the attempt, without the secret tried
        assert db.execute("SELECT tried FROM unlock_attempts").fetchall() == [("passphrase",)]
    assert b"not the passphrase" not in vault.path.read_bytes()


def test_unknown_and_disabled_users_exit_3(vault: VaultInfo) -> None:
    assert invoke("--user", "mallory", "verify").exit_code == 3
    add = invoke(
        "user",
        "add",
        "bob",
        "--role",
        "deputy",
        env={"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE},
    )
    assert add.exit_code == 0, add.stderr
    assert invoke("user", "disable", "bob").exit_code == 0
    result = invoke("--user", "bob", "verify", env={"SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE})
    assert result.exit_code == 3 and "disabled" in result.stderr
    listing = invoke("user", "list")
    assert "disabled" in listing.stdout


def test_unknown_role_is_a_usage_error(vault: VaultInfo) -> None:
    result = invoke(
        "user",
        "add",
        "bob",
        "--role",
        "caretaker",
        env={"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE},
    )
    assert result.exit_code == 2
    assert "dsl, deputy, head" in result.stderr


def test_user_passwd_own_other_and_by_recovery(vault: VaultInfo, tmp_path: Path) -> None:
    invoke(
        "user",
        "add",
        "bob",
        "--role",
        "deputy",
        env={"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE},
    )
    own = invoke("user", "passwd", env={"SAFEGUARD_NEW_PASSPHRASE": "alice's second passphrase"})
    assert own.exit_code == 0, own.stderr
    assert invoke("verify").exit_code == 3
    other = invoke(
        "user",
        "passwd",
        "bob",
        env={
            "SAFEGUARD_PASSPHRASE": "alice's second passphrase",
            "SAFEGUARD_NEW_PASSPHRASE": "bob was reset by alice",
        },
    )
    assert other.exit_code == 0, other.stderr
    assert (
        invoke(
            "--user", "bob", "verify", env={"SAFEGUARD_PASSPHRASE": "bob was reset by alice"}
        ).exit_code
        == 0
    )

    key_file = write_secret(tmp_path / "recovery", vault.recovery_key + "\n")
    recovered = invoke(
        "user",
        "passwd",
        "alice",
        "--recovery",
        env={
            "SAFEGUARD_PASSPHRASE": "",
            "SAFEGUARD_RECOVERY_KEY_FILE": str(key_file),
            "SAFEGUARD_NEW_PASSPHRASE": "alice recovered this one",
        },
    )
    assert recovered.exit_code == 0, recovered.stderr
    assert invoke("verify", env={"SAFEGUARD_PASSPHRASE": "alice recovered this one"}).exit_code == 0

    wrong = invoke(
        "user",
        "passwd",
        "alice",
        "--recovery",
        env={
            "SAFEGUARD_RECOVERY_KEY": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH",
            "SAFEGUARD_NEW_PASSPHRASE": "should not be set now",
        },
    )
    assert wrong.exit_code == 3


def test_missing_vault_and_non_vault_exit_5(tmp_path: Path) -> None:
    missing = invoke(
        "--vault", str(tmp_path / "nope.db"), "verify", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE}
    )
    assert missing.exit_code == 5
    assert "no vault at" in missing.stderr and "safeguard init" in missing.stderr
    assert "the path --vault gives" in " ".join(missing.stderr.split())

    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(4096))
    result = invoke("--vault", str(junk), "verify", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 5 and "not a safeguard vault" in result.stderr

    other_sqlite = tmp_path / "other.db"
    with sqlite3.connect(other_sqlite) as db:
        db.execute("CREATE TABLE t (x)")
    for command in (["verify"], ["db", "status"], ["db", "upgrade"]):
        result = invoke(
            "--vault", str(other_sqlite), *command, env={"SAFEGUARD_PASSPHRASE": PASSPHRASE}
        )
        assert result.exit_code == 5, command
        assert "not a safeguard vault" in result.stderr


def test_newer_schema_exits_5_with_what_to_do(vault: VaultInfo) -> None:
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    for command in (["verify"], ["db", "status"], ["db", "upgrade"], ["user", "list"]):
        result = invoke(*command)
        assert result.exit_code == 5, command
        assert "newer than this safeguard understands" in result.stderr
        assert "install the newer safeguard" in result.stderr


def test_db_status_and_upgrade(vault: VaultInfo) -> None:
    from safeguarding import storage

    status = invoke("db", "status", "--json")
    assert status.exit_code == 0
    assert f'"revision": "{storage.HEAD_REVISION}"' in status.stdout
    assert '"up_to_date": true' in status.stdout
    upgrade = invoke("db", "upgrade")
    assert upgrade.exit_code == 0 and "already up to date" in upgrade.stderr


def test_every_command_has_help(vault: VaultInfo) -> None:

    group = every_command()

    def walk(command, path):  # type: ignore[no-untyped-def]
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    for path, command in walk(group, []):
        assert (command.help or "").strip(), f"'safeguard {' '.join(path)}' has no help text"
        result = invoke(*path, "--help")
        assert result.exit_code == 0, path
        assert "Usage" in result.stdout


def test_vault_and_its_side_files_are_private(vault: VaultInfo) -> None:
    # Hold a reader open so SQLite keeps its WAL and shared-memory files while we write.
    reader = sqlite3.connect(vault.path)
    reader.execute("SELECT count(*) FROM entries").fetchone()
    try:
        result = run(
            "user",
            "add",
            "bob",
            "--role",
            "deputy",
            env={"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE},
        )
        assert result.returncode == 0, result.stderr
        files = vault_files(vault.path)
        assert len(files) == 3
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        reader.close()


def test_names_and_passphrases_never_reach_the_vault_files(
    vault: VaultInfo, tmp_path: Path
) -> None:
    canaries = [
        "Canary Wharfington",
        "Zebedee Quillfeather",
        "dsl-canary-passphrase-91",
        "deputy-canary-pass-37",
    ]
    reader = sqlite3.connect(vault.path)
    reader.execute("SELECT count(*) FROM entries").fetchone()
    try:
        steps = [
            (
                ["user", "add", canaries[0], "--role", "dsl"],
                {"SAFEGUARD_NEW_PASSPHRASE": canaries[2]},
            ),
            (
                ["user", "add", canaries[1], "--role", "deputy"],
                {"SAFEGUARD_NEW_PASSPHRASE": canaries[3]},
            ),
            (
                ["--user", canaries[0], "user", "passwd", canaries[1]],
                {
                    "SAFEGUARD_PASSPHRASE": canaries[2],
                    "SAFEGUARD_NEW_PASSPHRASE": canaries[3] + "x",
                },
            ),
            (
                ["--user", canaries[0], "user", "disable", canaries[1]],
                {"SAFEGUARD_PASSPHRASE": canaries[2]},
            ),
        ]
        for args, env in steps:
            result = run(*args, env=env)
            assert result.returncode == 0, (args, result.stderr)
        blobs = b"".join(f.read_bytes() for f in vault_files(vault.path))
    finally:
        reader.close()
    blobs += vault.path.read_bytes()
    for canary in [*canaries, "alice", PASSPHRASE]:
        for form in {canary, canary.lower(), canary.upper()}:
            assert form.encode() not in blobs, canary
            assert form.encode("utf-16-le") not in blobs, canary


def test_errors_are_one_line_without_traceback_unless_debug(vault: VaultInfo) -> None:
    plain = run("verify", env={"SAFEGUARD_PASSPHRASE": "not the passphrase"})
    assert plain.returncode == 3
    assert "Traceback" not in plain.stderr and len(plain.stderr.strip().splitlines()) == 1
    debug = run("--debug", "verify", env={"SAFEGUARD_PASSPHRASE": "not the passphrase"})
    assert debug.returncode == 3  # --debug adds the traceback, and changes no exit code
    assert "Traceback" in debug.stderr
    assert "not the passphrase" not in debug.stderr


def test_usage_errors_exit_2(vault: VaultInfo) -> None:
    result = invoke("user", "frobnicate")
    assert result.exit_code == 2 and "No such command" in result.stderr
    result = invoke("verify", "--checkpoint", "nonsense")
    assert result.exit_code == 2 and "not a checkpoint" in result.stderr


def test_help_does_not_import_the_database_layer() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['safeguard', '--help']\n"
        "from safeguarding.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "names = ('sqlalchemy', 'sqlmodel', 'alembic', 'safeguarding.vault')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in result.stdout


def _loaded(args: list[str], names: tuple[str, ...]) -> tuple[str, list[str]]:
    """What a real run of `safeguard ARGS` printed, and which of `names` it had imported."""
    code = (
        "import atexit, sys\n"
        f"sys.argv = ['safeguard', *{args!r}]\n"
        f"atexit.register(lambda: print('LOADED', [m for m in {names!r} if m in sys.modules]))\n"
        "from safeguarding.cli import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    printed, _, loaded = result.stdout.rpartition("LOADED ")
    return printed + result.stderr, ast.literal_eval(loaded)


def test_a_note_and_a_timeline_as_json_load_only_what_they_need(
    vault: VaultInfo, say: Callable[[str], str]
) -> None:
    """The commands a DSL and a script run most never load the ORM, Pydantic, the chronology's
    checks or worker processes; a note never loads the JSON documents, and JSON never loads
    Rich's layouts: each would be paid on every run."""
    from tests.flowkit import record

    reference = record(say)["case"]
    never = ("sqlalchemy", "sqlmodel", "pydantic", "alembic", "multiprocessing", "psycopg")
    never += ("safeguarding.integrity",)
    printed, loaded = _loaded(
        ["note", reference, "--text-file", say("Seen.")], (*never, "safeguarding.documents_json")
    )
    assert "Recorded the note as entry 2" in printed
    assert loaded == []
    printed, loaded = _loaded(
        ["timeline", reference, "--json"], (*never, "rich.console", "safeguarding.timeline_rich")
    )
    assert '"number": 2' in printed
    assert loaded == []


def test_dash_h_is_help_as_people_expect() -> None:
    for args in ([], ["note"], ["backup", "create"], ["user", "add"]):
        short = invoke(*args, "-h")
        assert short.exit_code == 0, short.stderr
        assert short.stdout == invoke(*args, "--help").stdout
        assert "-h, --help" in short.stdout


def test_a_vault_not_found_at_the_default_says_where_that_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SAFEGUARD_VAULT set in the shell without `export` never reaches safeguard, which then
    looks in the default place: it says so, and does not tell the DSL to make a new vault."""
    from safeguarding.cli import state

    default = tmp_path / "data" / "vault.db"
    monkeypatch.setattr(state, "default_vault_path", lambda: default)
    monkeypatch.delenv("SAFEGUARD_VAULT", raising=False)
    result = invoke("cases", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE})
    said = " ".join(result.stderr.split())
    assert result.exit_code == 5, said
    assert f"no vault at {default}, the default: neither --vault nor SAFEGUARD_VAULT" in said
    assert "export SAFEGUARD_VAULT=PATH" in said and "~/.profile" in said
    assert "init" not in said

    from_env = invoke("cases", env={"SAFEGUARD_VAULT": str(tmp_path / "elsewhere.db")})
    said = " ".join(from_env.stderr.split())
    assert from_env.exit_code == 5
    assert f"no vault at {tmp_path / 'elsewhere.db'} (the path SAFEGUARD_VAULT gives)" in said


def refuse_access_to(monkeypatch: pytest.MonkeyPatch, path: Path, as_uid: int | None) -> None:
    """This process, as an account that may not read and write `path` (running as another
    uid when `as_uid` is given): what the kernel would say to an account that is not the
    vault's owner, which a test run by root cannot be."""
    real_access = os.access

    def access(target: object, mode: int, **kwargs: object) -> bool:
        if Path(str(target)) == path:
            return False
        return real_access(target, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    if as_uid is not None:
        monkeypatch.setattr(os, "geteuid", lambda: as_uid)


def test_a_vault_of_another_account_is_exit_5_naming_it(
    vault: VaultInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pwd

    owner = pwd.getpwuid(vault.path.stat().st_uid).pw_name
    before = vault.path.read_bytes()
    refuse_access_to(monkeypatch, vault.path, as_uid=4242424)
    for args in (("cases",), ("verify",), ("note", "SG-2026-0001", "--text-file", "-")):
        result = invoke(*args, input="A note.")
        said = " ".join(result.stderr.split())
        assert result.exit_code == 5, said
        assert f"the vault at {vault.path} belongs to the account {owner!r}" in said
        assert "running as 'uid 4242424'" in said
        assert f"sudo -u {owner} -i" in said and "internal error" not in said
    assert vault.path.read_bytes() == before


def test_a_vault_its_own_account_cannot_read_says_how_to_give_it_back(
    vault: VaultInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_access_to(monkeypatch, vault.path, as_uid=None)
    result = invoke("cases")
    said = " ".join(result.stderr.split())
    assert result.exit_code == 5, said
    assert f"cannot read and write the vault at {vault.path}: permission denied" in said
    assert f"chmod 600 {vault.path}" in said


@pytest.mark.skipif(os.geteuid() == 0, reason="root may enter any folder")
def test_a_vault_in_a_folder_this_account_cannot_enter_is_exit_5(
    vault: VaultInfo, tmp_path: Path
) -> None:
    folder = vault.path.parent / "locked"
    folder.mkdir()
    moved = folder / "vault.db"
    vault.path.rename(moved)
    folder.chmod(0)
    try:
        result = invoke("--vault", str(moved), "cases")
    finally:
        folder.chmod(0o700)
    assert result.exit_code == 5, result.stderr
    assert "permission denied" in result.stderr and "internal error" not in result.stderr
