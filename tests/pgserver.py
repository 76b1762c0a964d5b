"""A real PostgreSQL server for the tests: a cluster of its own in a temporary folder,
listening on a Unix socket there (no TCP), started for the session and stopped at its end.

Debian's `postgresql` package provides the programs (`.ci/run` installs it).  As root, the
server runs as the `postgres` account, as PostgreSQL requires.  The superuser `postgres` may
connect without a password; the schools' roles have passwords (scram-sha-256), which the
tests give through a password file, as a trust's staff would.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DATABASE = "safeguarding"


def _programs() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PgServer:
    """A running cluster: `socket_dir` is its host, `admin` runs SQL as its superuser."""

    folder: Path
    bin: Path

    @property
    def socket_dir(self) -> str:
        return str(self.folder)

    def admin(self, sql: str, database: str = DATABASE) -> str:
        done = subprocess.run(
            [
                str(self.bin / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-h",
                self.socket_dir,
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PGPASSWORD": "", "PGPASSFILE": os.devnull},
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def dump(self, schema: str) -> str:
        """Everything a school's schema holds, as the server's administrator dumps it
        (`bytea` as hex)."""
        done = subprocess.run(
            [
                str(self.bin / "pg_dump"),
                "-h",
                self.socket_dir,
                "-U",
                "postgres",
                "-n",
                schema,
                DATABASE,
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PGPASSWORD": "", "PGPASSFILE": os.devnull},
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_dump failed: {done.stderr.strip()}")
        # (Newer pg_dump brackets its output with a random key, \\restrict: not the data.)
        lines = done.stdout.splitlines(keepends=True)
        return "".join(
            line for line in lines if not line.startswith(("\\restrict", "\\unrestrict"))
        )

    def url(self, role: str, schema: str) -> str:
        return f"postgresql://{role}@/{DATABASE}?host={self.socket_dir}&schema={schema}"

    def school(self, name: str | None = None) -> School:
        """A new school: its schema, owned by its own role with a password."""
        schema = name or f"school_{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(12)
        self.admin(
            f"CREATE ROLE {schema} LOGIN PASSWORD '{password}'; "
            f"CREATE SCHEMA {schema} AUTHORIZATION {schema};"
        )
        return School(self, schema, password)


@dataclass
class School:
    server: PgServer
    schema: str
    password: str

    @property
    def url(self) -> str:
        return self.server.url(self.schema, self.schema)

    def pgpass_line(self) -> str:
        return f"*:*:*:{self.schema}:{self.password}\n"


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def unavailable_reason() -> str | None:
    """Why no server can run here, or None."""
    if _programs() is None:
        return "PostgreSQL's programs (Debian's postgresql package) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root with no 'postgres' account to run the server as"
        if shutil.which("runuser") is None:
            return "running as root without runuser to start the server as 'postgres'"
    return None


@contextmanager
def running_server() -> Iterator[PgServer]:
    """A new cluster, started, and stopped and removed at the end."""
    programs = _programs()
    assert programs is not None
    # Not under pytest's own temporary folder: as root, that is closed to the postgres account.
    folder = Path(tempfile.mkdtemp(prefix="sg-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(programs / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--locale=C",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        (data / "pg_hba.conf").write_text(
            "local all postgres trust\nlocal all all scram-sha-256\n", encoding="utf-8"
        )
        subprocess.run(
            _as_postgres(
                [
                    str(programs / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    f"-k {folder} -c listen_addresses='' -c max_connections=100",
                    "-l",
                    str(folder / "server.log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        server = PgServer(folder, programs)
        try:
            server.admin(f"CREATE DATABASE {DATABASE}", database="postgres")
            yield server
        finally:
            subprocess.run(
                _as_postgres([str(programs / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
