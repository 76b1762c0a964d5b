"""Shared fixtures: every test gets its own home, vault and cheap key derivation.

No test touches the real home folder, and the KDF cost is lowered through the library, never
through a command-line flag.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from safeguard_cli.app import app
from typer.testing import CliRunner, Result

from safeguarding import crypto

FAST_KDF = crypto.KdfParams(iterations=1, memory_kib=1024, lanes=1)
PASSPHRASE = "correct horse battery staple"
DEPUTY_PASSPHRASE = "deputy passphrase 2026"


@pytest.fixture(autouse=True)
def env_setup(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    for variable in list(os.environ):
        if variable.startswith("SAFEGUARD_"):
            monkeypatch.delenv(variable)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    # The PDF's fonts are cut once per test process, not once per test (each has its own home);
    # the cache holds no record.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("SAFEGUARD_VAULT", str(tmp_path / "vault.db"))
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)
    yield


@dataclass
class VaultInfo:
    path: Path
    user: str
    passphrase: str
    recovery_key: str


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> VaultInfo:
    """A vault made through the library, with alice (DSL) acting; env set for the CLI."""
    from safeguarding.vault import Vault

    path = tmp_path / "vault.db"
    unlocked, recovery_key = Vault.create(path, "alice", PASSPHRASE, kdf=FAST_KDF)
    unlocked.close()
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    return VaultInfo(path, "alice", PASSPHRASE, recovery_key)


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
) -> subprocess.CompletedProcess[str]:
    """Run the installed `safeguard` as a real process."""
    full_env = {k: v for k, v in os.environ.items()}
    full_env.update(env or {})
    return subprocess.run(
        [safeguard_executable(), *args],
        input=input if isinstance(input, str) or input is None else input.decode(),
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


def vault_files(path: Path) -> list[Path]:
    """The vault and whatever SQLite keeps beside it."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
