"""Shared fixtures: every test gets its own home, vault and cheap key derivation.

No test touches the real home folder, and the KDF cost is lowered through the library, never
through a command-line flag.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from safeguarding.cli import credentials
from safeguarding.cli.app import app
from typer.testing import CliRunner, Result

from safeguarding import attempts, clock, crypto
from tests import pgserver
from tests.pgserver import PgServer, School

FAST_KDF = crypto.KdfParams(iterations=1, memory_kib=1024, lanes=1)
PASSPHRASE = "correct horse battery staple"
DEPUTY_PASSPHRASE = "deputy passphrase 2026"

# Every test starts on this Wednesday morning, whatever day it runs: time comes through
# `clock.now()`, moved by `set_clock` (and into the `safeguard` processes a test starts by
# tests/seams/sitecustomize.py). A test about a weekday, a year's end or a clock change
# sets its own moment.
DEFAULT_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SEAMS = Path(__file__).parent / "seams"

SetClock = Callable[[datetime], None]

PLAIN_SECRET_VARIABLES = (
    "SAFEGUARD_PASSPHRASE",
    "SAFEGUARD_NEW_PASSPHRASE",
    "SAFEGUARD_RECOVERY_KEY",
)
PLAIN_WARNING = re.compile(r"safeguard: warning: SAFEGUARD_[A-Z_]+ can be read by every .*\n")

# The days a date-sensitive test is run on, in the school's own time zone.
SCHOOL_DAYS = {
    "monday": datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
    "friday": datetime(2026, 12, 4, 15, 30, tzinfo=UTC),
    "new-years-eve": datetime(2026, 12, 31, 12, 0, tzinfo=UTC),
    "clocks-go-back": datetime(2026, 10, 25, 12, 0, tzinfo=UTC),
    "clocks-go-forward": datetime(2027, 3, 28, 12, 0, tzinfo=UTC),
}


@pytest.fixture(autouse=True)
def env_setup(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    for variable in list(os.environ):
        if variable.startswith(("SAFEGUARD_", "PG")):
            monkeypatch.delenv(variable)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    # Any cache stays in the tests' own temporary folder (the canary scan reads it).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("SAFEGUARD_VAULT", str(tmp_path / "vault.db"))
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)
    kdf = FAST_KDF
    monkeypatch.setenv("TESTS_KDF", f"{kdf.iterations},{kdf.memory_kib},{kdf.lanes}")
    pythonpath = os.environ.get("PYTHONPATH")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(SEAMS), *([pythonpath] if pythonpath else [])])
    )
    move_clock(monkeypatch, DEFAULT_NOW)
    # The waits after failed unlocks are noted, never slept: here in `pauses`, in the processes
    # a test starts in the file `pauses_of` reads.
    monkeypatch.setattr(attempts, "pause", _PAUSES.append)
    _PAUSES.clear()
    monkeypatch.setenv("TESTS_UNLOCK_PAUSES", str(tmp_path / "unlock-pauses"))
    # The warning about a plain secret variable, which most tests set, is tested in
    # tests/test_leftovers.py; elsewhere it is taken as given (see `run`).
    monkeypatch.setattr(credentials, "_warned", set(PLAIN_SECRET_VARIABLES))
    yield
    clock.shift_by(timedelta(0))


_PAUSES: list[float] = []


@pytest.fixture
def pauses() -> list[float]:
    """The waits (seconds) this test's in-process unlocks asked for before checking a secret."""
    return _PAUSES


def pauses_of(tmp_path: Path) -> list[float]:
    """The waits the `safeguard` processes this test started asked for, in order."""
    notes = tmp_path / "unlock-pauses"
    return [float(line) for line in notes.read_text().split()] if notes.exists() else []


def move_clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    shift = clock.shift_to(moment)
    monkeypatch.setenv("TESTS_CLOCK_SHIFT_SECONDS", repr(shift.total_seconds()))


@pytest.fixture
def set_clock(monkeypatch: pytest.MonkeyPatch) -> SetClock:
    """Moves `clock.now()`, here and in the processes the test starts, to a moment; the
    clock runs on from there."""
    return lambda moment: move_clock(monkeypatch, moment)


@pytest.fixture(params=list(SCHOOL_DAYS))
def school_day(request: pytest.FixtureRequest, set_clock: SetClock) -> Iterator[datetime]:
    """Runs the test once on each of `SCHOOL_DAYS`, in Europe/London; gives the moment."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/London"
    time.tzset()
    moment: datetime = SCHOOL_DAYS[request.param]
    set_clock(moment)
    yield moment
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def today() -> date:
    """The local date of the tests' clock."""
    return clock.now().astimezone().date()


@dataclass
class VaultInfo:
    path: Path
    user: str
    passphrase: str
    recovery_key: str


