"""A vault on a PostgreSQL server: what a trust's staff would notice of it, against a real
server of the tests' own (tests/pgserver.py).  The flow and restricted cases run on both
engines in their own files (the `any_vault` fixture); here is what belongs to a server alone."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeguarding import storage
from safeguarding.server import Server
from tests.conftest import PASSPHRASE, SetClock, VaultInfo, invoke, run, today, write_secret
from tests.flowkit import Say, entry, entry_count, record
from tests.pgserver import DATABASE, PgServer, School
from tests.reliability import case_entries, record_case
from tests.test_release_fixtures import ALEX, FIXTURE
from tests.test_reliability import _start_note

OLD_BACKUPS = FIXTURE / "backups"


def _init(env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = invoke(
        "--user", "alice", "init", "--json", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE, **(env or {})}
    )
    return result.exit_code, result.stdout, result.stderr


def test_init_makes_a_vault_in_the_schema_and_a_second_init_changes_nothing(
    pg_school: School, say: Say, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _init()
    assert code == 0, err
    made = json.loads(out)
    assert made["vault"] == str(Server.parse(pg_school.url))
    assert made["vault"].endswith(f"&schema={pg_school.schema}")
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    case = record(say)["case"]
    before = entry_count(Server.parse(pg_school.url))
    again = invoke("--user", "alice", "init", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE})
    assert again.exit_code == 2
    assert f"the schema {pg_school.schema!r} already holds tables" in again.stderr
    assert entry_count(Server.parse(pg_school.url)) == before
    assert invoke("timeline", case).exit_code == 0


def test_the_flow_to_a_json_export_reads_the_same_on_both_engines(
    any_vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    """record, refer, advice, an action done, close; the timeline, a JSON export that verifies
    against its checkpoint, and `verify`: on a file and on a server alike."""
    case = record(say, subject="Daniel Price")["case"]
    entry(say, "refer", case, "--to", "lado", "--contact", "J. Okafor", text="Told the LADO.")
    entry(say, "advice", case, "--from", "J. Okafor", text="Meet him.")
    due = (today() + timedelta(days=7)).isoformat()
    entry(say, "action", "add", case, "--owner", "Head", "--due", due, text="Meet Mr Price.")
    entry(say, "action", "done", case, "1", text="Met him.")
    assert entry(say, "close", case, "--outcome", "substantiated")["status"] == "closed"
    timeline = json.loads(invoke("timeline", case, "--json").stdout)
    texts = [e["text"] for e in timeline["entries"]]
    assert texts[1:4] == ["Told the LADO.", "Meet him.", "Meet Mr Price."]
    exported = tmp_path / "case.json"
    made = invoke("export", case, "--format", "json", "--output", str(exported))
    assert made.exit_code == 0, made.stderr
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert document["case"] == case and document["entries"][-1]["kind"] == "export"
    assert document["subjects"] == [{"name": "Daniel Price", "role": "staff"}]
    checked = invoke("verify", "--checkpoint", document["checkpoint"])
    assert checked.exit_code == 0, checked.stderr


def test_the_database_administrator_sees_only_ciphertext(
    pg_server: PgServer, pg_school: School, say: Say, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _init()[0] == 0
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    case = record(say, subject="Zebedee Quartermaine")["case"]
    entry(say, "note", case, text="Whispered about the blue caravan.")
    dumped = pg_server.admin(
        f"SELECT e.payload, e.facts, u.name FROM {pg_school.schema}.entries e "
        f"CROSS JOIN {pg_school.schema}.users u"
    )
    for clear in ("Zebedee", "Quartermaine", "blue caravan", "alice"):
        assert clear not in dumped
        assert clear.encode().hex() not in dumped


def test_the_chronology_is_append_only_on_the_server(
    pg_server: PgServer, pg_school: School
) -> None:
    assert _init()[0] == 0
    schema = pg_school.schema
    for sql, said in (
        (f"UPDATE {schema}.entries SET kind = 'note'", "entries cannot be changed"),
        (f"DELETE FROM {schema}.entries", "entries cannot be removed"),
        (f"TRUNCATE {schema}.entries CASCADE", "entries cannot be removed"),
    ):
        with pytest.raises(RuntimeError, match=said):
            pg_server.admin(sql)
    assert (
        invoke("--user", "alice", "verify", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE}).exit_code == 0
    )


@pytest.mark.parametrize("trigger", ["entries_no_delete", "entries_no_truncate"])
def test_verify_names_a_trigger_dropped_by_hand(
    pg_server: PgServer, pg_school: School, trigger: str
) -> None:
    assert _init()[0] == 0
    pg_server.admin(f"DROP TRIGGER {trigger} ON {pg_school.schema}.entries")
    result = invoke("--user", "alice", "verify", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 1
    assert "append-only triggers were removed" in result.stderr


def test_db_status_and_upgrade_on_the_server(pg_school: School, tmp_path: Path) -> None:
    assert _init()[0] == 0
    status = invoke("db", "status", "--json")
    assert status.exit_code == 0, status.stderr
    document = json.loads(status.stdout)
    assert document["up_to_date"] is True and document["revision"] == document["head"]
    upgraded = invoke("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert "already up to date" in upgraded.stderr


def test_a_url_holding_a_password_is_refused_without_repeating_it(tmp_path: Path) -> None:
    url = "postgresql://school_a:Sesame-Open-42@db.example/safeguarding?schema=school_a"
    result = run("--vault", url, "cases")
    assert result.returncode == 2
    assert "holds a password" in result.stderr and "~/.pgpass" in result.stderr
    assert "Sesame-Open-42" not in result.stderr + result.stdout


def test_a_wrong_password_is_exit_5_and_never_repeated(
    pg_school: School, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _init()[0] == 0
    wrong = "Wrong-Horse-Battery-99"
    monkeypatch.setenv("PGPASSFILE", str(write_secret(tmp_path / "wrong", f"*:*:*:*:{wrong}\n")))
    result = run("--user", "alice", "cases", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 5, result.stderr
    assert "cannot connect to the vault's server" in result.stderr
    assert "password authentication failed" in result.stderr
    assert wrong not in result.stderr + result.stdout
    monkeypatch.delenv("PGPASSFILE")
    monkeypatch.setenv("PGPASSWORD", wrong)
    result = run("--user", "alice", "cases", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 5
    assert wrong not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_an_unreachable_server_is_exit_5_naming_it(tmp_path: Path) -> None:
    url = f"postgresql://school_a@/safeguarding?host={tmp_path}/nowhere&schema=school_a"
    result = run("--vault", url, "--user", "alice", "cases")
    assert result.returncode == 5
    assert "cannot connect to the vault's server" in result.stderr
    assert "schema=school_a" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_schema_is_named(pg_server: PgServer, pg_school: School) -> None:
    url = pg_school.url.replace(f"schema={pg_school.schema}", "schema=no_such_school")
    result = invoke(
        "--vault", url, "--user", "alice", "init", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE}
    )
    assert result.exit_code == 5
    assert "there is no schema 'no_such_school'" in result.stderr
    assert "CREATE SCHEMA no_such_school" in result.stderr


@pytest.mark.parametrize("schema", ["School_A", "a;drop", "a b", "1abc"])
def test_a_schema_name_must_be_plain(schema: str) -> None:
    result = invoke("--vault", f"postgresql:///db?schema={schema}", "cases")
    assert result.exit_code == 2
    assert "must be one plain name" in result.stderr


def test_the_config_file_can_name_the_vault(
    pg_school: School, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, say: Say
) -> None:
    monkeypatch.delenv("SAFEGUARD_VAULT")
    config = tmp_path / "config.toml"
    config.write_text(f'vault = "{pg_school.url}"\n', encoding="utf-8")
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    assert _init()[0] == 0
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    record(say)
    assert entry_count(Server.parse(pg_school.url)) == 3
    assert not (tmp_path / "home" / "data" / "safeguard" / "vault.db").exists()


def _backup(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    made = invoke("backup", "create", str(folder), "--json")
    assert made.exit_code == 0, made.stderr
    return Path(json.loads(made.stdout)["backup"])


def test_a_school_moves_to_the_server_and_back(
    vault: VaultInfo, pg_server: PgServer, tmp_path: Path, say: Say, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = record(say, subject="Ada Lovelace")["case"]
    entry(say, "note", case, text="Seen at lunch.")
    from_file = _backup(tmp_path / "from-file")
    school = pg_server.school()
    monkeypatch.setenv("PGPASSFILE", str(write_secret(tmp_path / "pgpass", school.pgpass_line())))
    restored = invoke("restore", str(from_file), "--to", school.url, "--full", "--json")
    assert restored.exit_code == 0, restored.stderr
    assert json.loads(restored.stdout)["restored"] == str(Server.parse(school.url))
    monkeypatch.setenv("SAFEGUARD_VAULT", school.url)
    assert invoke("verify").exit_code == 0
    entry(say, "note", case, text="Written on the server.")
    timeline = invoke("timeline", case)
    assert timeline.exit_code == 0 and "Written on the server." in timeline.stdout
    assert "Ada Lovelace" in timeline.stdout

    from_server = _backup(tmp_path / "from-server")
    checked = invoke("backup", "verify", str(from_server), "--full")
    assert checked.exit_code == 0, checked.stderr
    status = invoke("backup", "status", str(tmp_path / "from-server"))
    assert status.exit_code == 0, status.stderr
    back = tmp_path / "back" / "vault.db"
    assert invoke("restore", str(from_server), "--to", str(back)).exit_code == 0
    monkeypatch.setenv("SAFEGUARD_VAULT", str(back))
    assert invoke("verify").exit_code == 0
    on_server = entry_count(Server.parse(school.url))
    assert entry_count(back) == on_server > entry_count(vault.path)


def test_restore_to_the_server_needs_an_empty_schema(
    pg_school: School, tmp_path: Path, say: Say, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _init()[0] == 0
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    record(say)
    backup = _backup(tmp_path / "backups")
    before = entry_count(Server.parse(pg_school.url))
    again = invoke("restore", str(backup), "--to", pg_school.url)
    assert again.exit_code == 2 and "already holds tables" in again.stderr
    forced = invoke("restore", str(backup), "--to", pg_school.url, "--force")
    assert forced.exit_code == 2 and "only into an empty schema" in forced.stderr
    assert entry_count(Server.parse(pg_school.url)) == before


def test_a_0_1_0_backup_restored_to_the_server_upgrades_there(
    pg_school: School, tmp_path: Path, set_clock: SetClock
) -> None:
    """The 0.1.0 backup (schema 0002) loaded into a schema; `db upgrade` runs every later
    migration on the server, after a backup of it, and the vault verifies and reads back."""
    set_clock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    folder = tmp_path / "old"
    shutil.copytree(OLD_BACKUPS, folder)
    for path in folder.iterdir():
        os.chmod(path, 0o600)
    backup = next(folder.glob("*.db"))
    assert invoke("restore", str(backup), "--to", pg_school.url).exit_code == 0
    refused = invoke("cases", env=ALEX)
    assert refused.exit_code == 5 and "safeguard db upgrade" in refused.stderr
    status = json.loads(invoke("db", "status", "--json").stdout)
    assert (status["revision"], status["up_to_date"]) == ("0002", False)
    no_folder = invoke("db", "upgrade", env=ALEX)
    assert no_folder.exit_code == 2 and "--backup-dir" in no_folder.stderr
    assert json.loads(invoke("db", "status", "--json").stdout)["revision"] == "0002"
    backups = tmp_path / "before-upgrade"
    backups.mkdir()
    upgraded = invoke("db", "upgrade", "--backup-dir", str(backups), env=ALEX)
    assert upgraded.exit_code == 0, upgraded.stderr
    assert f"from 0002 to {storage.HEAD_REVISION}" in upgraded.stderr
    taken = next(backups.glob("*.db"))
    assert invoke("backup", "verify", str(taken)).exit_code == 0
    verified = invoke("verify", "--json", env=ALEX)
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(verified.stdout)["before_signatures"] == 10
    shown = json.loads(invoke("timeline", "SG-2026-0001", "--json", env=ALEX).stdout)
    texts = [e["text"] for e in shown["entries"]]
    assert "He has been messaging my daughter on Instagram." in texts


def _setup_sql(school: str) -> tuple[str, str]:
    """The README's server-side setup for `school`: before `init`, and the grants after it,
    with the passwords it leaves to the reader chosen here."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For a trust: PostgreSQL", 1)[1].split("\n## ", 1)[0]
    before, after = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    named = [block.replace("school_a", school) for block in (before, after)]
    # `\password ROLE` asks at psql's prompt: here, the passwords a reader would type.
    typed = {f"{school}_owner": "owner-pw", school: "staff-pw"}
    named[0] = re.sub(
        r"^\\password (\w+)$",
        lambda m: f"ALTER ROLE {m.group(1)} PASSWORD '{typed[m.group(1)]}';",
        named[0].replace("DATABASE safeguarding", f"DATABASE {DATABASE}"),
        flags=re.M,
    )
    return named[0], named[1]


