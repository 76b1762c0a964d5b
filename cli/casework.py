"""What the case commands share: opening the casebook, the options every entry takes, and where
free text comes from (a prompt, $EDITOR on request, or --text-file; never argv)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer._click import core as click
from typer.core import TyperGroup

from safeguarding.errors import SafeguardError, UsageError

from . import credentials, output
from .context import unlock
from .output import CaseArgument as CaseArgument  # every case command's CASE
from .output import JsonOption as JsonOption  # the case commands' --json, defined there

if TYPE_CHECKING:
    from safeguarding.cases import Casebook

AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        metavar="DATETIME",
        help="When it happened, local time: 2026-11-20 14:30, 2026-11-20T14:30 or 2026-11-20 "
        "(default: now). Not in the future.",
    ),
]
TextFileOption = Annotated[
    str | None,
    typer.Option(
        "--text-file",
        metavar="PATH",
        help="Read the text from this file ('-' for standard input) instead of asking.",
    ),
]
EditorOption = Annotated[
    bool,
    typer.Option("--editor", help="Write the text in $EDITOR (a private file in memory)."),
]

END_OF_TEXT = "."


class InputEnded(SafeguardError):
    """End of input (Ctrl-D) before the closing full stop: cancelled, like Ctrl-C (exit 130).
    Saving what was typed so far would put an unfinished text in an append-only record."""

    exit_code = 130


#: What standard input is claimed for by a text option given as '-'.
TEXT_FROM_STDIN = "the text given as '-'"


@contextmanager
def casebook(*text_files: str | None) -> Iterator[Casebook]:
    """The acting user's casebook, under the school's config and categories.

    `text_files` are the command's text options: one given as '-' claims standard input before
    the passphrase is read, so a passphrase file that is standard input too is refused rather
    than read to its end, text and all."""
    from safeguarding import categories, config
    from safeguarding.cases import Casebook

    from .context import STATE

    if "-" in text_files:
        STATE.claim_stdin(TEXT_FROM_STDIN)
    settings = config.load()
    kinds = categories.load(settings.categories_file)
    unlocked = unlock()
    try:
        yield Casebook(unlocked, kinds, settings)
    finally:
        unlocked.close()


def when(text: str | None, *, future_hint: str | None = None) -> datetime | None:
    """`--at` as an aware datetime (None: now)."""
    if text is None:
        return None
    from safeguarding import clock, moments

    if future_hint is None:
        return moments.parse_at(text, clock.now())
    return moments.parse_at(text, clock.now(), future_hint=future_hint)


def read_text(
    label: str, text_file: str | None, editor: bool = False, *, need: str | None = None
) -> str:
    """Free text from --text-file, $EDITOR (when asked), or a prompt on a terminal.

    `need` says what to give, as an instruction ("say why the case is being reopened"), for
    when there is no terminal to ask on; by default "give" and the label ("give the note"),
    or "say" for a label that is a question ("say what was said")."""
    if text_file is not None:
        return _from_file(text_file)
    if not credentials.is_interactive():
        raise UsageError(
            f"{need or _instruction(label)}: --text-file PATH (or '-' for standard input)",
            hint="there is no terminal here to type it at",
        )
    if editor:
        while True:
            text = from_editor(label)
            if text.strip() or not confirm(
                f"{_subject(label)} is empty. Open the editor again?", True
            ):
                return text  # empty: refused, with nothing saved, where it is checked
    return prompt_lines(label, required=True)


def one_standard_input(sources: dict[str, str | None]) -> None:
    """Refuse two texts from '-': standard input is read once, to its end, by the first, and
    the second would be saved empty.  Checked before anything is asked or read."""
    dashes = [option for option, value in sources.items() if value == "-"]
    if len(dashes) > 1:
        options = " and ".join(sources)
        raise UsageError(
            f"only one of {options} can be '-'; nothing was saved",
            hint=f"standard input can be read only once: give {dashes[-1]} a file",
        )


def name_needed(value: str | None, option: str, metavar: str = "NAME") -> None:
    """Refuse a missing name when there is no terminal to ask on: before the passphrase and
    before anything is read, as a missing option is."""
    if value is None and not credentials.is_interactive():
        raise UsageError(
            f"missing {option} {metavar}",
            hint=f"on a terminal it is asked for; in a script give {option} {metavar}",
        )


def ask_name(value: str | None, question: str) -> str:
    """The name given as an option, or asked for (`name_needed` has made sure one can be):
    a name typed at a prompt stays out of `ps` and the shell's history."""
    return value if value is not None else ask(question)


def ask_optional(label: str) -> str | None:
    """One line, asked on the terminal; Enter alone leaves it out (None)."""
    from rich.prompt import Prompt

    try:
        answer = Prompt.ask(label, console=output.err)
    except EOFError:
        raise typer.Abort() from None
    return answer.strip() or None


