"""The layers of pyproject.toml's `[tool.importlinter]` hold: every import goes downward, no
module is in a cycle, and only the command line imports Typer or Click."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def installed_layout(into: Path) -> Path:
    """The package's modules laid out as a wheel installs them (cli/ as safeguarding/cli,
    migrations/ as safeguarding/migrations), for import-linter, which reads one folder."""
    sources = shutil.ignore_patterns("__pycache__", "*.pyc", "data", "fonts", "templates")
    package = into / "safeguarding"
    shutil.copytree(ROOT / "safeguarding", package, ignore=sources)
    shutil.copytree(ROOT / "cli", package / "cli", ignore=sources)
    shutil.copytree(ROOT / "migrations", package / "migrations", ignore=sources)
    return into


def test_imports_keep_to_the_layers(tmp_path: Path) -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    layout = installed_layout(tmp_path)
    result = subprocess.run(
        [str(lint), "--no-cache", "--no-logo", "--config", str(ROOT / "pyproject.toml")],
        cwd=layout,
        env=os.environ | {"PYTHONPATH": str(layout)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
