"""The `safeguard` command: global options, the one exit point, and the top-level commands.

Every domain error leaves through `SafeguardGroup.main` as one or two lines on stderr and the
exit code of the command-line contract; a traceback only with --debug, and never with locals.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click import exceptions as click_exceptions
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from safeguarding.errors import NoVault, OutOfMemory, SafeguardError, TooManyOpenFiles

from . import output
from .context import STATE, State, open_vault

if TYPE_CHECKING:
    pass

INTERNAL_ERROR = 70  # outside the contract: a bug in safeguard itself

#: The name safeguard is installed under (`pip install safeguard-records`), whose metadata
#: holds its version: the PyPI name `safeguard` belongs to an unrelated project.
DISTRIBUTION = "safeguard-records"


class SafeguardGroup(TyperGroup):
    """A Typer group whose `main` is the single place errors become exit codes."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        _polish(self, ())

    def list_commands(self, ctx: Any) -> list[str]:
        """The commands in the order of the work: try it, set up, the case's flow, reading and
        sharing, then the vault's care."""
        return list(COMMAND_ORDER)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """A command, its module loaded and the command built the first time it is asked for:
        a `note` builds one command, not every one (help and completion ask for all)."""
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in COMMAND_ORDER:
            found = _built(cmd_name)
            _polish(found, (cmd_name,))
            self.add_command(found, cmd_name)
        return found

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        STATE.reset()
        output.reset()
        for param in self.params:  # with those Typer adds after building the group
            _convert_plainly(param)
        os.umask(0o077)  # whatever safeguard writes (vault, WAL, exports) is the owner's alone
        code = self._run(args, prog_name, complete_var, extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def get_help_option(self, ctx: Any) -> Any:
        return _plain_help(super().get_help_option(ctx))

    def invoke(self, ctx: Any) -> Any:
        # Typer turns Ctrl-C into a silent exit 130; make it an Abort, so `_run` says that
        # nothing was saved (as it does for Ctrl-C at a passphrase prompt).
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise typer.Abort() from None

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        extra: dict[str, Any],
    ) -> int:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except Exception as error:
            code = self._after(error)
        except KeyboardInterrupt as interrupt:
            code = self._after(interrupt)
        if code == 0 and STATE.reminder:
            output.tell([STATE.reminder])
        output.settle()
        return code

    def _after(self, error: BaseException) -> int:
        """The exit code and message for a command that raised `error`: once it has
        committed, that what it saved is saved (exit 0), whatever came after; otherwise the
        contract's code and one or two lines."""
        receipt = output.saved()
        try:
            if receipt is not None:
                return _saved_anyway(receipt, error)
            return self._failed(error)
        except output.OutputLost:
            output.silence("stderr")  # no one is left to tell: the exit code says it
            return 0 if receipt is not None else _code_of(error)

    def _failed(self, error: BaseException) -> int:
        if isinstance(error, NoVault) and error.path == STATE.vault_path:
            error = STATE.no_vault(STATE.vault_path)
        if isinstance(error, PermissionError) and error.filename:
            # One this account may not read, never a traceback: which account owns it.
            from safeguarding.storage import wrong_account

            error = wrong_account(Path(os.fsdecode(error.filename)), "the file")
        if isinstance(error, SafeguardError):
            _traceback_if_debugging()
            _report(error.message, error.hint)
            return error.exit_code
        if isinstance(error, click_exceptions.NoArgsIsHelpError):
            # Bare `safeguard`: the help a person asked for, on stdout like `--help`.
            output.data_line(error.format_message())
            return 0
        if isinstance(error, click_exceptions.UsageError):
            hint = None
            if error.ctx is not None:
                hint = f"see '{error.ctx.command_path} --help'"
            _report(error.format_message(), hint)
            return 2
        if isinstance(error, click_exceptions.ClickException):
            _report(error.format_message(), None)
            return error.exit_code
        if isinstance(error, (typer.Abort, KeyboardInterrupt)):
            output.tell(["", "cancelled: nothing was saved"])
            return 130
        if isinstance(error, MemoryError):
            return _machine_limit(OutOfMemory())
        if isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE):
            return _machine_limit(TooManyOpenFiles())
        debugging = _traceback_if_debugging()
        from safeguarding.storage import sqlite_error, translate_database_error

        if sqlite_error(error) is not None:
            unusable = translate_database_error(error, STATE.vault_path)
            _report(unusable.message, unusable.hint)
            return unusable.exit_code
        # Never print the exception's text: it may hold recorded words or SQL parameters.
        _report(
            f"internal error ({type(error).__name__}); nothing more was saved",
            "report it with the traceback above"
            if debugging
            else "run again with --debug for the details, and report it",
        )
        return INTERNAL_ERROR


def _code_of(error: BaseException) -> int:
    if isinstance(error, SafeguardError):
        return error.exit_code
    if isinstance(error, (typer.Abort, KeyboardInterrupt)):
        return 130
    return INTERNAL_ERROR