def _instruction(label: str) -> str:
    """'give the note' for 'The note'; 'say what was said' for 'What was said'."""
    subject = _subject(label)
    verb = "say" if subject.split()[0].lower() in {"what", "why", "who", "how"} else "give"
    return f"{verb} {subject[0].lower()}{subject[1:]}"


def _subject(label: str) -> str:
    """'The account' of 'The account, in the discloser's own words'."""
    return label.split(",")[0]


def _from_file(name: str) -> str:
    """The file's (or standard input's) bytes as UTF-8, exactly: no newline translation."""
    source = "standard input" if name == "-" else repr(name)
    if name == "-":
        from .context import STATE

        STATE.claim_stdin(TEXT_FROM_STDIN)
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(name).read_bytes()
        except FileNotFoundError:
            from safeguarding.errors import NotFound

            raise NotFound(f"no such file {name!r}") from None
        except OSError as error:
            raise UsageError(
                f"cannot read {name!r} ({error.strerror or type(error).__name__}); "
                "nothing was saved"
            ) from None
    return decode(data, source)


def decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise UsageError(
            f"{source} is not UTF-8 text; nothing was saved",
            hint="save it as UTF-8 (most editors offer it under 'Save as' or 'Encoding')",
        ) from None


def prompt_lines(label: str, *, required: bool = False) -> str:
    """Several lines typed at the terminal, ended by a line holding only a full stop.

    Required text is asked again until some is given.  End of input (Ctrl-D) before the full
    stop, with something typed, asks "Discard what you typed?": yes (or input that has truly
    ended) cancels, as Ctrl-C does, and nothing is saved; no goes on with the text.
    """
    output.err.print(
        f"[bold]{escape(label)}[/bold]\n[dim]Type it below; end with a line holding only a full "
        "stop (.) — Ctrl-C cancels and saves nothing.[/dim]"
    )
    while True:
        lines: list[str] = []
        while True:
            line = _read_line()
            if not line:
                _discard_or_go_on(lines)
                continue
            if line.rstrip("\r\n") == END_OF_TEXT:
                break
            lines.append(line.rstrip("\r\n"))
        text = "\n".join(lines)
        if text.strip() or not required:
            return text
        output.err.print(
            f"[red]{escape(_subject(label))} cannot be empty.[/red] [dim]Type it, then a line "
            "holding only a full stop (.); Ctrl-C cancels.[/dim]"
        )


def _discard_or_go_on(lines: list[str]) -> None:
    """At Ctrl-D before the closing full stop: raise `InputEnded` if nothing was typed, if the
    person says to discard it, or if input has truly ended (a pipe at its end); else go on."""
    ended = InputEnded("input ended before the closing '.'; nothing was saved")
    if not any(line.strip() for line in lines):
        raise ended
    from rich.prompt import Confirm

    try:
        discard = Confirm.ask(
            f"Discard what you typed ({len(lines)} {'line' if len(lines) == 1 else 'lines'})?",
            console=output.err,
            default=False,
        )
    except EOFError:
        raise ended from None
    if discard:
        raise ended
    output.err.print(
        "[dim]Go on typing; end with a line holding only a full stop (.).[/dim]", highlight=False
    )


def _read_line() -> str:
    """One line of standard input ('' at its end)."""
    return sys.stdin.readline()


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def memory_folder() -> Path:
    """A folder in memory where there is one, so the text never reaches a disk."""
    shm = Path("/dev/shm")  # noqa: S108 (a private 0600 file, created by mkstemp)
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


#: The editor's file: `safeguard-edit-PID-RANDOM.txt`, so a later run can tell one whose
#: process was killed (SIGKILL, a power cut of the terminal) from one still being edited.
EDIT_PREFIX = "safeguard-edit-"
_EDIT_NAME = re.compile(r"safeguard-edit-(\d{1,10})-[a-z0-9_]{8}\.txt")


def remove_stale_editor_files() -> None:
    """Remove this user's editor files whose process is gone, with a one-line warning: a
    killed `--editor` cannot remove its own file, and it holds what was being written."""
    from safeguarding.files import remove_stale

    folder = memory_folder()
    removed = len(remove_stale(folder, _EDIT_NAME))
    if removed:
        files = "file" if removed == 1 else "files"
        sys.stderr.write(
            f"safeguard: warning: removed {removed} editor {files} left in {folder} by a "
            "killed --editor (its text was not saved)\n"
        )
        sys.stderr.flush()


#: Options that keep vim and neovim from copying the text anywhere: no swap file (-n), no
#: viminfo or shada (-i NONE), and, once the vimrc is read, no backup or undo file.
VIM_PRIVACY = ("-n", "-i", "NONE", "-c", "set nobackup nowritebackup noundofile")
NVIM_PRIVACY = ("-n", "-i", "NONE", "-c", "set nobackup nowritebackup noundofile shada=")