def _school_as_the_readme_says(
    server: PgServer, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """A school set up with the README's SQL, its vault made by its owner role: the URLs of
    the owner and of the staff's application role (both passwords in PGPASSFILE)."""
    before, grants = _setup_sql(name)
    server.admin(before)
    passfile = tmp_path / "pgpass"
    lines = passfile.read_text() if passfile.exists() else ""
    lines += f"*:*:*:{name}_owner:owner-pw\n*:*:*:{name}:staff-pw\n"
    monkeypatch.setenv("PGPASSFILE", str(write_secret(passfile, lines)))
    owner, staff = server.url(f"{name}_owner", name), server.url(name, name)
    made = invoke(
        "--vault", owner, "--user", "alice", "init", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE}
    )
    assert made.exit_code == 0, made.stderr
    server.admin(f"SET ROLE {name}_owner; {grants}")
    return owner, staff


def test_two_schools_on_one_server_never_see_each_other(
    pg_server: PgServer, tmp_path: Path, say: Say, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    suffix = os.urandom(3).hex()
    _, north = _school_as_the_readme_says(pg_server, f"north_{suffix}", tmp_path, monkeypatch)
    _, south = _school_as_the_readme_says(pg_server, f"south_{suffix}", tmp_path, monkeypatch)
    monkeypatch.setenv("SAFEGUARD_VAULT", north)
    north_case = record(say, subject="Nora North")["case"]
    monkeypatch.setenv("SAFEGUARD_VAULT", south)
    record(say, subject="Sid South")
    record(say, subject="Sue South")
    for url, subjects in ((north, ["Nora North"]), (south, ["Sid South", "Sue South"])):
        listed = json.loads(invoke("--vault", url, "cases", "--names", "--json").stdout)
        assert sorted(s["name"] for c in listed for s in c["subjects"]) == subjects
        assert invoke("--vault", url, "verify").exit_code == 0
    # South's staff role, pointed at North's schema, is refused by the server.
    trespass = north.replace(f"postgresql://north_{suffix}@", f"postgresql://south_{suffix}@")
    refused = invoke("--vault", trespass, "cases")
    assert refused.exit_code == 5 and "permission denied" in refused.stderr
    assert north_case not in refused.stdout


def test_the_staff_role_may_add_to_the_chronology_but_never_change_it(
    pg_server: PgServer, tmp_path: Path, say: Say, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    name = f"east_{os.urandom(3).hex()}"
    _, staff = _school_as_the_readme_says(pg_server, name, tmp_path, monkeypatch)
    monkeypatch.setenv("SAFEGUARD_VAULT", staff)
    case = record(say)["case"]
    entry(say, "refer", case, "--to", "lado")
    added = invoke(
        "user",
        "add",
        "bob",
        "--role",
        "deputy",
        env={"SAFEGUARD_NEW_PASSPHRASE": "bob's passphrase 2026"},
    )
    assert added.exit_code == 0, added.stderr
    assert invoke("verify").exit_code == 0
    # The staff role may erase, but not rewrite the tables that held the keys: it is told so.
    entry(say, "close", case, "--outcome", "substantiated", text="Finished.")
    erased = invoke("erase", case, "--text-file", say("Its date has come."))
    assert erased.exit_code == 0, erased.stderr
    assert "VACUUM FULL" in erased.stderr and "schema's owner" in erased.stderr
    connection = storage.open_connection(Server.parse(staff))
    try:
        for sql in ("UPDATE entries SET kind = 'note'", "DELETE FROM entries", "TRUNCATE entries"):
            with pytest.raises(sqlite3.OperationalError, match="permission denied"):
                connection.execute(sql)
        with pytest.raises(sqlite3.OperationalError, match="must be owner"):
            connection.execute("DROP TRIGGER entries_no_update ON entries")
    finally:
        connection.close()


WRITERS, NOTES = 6, 30
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from safeguarding.entries import Note
    from safeguarding.server import location
    from tests.reliability import open_casebook

    where, case, name, go = location(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
    book = open_casebook(where)
    (go.parent / f"ready-{name}").touch()
    while not go.exists():
        time.sleep(0.005)
    for number in range(int(sys.argv[5])):
        book.add(case, Note(text=f"{name} {number}"))
        time.sleep(0.003)
    book.unlocked.close()
    """
)


def _server_vault(pg_school: School, monkeypatch: pytest.MonkeyPatch) -> Server:
    assert _init()[0] == 0
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    return Server.parse(pg_school.url)


def _seqs(server: Server) -> list[int]:
    return [int(row[0]) for row in raw_rows(server, "SELECT seq FROM entries ORDER BY seq")]


def raw_rows(server: Server, sql: str) -> list[tuple[object, ...]]:
    connection = storage.open_connection(server)
    try:
        return [tuple(row) for row in connection.execute(sql).fetchall()]
    finally:
        connection.close()


@pytest.mark.slow
def test_six_writers_at_once_on_the_server_lose_nothing(
    pg_school: School, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = _server_vault(pg_school, monkeypatch)
    case = record_case(server)  # type: ignore[arg-type]
    go = tmp_path / "go"
    names = [f"writer-{n}" for n in range(WRITERS)]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, pg_school.url, case, name, str(go), str(NOTES)],
            cwd=Path(__file__).parent.parent,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{n}").exists() for n in names):
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.01)
    go.touch()  # every writer unlocked: now they append at once
    for writer in writers:
        _, errors = writer.communicate(timeout=300)
        assert writer.returncode == 0, errors

    notes = [e for e in case_entries(server, case) if e.kind == "note"]  # type: ignore[arg-type]
    assert len(notes) == WRITERS * NOTES
    for name in names:  # each writer's notes all there, in the order it wrote them
        mine = [e.text for e in sorted(notes, key=lambda e: e.id) if e.text.startswith(name)]
        assert mine == [f"{name} {number}" for number in range(NOTES)]
    by_seq = [e.text.split()[0] for e in sorted(notes, key=lambda e: e.id)]
    assert sum(1 for a, b in itertools.pairwise(by_seq) if a != b) > WRITERS, "never overlapped"
    seqs = _seqs(server)
    assert seqs == list(range(1, len(seqs) + 1))
    verified = run("verify")
    assert verified.returncode == 0, verified.stderr


def test_a_note_that_cannot_get_the_head_s_lock_exits_5_and_writes_nothing(
    pg_school: School, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = _server_vault(pg_school, monkeypatch)
    case = record_case(server)  # type: ignore[arg-type]
    before = entry_count(server)
    holder = storage.open_connection(server)
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT id FROM vault_meta WHERE id = 1 FOR UPDATE")
        started = time.monotonic()
        result = run(
            "note",
            case,
            "--text-file",
            "-",
            input="A note that must wait for the lock.\n",
            env={"SAFEGUARD_BUSY_TIMEOUT": "0.5"},
        )
        waited = time.monotonic() - started
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert result.returncode == 5, result.stderr
    assert "busy" in result.stderr and "SAFEGUARD_BUSY_TIMEOUT" in result.stderr
    assert waited < 30
    assert entry_count(server) == before
    assert run("verify").returncode == 0


KILLS = 15


@pytest.mark.slow
def test_a_writer_killed_mid_write_loses_nothing_acknowledged(
    pg_school: School, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed with SIGKILL at any moment, a writer's connection drops and the server rolls its
    transaction back: every note reported saved is there, whole, once."""
    server = _server_vault(pg_school, monkeypatch)
    case = record_case(server)  # type: ignore[arg-type]
    started = time.monotonic()
    assert _start_note(case, "calibration note\n").wait(timeout=60) == 0
    typical = time.monotonic() - started
    rng = random.Random(11)
    sent: dict[str, int] = {}
    for attempt in range(KILLS):
        text = f"kill-9 note {attempt} {uuid.uuid4().hex}\n"
        started = time.monotonic()
        process = _start_note(case, text)
        if attempt % 5 == 4:  # runs to the end, and times a run again (the machine is shared)
            sent[text] = process.wait(timeout=60)
            typical = time.monotonic() - started
            continue
        time.sleep(rng.uniform(0.2, 1.1) * typical)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        sent[text] = process.wait(timeout=60)
    reported = {text for text, code in sent.items() if code == 0}
    killed = [text for text, code in sent.items() if code == -signal.SIGKILL]
    assert len(reported) + len(killed) == KILLS, sorted(sent.values())
    assert len(killed) >= KILLS // 4, "the kills did not spread over the command's run"
    verified = run("verify")
    assert verified.returncode == 0, verified.stderr
    notes = [e.text for e in case_entries(server, case) if e.kind == "note"]  # type: ignore[arg-type]
    assert notes[0] == "calibration note\n"
    assert reported <= set(notes), "a note whose command reported success was lost"
    assert set(notes[1:]) <= set(sent) and len(notes) == len(set(notes))
    seqs = _seqs(server)
    assert seqs == list(range(1, len(seqs) + 1))


KILLED_INIT = textwrap.dedent(
    """
    import os, signal, sys
    from safeguarding import crypto
    from safeguarding.server import location
    from safeguarding.vault import Vault

    kdf = crypto.KdfParams(iterations=1, memory_kib=1024, lanes=1)
    with Vault.build(location(sys.argv[1]), "mallory", "a passphrase of mallory's", kdf):
        os.kill(os.getpid(), signal.SIGKILL)  # before the recovery key was shown
    """
)


def test_an_init_killed_before_the_key_was_shown_leaves_no_vault(
    pg_school: School, pg_server: PgServer
) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_INIT, pg_school.url], capture_output=True, check=False
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    tables = pg_server.admin(
        f"SELECT count(*) FROM pg_tables WHERE schemaname = '{pg_school.schema}'"
    )
    assert int(tables) > 0  # the schema was migrated; its rows were never committed
    assert pg_server.admin(f"SELECT count(*) FROM {pg_school.schema}.vault_meta").strip() == "0"
    refused = invoke("--user", "mallory", "cases", env={"SAFEGUARD_PASSPHRASE": "x" * 20})
    assert refused.exit_code == 5 and "not a safeguard vault" in refused.stderr
    code, _, err = _init()
    assert code == 0, err
    assert entry_count(Server.parse(pg_school.url)) == 2


def test_a_staff_concern_triaged_and_the_audit_on_the_server(
    pg_school: School, monkeypatch: pytest.MonkeyPatch, say: Say
) -> None:
    """A member of staff's concern, the inbox, its triage and the audit, which lists events of
    no case at all (a list of cases SQLite takes empty, and PostgreSQL refuses so)."""
    _server_vault(pg_school, monkeypatch)
    tess = {"SAFEGUARD_USER": "tess", "SAFEGUARD_PASSPHRASE": "tess passphrase 2026"}
    added = invoke(
        "user",
        "add",
        "tess",
        "--role",
        "staff",
        env={"SAFEGUARD_NEW_PASSPHRASE": tess["SAFEGUARD_PASSPHRASE"]},
    )
    assert added.exit_code == 0, added.stderr
    told = ("concern", "--about", "Amy Price", "--about-role", "pupil", "--where", "the hall")
    concern = invoke(*told, "--text-file", say("She said she was scared."), env=tess)
    assert concern.exit_code == 0, concern.stderr
    assert "Amy Price" in invoke("inbox", "1").stdout
    triaged = invoke("triage", "1", "--no-action", "--text-file", say("Spoke to her: fine."))
    assert triaged.exit_code == 0, triaged.stderr
    audit = invoke("audit")
    assert audit.exit_code == 0, audit.stderr
    assert "triaged concern 1: no further action" in audit.stdout
    assert invoke("verify").exit_code == 0


def test_the_migrated_schema_on_the_server_matches_the_models(pg_school: School) -> None:
    """Every migration, run on PostgreSQL, leaves the schema the models describe."""
    from safeguarding import migrate

    assert _init()[0] == 0
    engine = storage.make_engine(Server.parse(pg_school.url))
    try:
        migrate.check_drift(engine)
    finally:
        engine.dispose()


def test_the_config_file_s_vault_may_be_a_file_beside_it_and_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAFEGUARD_VAULT")
    folder = tmp_path / "settings"
    folder.mkdir()
    config = folder / "config.toml"
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    config.write_text('vault = "records/school.db"\n', encoding="utf-8")
    assert _init()[0] == 0
    assert (folder / "records" / "school.db").is_file()
    config.write_text("vault = 3\n", encoding="utf-8")
    refused = invoke("cases")
    assert refused.exit_code == 2
    assert "'vault' must be a vault file's path or a postgresql:// URL" in refused.stderr
    named = invoke("--vault", str(folder / "records" / "school.db"), "db", "status")
    assert named.exit_code == 0, named.stderr  # --vault comes first: the file is not read


def test_a_write_whose_statement_fails_at_its_commit_keeps_none_of_it(
    any_vault: VaultInfo,
) -> None:
    """On a server a write's inserts and updates go with its next statement (or its commit):
    one refused there still fails the whole write, and nothing of it is kept."""
    from safeguarding import chronology
    from safeguarding.db import VaultMeta
    from safeguarding.vault import Vault

    unlocked = Vault.open(any_vault.path).unlock("alice", PASSPHRASE)
    connection = unlocked.vault.connection
    try:
        with storage.reading(connection) as db:
            before = chronology.head(db)
        with pytest.raises(sqlite3.DatabaseError), storage.writing(connection) as db:
            entry = chronology.append(
                db,
                signer=unlocked.signer,
                payload_key=unlocked.keys.field_key,
                kind="note",
                payload={"text": "never kept"},
            )
            db.insert(entry)  # the same entry again: its seq is taken (refused at the commit)
        assert not connection.in_transaction
        with storage.reading(connection) as db:
            assert chronology.head(db) == before
            assert db.get_one(VaultMeta, 1).head_seq == before.seq
        assert entry_count(any_vault.path) == before.seq
    finally:
        unlocked.close()
    assert invoke("verify").exit_code == 0