def _saved_anyway(receipt: str, error: BaseException) -> int:
    """After the commit, the result is reported whatever went wrong in showing it: on stderr,
    with exit 0, so that no one records it a second time."""
    if isinstance(error, output.OutputLost):
        after = f"{error.stream} could not be written ({error.reason})"
    elif isinstance(error, (typer.Abort, KeyboardInterrupt)):
        after = "interrupted after saving"
    else:
        _traceback_if_debugging()
        after = f"then an internal error ({type(error).__name__}): report it"
    output.tell(
        [
            f"safeguard: saved {receipt}; do not record it again",
            f"  {after}; 'safeguard audit --mine' lists what you have saved",
        ]
    )
    return 0


#: Every command, in the order `safeguard --help` lists them: each is its module in
#: cli/commands/, which defines a function of the same name (a hyphen in it an underscore) or
#: (for a command with subcommands) a Typer `app`.
COMMAND_ORDER = (
    "demo",
    "init",
    "concern",
    "concerns",
    "concern-ssh",
    "inbox",
    "triage",
    "shell",
    "record",
    "refer",
    "advice",
    "action",
    "conversation",
    "note",
    "amend",
    "close",
    "reopen",
    "cases",
    "timeline",
    "person",
    "file",
    "export",
    "transfer",
    "school-key",
    "import",
    "audit",
    "report",
    "access",
    "retention",
    "hold",
    "erase",
    "sar",
    "categories",
    "user",
    "verify",
    "checkpoint",
    "backup",
    "restore",
    "db",
)


#: A value's placeholder in help, by its type, for options that do not name their own.
_TYPE_METAVARS: dict[object, str] = {str: "TEXT", int: "N", float: "N"}