def private_editor_command(command: list[str]) -> list[str]:
    """`command` with the options that keep vi, vim and nvim from leaving copies of the text
    (swap, backup and undo files, viminfo or shada) right after the program's name, so they
    come before anything the user's own options (`EDITOR="vim -u x"`) load or run.  Other
    editors, and a `vi` that is neither vim nor neovim, are run as given."""
    import shutil

    program = command[0]
    names = {Path(program).name}
    found = shutil.which(program)
    if found:
        names.add(Path(os.path.realpath(found)).name)
    if any(name.startswith("nvim") for name in names):
        extra: tuple[str, ...] = NVIM_PRIVACY
    elif any(name.startswith(("vim", "gvim")) for name in names):
        extra = VIM_PRIVACY
    else:
        return command
    return [program, *extra, *command[1:]]


@contextmanager
def _signals_end_like_ctrl_c() -> Iterator[None]:
    """While the editor is open, SIGHUP (the session dropped) and SIGTERM end the command as
    Ctrl-C does, through Python, so the editor's file is removed rather than left behind."""
    import signal

    def cancel(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    caught = (signal.SIGHUP, signal.SIGTERM)
    previous = {number: signal.signal(number, cancel) for number in caught}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def from_editor(label: str) -> str:
    """The text written in $EDITOR, in a 0600 file that is removed whatever happens."""
    variable = "VISUAL" if os.environ.get("VISUAL") else "EDITOR"
    editor = os.environ.get(variable) or "vi"
    hint = "set EDITOR to an editor installed here (e.g. EDITOR=nano), or leave out --editor"
    try:
        command = shlex.split(editor)
    except ValueError:
        command = []
    if not command:
        raise UsageError(f"{variable}={editor!r} is not a command; nothing was saved", hint=hint)
    with _signals_end_like_ctrl_c():
        return _edit(command, editor, hint)


def _edit(command: list[str], editor: str, hint: str) -> str:
    fd, name = tempfile.mkstemp(
        prefix=f"{EDIT_PREFIX}{os.getpid()}-", suffix=".txt", dir=memory_folder()
    )
    try:
        os.fchmod(fd, 0o600)
        os.close(fd)
        try:
            result = subprocess.run([*private_editor_command(command), name], check=False)
        except OSError as error:
            reason = (error.strerror or type(error).__name__).lower()
            raise UsageError(
                f"cannot run the editor {command[0]!r} ({reason}); nothing was saved", hint=hint
            ) from None
        if result.returncode != 0:
            raise UsageError(f"the editor ({editor}) failed; nothing was saved")
        return decode(Path(name).read_bytes(), "the editor's file")
    finally:
        Path(name).unlink(missing_ok=True)


def is_number(text: str) -> bool:
    """A whole number in ASCII digits, and short enough for int() ("²" and "٣" are not)."""
    return text.isascii() and text.isdigit() and len(text) <= 9


def number(text: str, what: str, example: str) -> int:
    """A number given on the command line, in ASCII digits only ('1_0', '+3' and '٣' are
    refused, not read as 10, 3 and 3)."""
    cleaned = text.strip()
    if not is_number(cleaned) or int(cleaned) < 1:
        raise UsageError(f"{text!r} is not {what}", hint=f"give {example}")
    return int(cleaned)


def ask(label: str, default: str | None = None) -> str:
    """One line, asked on the terminal (stderr), never empty."""
    from rich.prompt import Prompt

    while True:
        try:
            answer = Prompt.ask(label, console=output.err, default=default)
        except EOFError:
            raise typer.Abort() from None
        if answer and answer.strip():
            return answer.strip()
        output.err.print("[red]Please give an answer.[/red]")


def ask_choice(
    label: str,
    choices: Sequence[str],
    default: str | None = None,
    descriptions: Sequence[str] = (),
) -> str:
    """One of `choices`, by name or number (ASCII digits only: "²" is a digit to str.isdigit
    but not to int, so anything else is asked again)."""
    for number, item in enumerate(choices, start=1):
        about = f"  [dim]{descriptions[number - 1]}[/dim]" if descriptions else ""
        output.err.print(f"  [bold]{number:>2}[/bold]  {item}{about}", highlight=False)
    while True:
        answer = ask(label, default)
        if is_number(answer) and 1 <= int(answer) <= len(choices):
            return choices[int(answer) - 1]
        if answer.lower() in choices:
            return answer.lower()
        output.err.print(f"[red]Choose a number from 1 to {len(choices)}, or a name.[/red]")


def confirm(label: str, default: bool = True) -> bool:
    from rich.prompt import Confirm

    try:
        return Confirm.ask(label, console=output.err, default=default)
    except EOFError:
        raise typer.Abort() from None


def first_word_runs(command: str) -> type[TyperGroup]:
    """A command group whose first word, when it is none of its subcommands (nor --help), is
    the first argument or option of `command`: `safeguard transfer PERSON …` is `safeguard
    transfer send PERSON …`, and `safeguard import --json FILE` is `safeguard import package
    --json FILE`."""

    class Group(TyperGroup):
        def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
            if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
                args = [command, *args]
            return super().parse_args(ctx, args)

    return Group
