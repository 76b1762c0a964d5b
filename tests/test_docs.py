"""The README is the manual: every command is in it, and CI runs exactly its test command."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import every_command

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def commands(command: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    command = command or every_command()
    subcommands = getattr(command, "commands", {})
    if path and not subcommands:
        yield path
    for name, sub in subcommands.items():
        yield from commands(sub, (*path, name))


def test_every_command_is_in_the_readme() -> None:
    missing = [" ".join(path) for path in commands() if f"safeguard {' '.join(path)}" not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    lines = [line for line in blocks[0].splitlines() if line and not line.startswith("#")]
    assert len(lines) == 2, "the README opens with the set-up command and the test command"
    test_command = lines[1]
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


def test_changelog_has_an_unreleased_section() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