class _PlainArgument(TyperArgument):
    """An argument shown as its metavar alone: `CASE`, not `{CASE}` and `CASE <str>`."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name if self.nargs == 1 else f"{name}..."

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def _polish(command: Any, path: tuple[str, ...]) -> None:
    """Give every command its whole short help, and every value a placeholder that reads well.

    Typer builds the commands and their parameters itself, with no hook for either, so this
    walks the tree it built once, before anything is parsed or shown.
    """
    if type(command) in _PLAIN_HELP:
        command.__class__ = _PLAIN_HELP[type(command)]
    if path:
        # Its help's first paragraph, whole: Click would cut it at about 60 characters, or at
        # the "." of "e.g.".
        summary = (command.help or "").strip().split("\n\n")[0]
        command.short_help = command.short_help or " ".join(summary.split())
    for param in command.params:
        _convert_plainly(param)
        if isinstance(param, TyperArgument):
            param.__class__ = _PlainArgument
            param.metavar = param.metavar or (param.name or "value").upper()
        elif isinstance(param, TyperOption) and _unnamed_value(param):
            descriptor = param.type_descriptor
            param.metavar = (
                "PATH" if descriptor.is_path else _TYPE_METAVARS.get(descriptor.annotation, "VALUE")
            )
    for name, sub in getattr(command, "commands", {}).items():
        _polish(sub, (*path, name))


@dataclass(frozen=True)
class _Plain(RuntimeParam):
    """A text, a flag or a path taken as given.  Typer converts every value through a Pydantic
    type adapter, and loading Pydantic costs a command more than its work (a `note` writes in
    about 20 ms): a text or a flag needs no conversion, a path only `Path` and Typer's own
    checks.  Anything else given (a flag's value from a variable) goes to Typer's conversion."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if self.annotation is str and isinstance(value, str):
            return value
        if self.annotation is bool and isinstance(value, bool):
            return value
        if self.annotation is Path and isinstance(value, (str, Path)):
            return coerce_cli_path(
                Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx
            )
        return build_runtime_param(param.type_descriptor).coerce(value, param=param, ctx=ctx)


def _convert_plainly(param: Any) -> None:
    """Give a parameter that holds a text, a flag or a path the `_Plain` conversion; every
    other kind (numbers, choices, lists) keeps Typer's.  (`_runtime_param` is the conversion
    Typer would otherwise build at the first value.)"""
    descriptor = param.type_descriptor
    plain = descriptor.annotation in (str, bool, Path) and not (
        descriptor.is_choice or descriptor.is_file or descriptor.parameter_info.parser
    )
    if plain and param._runtime_param is None:
        param._runtime_param = _Plain(descriptor.parameter_info, descriptor.annotation)


def _plain_help(option: Any) -> Any:
    """A command's `--help` option, which Click makes at parse time, converting plainly."""
    if option is not None:
        _convert_plainly(option)
    return option


# A command built by Typer takes on one of these classes (`_polish`): the same layout, one
# method more, so each can only subclass Typer's own.
class _PlainHelpCommand(TyperCommand):
    def get_help_option(self, ctx: Any) -> Any:
        return _plain_help(super().get_help_option(ctx))


class _PlainHelpGroup(TyperGroup):
    """A group of commands (`user`, `backup` …)."""

    def get_help_option(self, ctx: Any) -> Any:
        return _plain_help(super().get_help_option(ctx))


_PLAIN_HELP: dict[type, type] = {TyperCommand: _PlainHelpCommand, TyperGroup: _PlainHelpGroup}


def _unnamed_value(option: TyperOption) -> bool:
    """An option taking a value with no placeholder of its own (choices list themselves)."""
    takes_value = not (option.is_flag or option.count)
    return takes_value and option.metavar is None and not option.type_descriptor.is_choice


def _debugging() -> bool:
    return STATE.debug or os.environ.get("SAFEGUARD_DEBUG") == "1"


def _traceback_if_debugging() -> bool:
    """With --debug, print the traceback of the error being handled (the standard library's
    traceback never shows local variables).  The exit code stays the contract's."""
    if not _debugging():
        return False
    import traceback

    traceback.print_exc(file=sys.stderr)
    sys.stderr.flush()
    return True


def _machine_limit(error: SafeguardError) -> int:
    """Too little memory or too few open files: this machine's limit, not a bug.  Nothing is
    imported here (unless --debug asks for the traceback): with no file left, that would fail."""
    _traceback_if_debugging()
    _report(error.message, error.hint)
    return error.exit_code


def _report(message: str, hint: str | None) -> None:
    lines = [f"safeguard: {message}"]
    if hint:
        lines.append(f"  {hint}")
    output.tell(lines)


app = typer.Typer(
    cls=SafeguardGroup,
    name="safeguard",
    help="Keep a school's safeguarding records: encrypted, append-only and verifiable.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(wanted: bool) -> None:
    if not wanted:
        return
    from importlib.metadata import version

    sys.stdout.write(f"safeguard {version(DISTRIBUTION)}\n")
    raise typer.Exit()


@app.callback()
def global_options(
    ctx: typer.Context,
    vault: Annotated[
        str | None,
        typer.Option(
            "--vault",
            envvar="SAFEGUARD_VAULT",
            metavar="PATH",
            help="The vault file, or postgresql://USER@HOST/DATABASE?schema=SCHOOL for a vault "
            "on a PostgreSQL server (default: the config file's 'vault', else vault.db in your "
            "user data folder).",
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            envvar="SAFEGUARD_USER",
            metavar="NAME",
            help="Who you are in the vault (default: your login name).",
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show a traceback when something fails."),
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print safeguard's version and exit.",
            callback=_show_version,
            is_eager=True,
            expose_value=False,
        ),
    ] = False,
) -> None:
    """Keep a school's safeguarding records: encrypted, append-only and verifiable.

    The passphrase is asked for on a terminal; scripts set SAFEGUARD_PASSPHRASE_FILE.
    """
    from safeguarding.server import location

    STATE.vault, STATE.user, STATE.debug = None, user, debug
    if vault is not None:
        if not vault:
            raise typer.BadParameter("must not be empty", param_hint="'--vault'")
        STATE.vault = location(vault)
        if isinstance(STATE.vault, Path) and STATE.vault.is_dir():
            raise typer.BadParameter(f"File {vault!r} is a directory.", param_hint="'--vault'")
        source = ctx.get_parameter_source("vault")
        STATE.vault_from = (
            "SAFEGUARD_VAULT" if source and source.name == "ENVIRONMENT" else "--vault"
        )
    from safeguarding import clock, moments

    moments.check_local_zone(clock.now())  # TZ=UTC+99 is refused here, not mid-command


def _built(name: str) -> Any:
    """The command `name`, as Typer builds a command (or a group) registered on `app`."""
    import keyword
    from importlib import import_module

    from typer.models import CommandInfo, TyperInfo

    attribute = name.replace("-", "_")
    if keyword.iskeyword(attribute):  # `import`: its module and function are `import_`
        attribute += "_"
    module = import_module(f"{__package__}.commands.{attribute}")
    made = getattr(module, attribute, None)
    short, markup = app.pretty_exceptions_short, app.rich_markup_mode
    if callable(made) and not isinstance(made, typer.Typer):
        return typer.main.get_command_from_info(
            CommandInfo(callback=made), pretty_exceptions_short=short, rich_markup_mode=markup
        )
    return typer.main.get_group_from_info(
        TyperInfo(module.app, name=name),
        pretty_exceptions_short=short,
        suggest_commands=app.suggest_commands,
        rich_markup_mode=markup,
    )


def main() -> None:
    """The console script's entry point."""
    from . import startup

    startup.start()  # before any secret is read: no core dumps, the editor's leftovers gone
    typer.main.get_command(app).main(prog_name="safeguard")


__all__ = ["State", "app", "main", "open_vault"]
