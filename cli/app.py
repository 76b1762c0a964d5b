"""The `safeguard` command: global options, the one exit point, and the top-level commands.

Every domain error leaves through `SafeguardGroup.main` as one or two lines on stderr and the
exit code of the command-line contract; a traceback only with --debug, and never with locals.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click import exceptions as click_exceptions
from typer.core import TyperArgument, TyperGroup, TyperOption

from safeguarding import documents_json
from safeguarding.errors import OutOfMemory, SafeguardError, TooManyOpenFiles

from . import credentials, output
from .context import STATE, State, open_vault, unlock, unlock_with_recovery
from .output import JsonOption

if TYPE_CHECKING:
    from safeguarding.vault import UserInfo

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
        sharing, then the vault's care; any not placed come last."""
        names = list(super().list_commands(ctx))
        placed = [name for name in COMMAND_ORDER if name in names]
        return placed + [name for name in names if name not in placed]

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
        os.umask(0o077)  # whatever safeguard writes (vault, WAL, exports) is the owner's alone
        code = self._run(args, prog_name, complete_var, extra)
        if standalone_mode:
            sys.exit(code)
        return code

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
        from sqlalchemy.exc import DatabaseError

        if isinstance(error, DatabaseError):
            from safeguarding.storage import translate_database_error

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


#: The order `safeguard --help` lists the commands in.
COMMAND_ORDER = (
    "demo",
    "init",
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
    "export",
    "audit",
    "access",
    "categories",
    "user",
    "verify",
    "checkpoint",
    "backup",
    "restore",
    "db",
)

