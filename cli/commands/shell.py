"""`safeguard shell`: unlock once, then take commands at a `safeguard>` prompt."""

from __future__ import annotations

import typer


def shell(ctx: typer.Context) -> None:
    """Unlock once, then run commands at a safeguard> prompt.

    Type exit or Ctrl-D to end it. Each command takes the same options and gives the same
    output and exit code as on its own (the code is shown when it is not 0), and reads the case
    afresh. The shell locks itself after lock_after minutes with no command (config file;
    default 10) and when the terminal closes: the next command asks for the passphrase again.
    Tab completes commands, options and case references; what was typed is kept in memory
    only, never in a history file.
    """
    from datetime import timedelta

    from safeguarding import config

    from .. import sitting
    from ..context import STATE, unlock
    from ..prompt import Prompt

    if sitting.current() is not None:
        from safeguarding.errors import UsageError

        raise UsageError("a shell is already open")
    settings = config.load()
    held = sitting.Sitting(
        STATE.vault_path, STATE.user_name, timedelta(minutes=settings.lock_after)
    )
    prefix = _global_options()
    sitting.begin(held)
    try:
        unlock().close()
        typer.echo(
            f"Unlocked as {STATE.user_name}. 'help' lists the commands; 'exit' or Ctrl-D ends. "
            f"Locks after {sitting.describe(held.lock_after)} with no command.",
            err=True,
        )
        code = Prompt(ctx.find_root().command, held, prefix).run()
    finally:
        sitting.end()
    raise typer.Exit(code)


def _global_options() -> list[str]:
    """The global options the shell was started with, given again to each of its commands
    (those from the environment are found there again)."""
    from ..context import STATE

    prefix: list[str] = []
    if STATE.vault is not None and STATE.vault_from == "--vault":
        prefix += ["--vault", str(STATE.vault)]
    if STATE.user is not None:
        prefix += ["--user", STATE.user]
    if STATE.debug:
        prefix.append("--debug")
    return prefix
