"""docs/safeguard.1, the manual page, is what the commands' help says today: written again in
memory, it must be the committed file, byte for byte."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from safeguarding.cli import manpage

from tests.conftest import every_command
from tests.test_docs import commands

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "safeguard.1"


def test_the_committed_man_page_is_current() -> None:
    written = manpage.render()
    assert written == PAGE.read_text(encoding="ascii"), (
        f"docs/safeguard.1 is out of date with the commands' help: run '{manpage.REGENERATE}'"
    )


def test_the_page_has_every_command_and_every_option() -> None:
    page = manpage.render()
    root = every_command()
    for path in commands():
        assert f".SS safeguard {' '.join(path)}\n".replace("-", "\\-") in page, path
        command = root
        for name in path:
            command = command.commands[name]
        section = page.split(f".SS safeguard {' '.join(path)}\n".replace("-", "\\-"))[1]
        section = section.split(".SS ")[0].split(".SH ")[0]
        for param in command.params:
            for name in getattr(param, "opts", []):
                if name.startswith("-"):
                    assert f"{name.replace('-', chr(92) + '-')}" in section, (path, name)
            if param.help:
                first_words = " ".join(param.help.split()[:3])
                assert manpage._text(first_words) in section, (path, param.name)
    assert ".SH EXIT STATUS" in page and "\n3\nWrong passphrase" in page


def test_the_page_does_not_depend_on_the_terminal_or_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = manpage.render()
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    assert manpage.render() == first
    assert first.isascii()
    for machine in (str(ROOT), str(Path.home()), sys.prefix):
        assert machine not in first


def test_the_documented_command_writes_the_page() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "safeguarding.cli.manpage"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout == PAGE.read_text(encoding="ascii")


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_groff_reads_the_page_without_a_warning() -> None:
    groff = shutil.which("groff")
    assert groff is not None
    checked = subprocess.run(
        [groff, "-man", "-Tutf8", "-ww", "-z", str(PAGE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr
    shown = subprocess.run(
        [groff, "-man", "-Tutf8", "-P-cbou", str(PAGE)],  # plain text: no overstriking
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
    )
    assert "safeguard backup prune" in shown.stdout and "months…" in shown.stdout