#: Each command's line in its group's command list, whole: Click would otherwise cut the first
#: sentence of the help at about 60 characters, or at the "." of "e.g.".
SHORT_HELP = {
    "init": "Create a new vault; you become its first user, a DSL.",
    "verify": "Check every signature, the chain, and that every field decrypts.",
    "checkpoint": "Print the vault's signed head, to keep on paper or elsewhere.",
    "categories": "List the categories: policy section, route and deadline.",
    "record": "Record a disclosure: opens a case, prints its reference.",
    "refer": "Record a referral: who was contacted and what was said.",
    "advice": "Record the advice given, e.g. by the LADO or the County.",
    "conversation": "Record a conversation: with whom, how, what was said.",
    "note": "Add a note to a case.",
    "amend": "Correct an entry; the original stays as it was.",
    "close": "Close a case with its outcome.",
    "reopen": "Reopen a closed case, giving the reason.",
    "cases": "List cases: status, next step and when it is due.",
    "demo": "Walk a worked case through a throwaway vault.",
    "restore": "Put a verified backup in place as the vault (--to PATH).",
    "timeline": "Show a case's chronology, day by day.",
    "export": "Export a case's chronology for the County or the LADO.",
    "audit": "Who viewed or exported which case, and when.",
    "access": "Who may read a restricted case; grant or revoke it.",
    "access show": "List a restricted case's members.",
    "access grant": "Give a user access to a restricted case.",
    "access revoke": "Take a user's access to a restricted case away.",
    "user": "Add, list and disable users; change passphrases.",
    "user add": "Add a user with their own passphrase.",
    "user list": "List the users, their roles and whether they are active.",
    "user passwd": "Set a new passphrase: yours, another's, or by recovery key.",
    "user disable": "Disable a user; what they recorded stays.",
    "db": "Show or upgrade the vault's schema.",
    "db status": "Show the schema revision and whether it needs an upgrade.",
    "db upgrade": "Upgrade the schema, taking a backup first.",
    "action": "Add an action to a case, or record it done.",
    "action add": "Add an action: what, by whom, by when.",
    "action done": "Record an action as done, and what was done.",
    "backup": "Back up without a passphrase; check, list, prune, monitor.",
    "backup create": "Copy the vault into DIR as a checked backup.",
    "backup verify": "Check a backup against its manifest (fully, with a passphrase).",
    "backup list": "List the backups in DIR, newest first, and whether each verifies.",
    "backup prune": "Remove the backups in DIR that no --keep rule keeps.",
    "backup status": "For monitoring: exit 1 unless a recent backup verifies.",
}

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
    if path:
        command.short_help = command.short_help or SHORT_HELP.get(" ".join(path))
    for param in command.params:
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
    vault: Annotated[
        Path | None,
        typer.Option(
            "--vault",
            envvar="SAFEGUARD_VAULT",
            metavar="PATH",
            help="The vault file (default: vault.db in your user data folder).",
            dir_okay=False,
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
    STATE.vault, STATE.user, STATE.debug = vault, user, debug
    from safeguarding import clock, moments

    moments.check_local_zone(clock.now())  # TZ=UTC+99 is refused here, not mid-command


@app.command()
def init(json: JsonOption = False) -> None:
    """Create a new vault; you become its first user, a DSL.

    Prints a recovery key once: write it on paper and keep it in the school safe. The vault
    appears only once the key has been shown.
    """
    from rich.markup import escape

    from safeguarding.errors import UsageError
    from safeguarding.vault import Vault

    name = STATE.user_name
    passphrase = credentials.first_passphrase(name)
    path = STATE.vault_path
    with Vault.build(path, name, passphrase) as new:
        try:
            _show_recovery_key(new.recovery_key, json, new.user)
        except output.OutputLost as lost:
            raise UsageError(
                f"could not show the recovery key on {lost.stream} ({lost.reason}); "
                "no vault was created",
                "run 'safeguard init' again with its output on a terminal or in a file you keep",
            ) from None
        unlocked = output.commit(new.publish, lambda _: f"the new vault at {path}")
    unlocked.close()
    if not json:
        output.say(
            f"Created the vault at {escape(str(path))}; {escape(unlocked.user.name)} is its DSL."
        )


def _show_recovery_key(key: str, json: bool, user: UserInfo) -> None:
    """The recovery key on stdout, flushed (`OutputLost` if it cannot be): shown before the
    vault it opens is published."""
    if json:
        output.emit_json(documents_json.new_vault(STATE.vault_path, user, key))
        return
    from rich.panel import Panel

    output.out.print(
        Panel(
            f"[bold]{key}[/bold]\n\n"
            "This recovery key is shown only this once. Write it on paper and keep it in the "
            "school safe. It sets a new passphrase for anyone who forgets theirs "
            "('safeguard user passwd NAME --recovery'); without it, a forgotten passphrase "
            "cannot be recovered by anyone.",
            title="Recovery key",
            border_style="red",
        )
    )


@app.command()
def verify(
    checkpoint: Annotated[
        list[str] | None,
        typer.Option(
            "--checkpoint",
            metavar="SEQ:HASH",
            help="A head recorded earlier (from a backup manifest or an export); repeatable.",
        ),
    ] = None,
    checkpoints_dir: Annotated[
        Path | None,
        typer.Option(
            "--checkpoints",
            metavar="DIR",
            file_okay=False,
            help="Also check against the heads in the manifests of this vault's backups in DIR, "
            "so a vault rolled back behind a backup is caught.",
        ),
    ] = None,
    no_passphrase: Annotated[
        bool,
        typer.Option(
            "--no-passphrase",
            help="Check without unlocking, as anyone may: the hash chain, every signature and "
            "the columns kept in clear. Entries from before signatures are counted, not checked.",
        ),
    ] = False,
    recovery: Annotated[
        bool,
        typer.Option(
            "--recovery",
            help="Unlock with the recovery key instead (asked for, or from "
            "SAFEGUARD_RECOVERY_KEY_FILE or SAFEGUARD_RECOVERY_KEY): checks that the key in the "
            "safe opens the vault, and reads every restricted case too. After an upgrade, its "
            "first use gives the recovery key its new keys (recorded).",
        ),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Check the whole vault: every signature holds, the chronology's chain is unbroken, every
    field decrypts, and only a DSL or the headteacher managed users.

    Exits 0 when all is well, or 1 naming the first damaged entry.
    """
    from safeguarding.chronology import Checkpoint
    from safeguarding.errors import CheckFailed, Damaged

    from . import views

    checkpoints = [Checkpoint.parse(text) for text in checkpoint or []]
    from_backups: list[Checkpoint] = []
    unattended: list[str] = []
    if no_passphrase and recovery:
        from safeguarding.errors import UsageError

        raise UsageError(
            "--no-passphrase checks without unlocking, --recovery unlocks with the recovery "
            "key: give one of them"
        )
    if no_passphrase:
        vault = open_vault()
        try:
            if checkpoints_dir is not None:
                from safeguarding.backup import checkpoints_for

                from_backups = checkpoints_for(vault, checkpoints_dir)
            report = views.checked(lambda: vault.verify_public(checkpoints + from_backups), json)
        finally:
            vault.close()
    else:
        try:
            unlocked = unlock_with_recovery() if recovery else unlock()
        except Damaged as damage:
            # Finding damage is what verify is for: a failed check (exit 1), even in one's row.
            raise CheckFailed(damage.detail) from None
        try:
            if checkpoints_dir is not None:
                from safeguarding.backup import checkpoints_for

                from_backups = checkpoints_for(unlocked.vault, checkpoints_dir)
            report = views.checked(lambda: unlocked.verify(checkpoints + from_backups), json)
            unattended = unlocked.unattended()
        finally:
            unlocked.close()
    if json:
        checked = len(checkpoints) + len(from_backups)
        output.emit_json(documents_json.verified(report, checked, recovery, unattended))
        return
    for reference in unattended:
        output.say(
            f"{reference} is restricted and has no member left: give it one "
            f"('safeguard access grant {reference} NAME --recovery')."
        )
    line = views.verified_line(report, recovery, len(checkpoints), checkpoints_dir, from_backups)
    output.out.print(line, soft_wrap=True, markup=False, highlight=False)


@app.command()
def checkpoint(
    qr: Annotated[
        bool | None,
        typer.Option(
            "--qr/--no-qr",
            help="Also draw the line as a QR code under it (default: when the output is a "
            "terminal, never when it is piped).",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Print the vault's checkpoint: the newest entry's number and hash, signed by its author.

    Needs no passphrase. Keep it where no one who can write the vault can change it (the
    minutes of a DSL meeting, a mail to the governors, a file on another server): 'safeguard
    verify --checkpoint SEQ:HASH' then shows whether anything up to it was rewritten or cut.
    On a terminal a QR code of the same line is drawn under it. The vault is checked first, as
    'verify --no-passphrase' does.
    """
    if json and qr:
        from safeguarding.errors import UsageError

        raise UsageError("--qr draws the line for a terminal; leave it out with --json")
    vault = open_vault()
    try:
        report = vault.verify_public()
        signed = vault.entry_facts(report.head.seq)
    finally:
        vault.close()
    if json:
        output.emit_json(documents_json.checkpoint(report.head, signed))
        return
    line = str(report.head)
    output.out.print(line, soft_wrap=True, markup=False, highlight=False)
    terminal = sys.stdout.isatty()
    drawn = terminal if qr is None else qr
    if drawn:
        from . import views

        output.data_line(views.qr_code(line, colour=terminal and not output.out.no_color))
    how = "signed by user" if signed.signed else "written (before signatures) by user"
    output.say(
        f"Entry {report.head.seq}, {how} {signed.author_id} at {signed.recorded_at}. "
        f"Write down the line above{' (the QR code holds the same line)' if drawn else ''}; "
        "'safeguard verify --checkpoint LINE' checks against it."
    )


def _register() -> None:
    from . import cases, database, demo, flow, record, users

    app.add_typer(users.app, name="user")
    app.add_typer(database.app, name="db")
    app.command()(cases.categories)
    app.command()(record.record)
    app.command()(flow.refer)
    app.command()(flow.advice)
    app.add_typer(flow.action_app, name="action")
    app.command()(flow.conversation)
    app.command()(flow.note)
    app.command()(flow.amend)
    app.command()(flow.close)
    app.command()(flow.reopen)
    app.command()(cases.cases)
    app.command()(demo.demo)

    from . import backup

    app.add_typer(backup.app, name="backup")
    app.command("restore")(backup.restore)

    from . import timeline

    app.command()(timeline.timeline)
    app.command()(timeline.export)
    app.command()(timeline.audit)

    from . import access

    app.add_typer(access.app, name="access")


_register()


def main() -> None:
    """The console script's entry point."""
    from . import startup

    startup.start()  # before any secret is read: no core dumps, the editor's leftovers gone
    typer.main.get_command(app).main(prog_name="safeguard")


__all__ = ["State", "app", "main", "open_vault"]
