"""Shell completion: `safeguard --show-completion bash` prints a script that completes the
commands and options in bash, and `--install-completion` puts it where bash reads it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from safeguarding.cli.app import COMMAND_ORDER

from tests.conftest import run, safeguard_executable

# Typer detects the shell it runs in; told not to, it takes the shell as the option's value.
NAMED_SHELL = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def test_show_completion_prints_a_script_for_safeguard() -> None:
    bash = run("--show-completion", "bash", env=NAMED_SHELL)
    assert bash.returncode == 0, bash.stderr
    assert "complete -o default -F _safeguard_completion safeguard" in bash.stdout
    assert "_SAFEGUARD_COMPLETE=complete_bash" in bash.stdout
    zsh = run("--show-completion", "zsh", env=NAMED_SHELL)
    assert zsh.returncode == 0 and "compdef _safeguard_completion safeguard" in zsh.stdout
    unknown = run("--show-completion", "tcsh", env=NAMED_SHELL)
    assert unknown.returncode == 2 and "tcsh" in unknown.stderr


def complete_in_bash(*lines: str) -> list[list[str]]:
    """What bash offers at the end of each line (a trailing space: a new word), through the
    script `--show-completion bash` prints, sourced as a user's shell would source it."""
    script = (
        'eval "$(safeguard --show-completion bash)"\n'
        "while IFS= read -r line; do\n"
        '  read -ra COMP_WORDS <<< "$line"\n'
        '  [[ "$line" == *" " ]] && COMP_WORDS+=("")\n'
        "  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        "  _safeguard_completion safeguard\n"
        '  echo "${COMPREPLY[*]}"\n'
        "done\n"
    )
    bash = shutil.which("bash")
    assert bash is not None
    path = os.pathsep.join([str(Path(safeguard_executable()).parent), os.environ["PATH"]])
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", script],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        env={**os.environ, **NAMED_SHELL, "PATH": path},
        timeout=120,
        check=True,
    )
    return [offered.split() for offered in result.stdout.splitlines()]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_commands_subcommands_and_options() -> None:
    offered = complete_in_bash(
        "safeguard ",
        "safeguard ba",
        "safeguard backup c",
        "safeguard user d",
        "safeguard export SG-2026-0001 --fo",
        "safeguard --vault /tmp/vault.db us",
    )
    assert offered == [
        list(COMMAND_ORDER),  # in the order of the work
        ["backup"],
        ["create"],
        ["disable"],
        ["--format", "--force"],
        ["user"],
    ]


def test_install_completion_puts_the_script_where_bash_reads_it(tmp_path: Path) -> None:
    installed = run("--install-completion", "bash", env=NAMED_SHELL)
    assert installed.returncode == 0, installed.stderr
    home = tmp_path / "home"  # conftest's HOME
    script = home / ".bash_completions" / "safeguard.sh"
    assert "complete -o default -F _safeguard_completion safeguard" in script.read_text()
    assert f"source '{script}'" in (home / ".bashrc").read_text()


def test_completion_does_not_import_the_database_layer() -> None:
    code = (
        "import os, sys\n"
        "os.environ.update(_SAFEGUARD_COMPLETE='complete_bash', COMP_WORDS='safeguard ba',"
        " COMP_CWORD='1')\n"
        "from safeguarding.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "names = ('sqlalchemy', 'sqlmodel', 'alembic', 'holidays', 'safeguarding.vault')\n"
        "print('HEAVY', [m for m in names if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["backup", "HEAVY []"]
