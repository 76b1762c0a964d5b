"""The built wheel works on its own, in a fresh virtual environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # Installed as safeguard-records: the PyPI name `safeguard` is an unrelated project's.
    wheels = list(dist.glob("safeguard_records-*.whl"))
    assert len(wheels) == 1, sorted(p.name for p in dist.iterdir())
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheels[0])],
        check=True,
        capture_output=True,
        timeout=600,
    )
    # The cli/ folder must not be installed as a generic top-level `cli` package.
    probe = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.util as u; print(u.find_spec('cli'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert probe.stdout.strip() == "None"

    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SAFEGUARD_VAULT": str(tmp_path / "school" / "vault.db"),
        "SAFEGUARD_USER": "alice",
        "SAFEGUARD_PASSPHRASE": "correct horse battery staple",
        "SAFEGUARD_NEW_PASSPHRASE": "deputy passphrase 2026",
    }
    safeguard = str(venv / "bin" / "safeguard")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [safeguard, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    for args in (
        ["init"],
        ["user", "add", "bob", "--role", "deputy"],
        ["verify"],
        ["db", "status"],
    ):
        result = run(*args)
        assert result.returncode == 0, (args, result.stderr)
    assert "verified: 3 entries" in run("verify").stdout
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("safeguard 0."), version.stderr
    assert "up to date" in run("db", "status").stdout
    # The same command through `python -m`, for when the scripts folder is not on PATH.
    by_module = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "safeguarding.cli", "db", "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert by_module.returncode == 0 and "up to date" in by_module.stdout, by_module.stderr