@pytest.fixture
def vault_engine(request: pytest.FixtureRequest) -> str:
    """Where `vault` makes its vault: a file, unless a test asks for both engines
    (`on_both_engines`)."""
    return str(getattr(request, "param", "sqlite"))


#: Runs a test (and the fixtures it builds on `vault`) on a vault file, then on a vault in a
#: schema on the tests' PostgreSQL server.
on_both_engines = pytest.mark.parametrize("vault_engine", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def vault(
    vault_engine: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> VaultInfo:
    """A vault made through the library, with alice (DSL) acting; env set for the CLI.  A
    file, or (see `on_both_engines`) a schema on the server, whose `path` is then a `Server`."""
    return _made_vault(vault_engine, request, tmp_path, monkeypatch)


def _made_vault(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> VaultInfo:
    from safeguarding.server import Location, Server
    from safeguarding.vault import Vault

    where: Location = tmp_path / "vault.db"
    if engine == "postgresql":
        school: School = request.getfixturevalue("pg_school")
        where = Server.parse(school.url)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(where))
    unlocked, recovery_key = Vault.create(where, "alice", PASSPHRASE, kdf=FAST_KDF)
    unlocked.close()
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    return VaultInfo(where, "alice", PASSPHRASE, recovery_key)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server of the tests' own (see tests/pgserver.py), for the session."""
    reason = pgserver.unavailable_reason()
    if reason is not None:
        pytest.skip(f"no PostgreSQL server: {reason}")
    with pgserver.running_server() as server:
        yield server


@pytest.fixture
def pg_school(pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> School:
    """A school's empty schema on the server, owned by its role, whose password is in a
    password file (PGPASSFILE) as libpq reads it; SAFEGUARD_VAULT names it."""
    school = pg_server.school()
    passfile = write_secret(tmp_path / "pgpass", school.pgpass_line())
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    monkeypatch.setenv("SAFEGUARD_VAULT", school.url)
    return school


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    """Runs the test on a vault file, then on a vault on a PostgreSQL server."""
    return str(request.param)


@pytest.fixture
def any_vault(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> VaultInfo:
    """The `vault` fixture's vault, as a file or (see `engine`) in a schema on the server."""
    return _made_vault(engine, request, tmp_path, monkeypatch)


@pytest.fixture
def say(tmp_path: Path) -> Callable[[str], str]:
    """Writes a text to a new file in the test's folder and gives its path, for --text-file."""
    from tests.flowkit import text_writer

    return text_writer(tmp_path)


def write_secret(path: Path, text: str) -> Path:
    """A passphrase or recovery key file as the README asks for one: mode 0600 from the start
    (safeguard refuses a secret file others may read)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # whatever the umask, and if the file was already there
    return path


def every_command() -> Any:
    """The whole command tree, every command built (the app builds each one when it is first
    asked for, so a walk of `commands` would otherwise find none)."""
    root = typer.main.get_command(app)
    for name in root.list_commands(None):  # type: ignore[attr-defined]
        root.get_command(None, name)  # type: ignore[attr-defined]
    return root


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process, stdout and stderr kept apart."""
    return CliRunner().invoke(app, list(args), input=input, env=env, catch_exceptions=False)


def safeguard_executable() -> str:
    found = Path(sys.executable).parent / "safeguard"
    if found.exists():
        return str(found)
    which = shutil.which("safeguard")
    assert which, "the safeguard console script is not installed"
    return which


def run(
    *args: str,
    input: str | bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    plain_warning: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `safeguard` as a real process (its stderr without the warning about a
    plain secret variable, unless `plain_warning`)."""
    full_env = {k: v for k, v in os.environ.items()}
    full_env.update(env or {})
    result = subprocess.run(
        [safeguard_executable(), *args],
        input=input if isinstance(input, str) or input is None else input.decode(),
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )
    if not plain_warning:
        result.stderr = PLAIN_WARNING.sub("", result.stderr)
    return result


def stored_bytes(info: VaultInfo, request: pytest.FixtureRequest) -> bytes:
    """What the vault keeps: the file and SQLite's files beside it, or on a server the
    schema's whole dump (its `bytea` columns as hex, and as the bytes that hex spells)."""
    from safeguarding.server import Server

    where: Path | Server = info.path
    if isinstance(where, Server):
        server: PgServer = request.getfixturevalue("pg_server")
        dumped = server.dump(where.schema)
        spelled = b"".join(
            bytes.fromhex(found) for found in re.findall(r"\\x((?:[0-9a-f]{2})+)", dumped)
        )
        return dumped.encode() + spelled
    return b"".join(p.read_bytes() for p in vault_files(where))


def vault_files(path: Path) -> list[Path]:
    """The vault and whatever SQLite keeps beside it."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
