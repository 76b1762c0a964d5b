"""The manual page, docs/safeguard.1, written from the commands' own help.

    python -m safeguarding.cli.manpage > docs/safeguard.1

Every command, argument and option is described by the text `--help` shows, so the page never
says something the commands do not; a test fails when the committed page is not what this
writes.  Nothing in it depends on the day, the machine or the terminal.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import typer

from safeguarding import errors

from .app import DISTRIBUTION, app

#: How to write the page again, said in it and by the test that finds it stale.
REGENERATE = "python -m safeguarding.cli.manpage > docs/safeguard.1"

#: The codes of the command-line contract, each told by the error that carries it.
_EXIT_ERRORS = (
    errors.CheckFailed,
    errors.UsageError,
    errors.NotAllowed,
    errors.NotFound,
    errors.VaultUnusable,
)

#: Typer words its completion options by whether it may detect the shell: the page takes
#: the words people see.
_SHELL_DETECTION_OFF = "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"


def render() -> str:
    """The whole page, in roff for man(7)."""
    with _shell_detection_on():
        root = typer.main.get_command(app)
    context = root.context_class(root, info_name="safeguard", **root.context_settings)
    lines = [
        f'.\\" Written from the commands\' help by "{REGENERATE}": do not edit.',
        f'.TH SAFEGUARD 1 "" "safeguard {version(DISTRIBUTION)}" "User Commands"',
        ".SH NAME",
        f"safeguard \\- {_text(_lower_first(_paragraphs(root.help)[0]))}",
        ".SH SYNOPSIS",
        *_synopsis(root, context),
        ".SH DESCRIPTION",
        *_help(root),
        ".SH OPTIONS",
        *_options(root, context),
        ".SH COMMANDS",
        "Each command also takes \\fB\\-h\\fR, \\fB\\-\\-help\\fR: its own help.",
    ]
    for command, command_context in _commands(root, context):
        lines += [
            f".SS {_text(command_context.command_path)}",
            *_synopsis(command, command_context),
        ]
        lines += _help(command)
        lines += _options(command, command_context)
    lines += [".SH EXIT STATUS", *_exit_status()]
    lines += [
        ".SH SEE ALSO",
        "The README, which is the full manual: the section 6 flow, the config file, backups, "
        "and what the vault protects against.",
    ]
    return "\n".join(lines) + "\n"


@contextmanager
def _shell_detection_on() -> Iterator[None]:
    saved = os.environ.pop(_SHELL_DETECTION_OFF, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[_SHELL_DETECTION_OFF] = saved


def _commands(group: Any, context: Any) -> Iterator[tuple[Any, Any]]:
    """Every command that runs (not the groups), in the order `--help` lists them."""
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        sub_context = command.context_class(
            command, info_name=name, parent=context, **command.context_settings
        )
        if hasattr(command, "list_commands"):
            yield from _commands(command, sub_context)
        else:
            yield command, sub_context


def _synopsis(command: Any, context: Any) -> list[str]:
    pieces = " ".join(command.collect_usage_pieces(context))
    return [f".B {_text(context.command_path)}", _text(pieces)]


def _help(command: Any) -> list[str]:
    lines: list[str] = []
    for paragraph in _paragraphs(command.help):
        lines += [".PP", _text(paragraph)]
    return lines


def _options(command: Any, context: Any) -> list[str]:
    """The arguments and options, as `--help` words them; a command's own -h is said once for
    all of them."""
    lines: list[str] = []
    for param in command.get_params(context):
        if getattr(param, "hidden", False) or (context.parent and param.name == "help"):
            continue
        record = param.get_help_record(context)
        if record is None:
            continue
        names, help_text = record
        lines += [".TP", f"\\fB{_text(names)}\\fR", _text(" ".join(help_text.split()))]
    return lines


def _exit_status() -> list[str]:
    lines = [".TP", "0", "Done; also a command that had saved when its output failed."]
    for error in _EXIT_ERRORS:
        said = " ".join(_paragraphs(error.__doc__)[0].split())
        said = re.sub(r"\s*\(exit \d+\)", "", said)
        lines += [".TP", str(error.exit_code), _text(said)]
    lines += [".TP", "130", "Cancelled (Ctrl\\-C) before anything was saved."]
    return lines


def _paragraphs(text: str | None) -> list[str]:
    """A docstring's paragraphs, each on one line (roff fills them); what Click keeps from
    `--help` after a form feed is left out, as Click leaves it out."""
    cleaned = inspect.cleandoc((text or "").split("\f")[0])
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", cleaned) if block.strip()]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:].rstrip(".")


def _text(text: str) -> str:
    """`text` as roff prints it: backslashes and dashes escaped, anything beyond ASCII named
    by its code point (groff and mandoc read it so without a preprocessor), and a line that
    would start with a control character made plain."""
    escaped = text.replace("\\", "\\e").replace("-", "\\-")
    escaped = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in escaped)
    return "\\&" + escaped if escaped[:1] in (".", "'") else escaped


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
