"""`safeguard concern-ssh`: the forced command of an ssh account for staff, which runs only
`safeguard concern` or `safeguard concerns`.

sshd runs it whatever the client asked for, and puts what they asked for in
SSH_ORIGINAL_COMMAND: nothing (`ssh -t concern@host`: the interview), or `concern` or `concerns`
with their own options (`concerns` also a concern's number), `--user NAME` before them.  A file
option may only be `-` (standard input): a path would be a file of the account's, not the
teacher's.  Anything else is refused with one line, before anything is opened; what is allowed
runs in this same process, as the shell runs a command, so the terminal, standard input and the
exit code are the command's own, and what was asked (a name given with `--about`) never
becomes a process's arguments, which every account on the server can read."""

from __future__ import annotations

import os
import shlex

import typer

from safeguarding.errors import NotAllowed, UsageError

#: Each command's options that take a value, and those that do not.
VALUED = {
    "concern": frozenset({"--about", "--about-role", "--at", "--where"}),
    "concerns": frozenset(),
}
FILES = frozenset({"--text-file", "--observations-file", "--done-file"})
FLAGS = frozenset({"--json", "--help", "-h"})
ONLY = "this account only reports concerns: 'concern' (the default) or 'concerns'"


def concern_ssh(ctx: typer.Context) -> None:
    """Run only 'concern' or 'concerns' (an ssh forced command).

    What the client asked for is read from SSH_ORIGINAL_COMMAND: nothing (the interview on
    the terminal 'ssh -t' gives), or 'concern' or 'concerns' with their options, '--user
    NAME' before them; file options only as '-' (standard input). Anything else is refused
    with exit 3. See the README, "Reporting from other computers".
    """
    argv = allowed(os.environ.get("SSH_ORIGINAL_COMMAND", ""))
    # No shell: the words checked above are the arguments, as they are.
    code = ctx.find_root().command.main(args=argv, prog_name="safeguard", standalone_mode=False)
    raise typer.Exit(int(code or 0))


def allowed(asked: str) -> list[str]:
    """The safeguard command line for what the client asked: refused (`NotAllowed`) unless it
    is `concern` or `concerns` with their own options."""
    try:
        words = shlex.split(asked)
    except ValueError:
        raise UsageError("the command asked for is not quoted properly") from None
    user: list[str] = []
    if words[:1] == ["--user"]:
        if len(words) < 2:
            raise UsageError("--user needs a name")
        user, words = ["--user", words[1]], words[2:]
    command, options = (words[0], words[1:]) if words else ("concern", [])
    if command not in VALUED:
        raise NotAllowed(ONLY)
    _check(command, options)
    return [*user, command, *options]


def _check(command: str, options: list[str]) -> None:
    valued = VALUED[command] | (FILES if command == "concern" else frozenset())
    rest = iter(options)
    for word in rest:
        name, _, inline = word.partition("=")
        if word in FLAGS or (command == "concerns" and word.isascii() and word.isdigit()):
            continue  # `concerns N`: one's own concern in full
        if name not in valued:
            raise NotAllowed(f"{word.split('=')[0]!r} is not allowed here: {ONLY}")
        value = inline if "=" in word else next(rest, None)
        if value is None:
            raise UsageError(f"{name} needs a value")
        if name in FILES and value != "-":
            raise NotAllowed(f"{name} may only be '-' (standard input) here")
