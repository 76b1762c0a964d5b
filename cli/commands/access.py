"""`safeguard access …`: who may read a restricted case, and granting or revoking it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from typer._click import core as click
from typer.core import TyperGroup

from safeguarding import documents_json

from .. import output
from ..context import unlock, unlock_with_recovery
from ..output import CaseArgument, JsonOption

if TYPE_CHECKING:
    from safeguarding.membership import Members
    from safeguarding.vault import Unlocked


class _CaseFirst(TyperGroup):
    """`safeguard access CASE` lists the members: a first word that is not a subcommand is the
    case of `access show`, when it is the only word (`access revok CASE USER` is a typo)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            words = [arg for arg in args if not arg.startswith("-")]
            if len(words) > 1:
                ctx.fail(
                    f"no such command {args[0]!r}; 'access' takes a case, or show, grant or revoke"
                )
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_CaseFirst,
    help="Who may read a restricted case; grant or revoke it.\n\n"
    "'safeguard access CASE' is 'safeguard access show CASE'.",
    no_args_is_help=True,
)

UserArgument = Annotated[str, typer.Argument(metavar="USER", help="The user, by name.")]
RecoveryOption = Annotated[
    bool,
    typer.Option(
        "--recovery",
        help="Act with the recovery key (asked for, or from SAFEGUARD_RECOVERY_KEY_FILE or "
        "SAFEGUARD_RECOVERY_KEY): it opens every restricted case; its use is recorded.",
    ),
]


@app.command("show")
def show(case: CaseArgument, recovery: RecoveryOption = False, json: JsonOption = False) -> None:
    """List a restricted case's members.

    The recovery key can always open it too."""
    from safeguarding import membership

    _print(_as_member(recovery, lambda unlocked: membership.members(unlocked, case)), json)


@app.command("grant")
def grant(
    case: CaseArgument,
    user: UserArgument,
    recovery: RecoveryOption = False,
    json: JsonOption = False,
) -> None:
    """Give a user access to a restricted case.

    USER gets every key the case has had. Members only.

    A subject of the allegation can never be given access.
    """
    from safeguarding import membership

    _change(
        recovery,
        json,
        lambda unlocked: membership.grant(unlocked, case, user),
        lambda m: f"access to {m.reference} for {user}",
        lambda m: f"Gave {_plain(m.changed)} access to {m.reference}.",
    )


@app.command("revoke")
def revoke(
    case: CaseArgument,
    user: UserArgument,
    recovery: RecoveryOption = False,
    json: JsonOption = False,
) -> None:
    """Take a user's access to a restricted case away.

    Members only (the case manager only by themselves, or with the recovery key).

    The case gets new keys that USER does not hold, so they cannot read anything written from
    now on. What they have already read cannot be unread."""
    from safeguarding import membership

    _change(
        recovery,
        json,
        lambda unlocked: membership.revoke(unlocked, case, user),
        lambda m: f"the revoking of {user}'s access to {m.reference}",
        lambda m: f"Took {_plain(m.changed)}'s access to {m.reference} away.",
    )


def _change(
    recovery: bool,
    json: bool,
    act: Callable[[Unlocked], Members],
    saved: Callable[[Members], str],
    said: Callable[[Members], str],
) -> None:
    """Grant or revoke as a member (or with the recovery key), committed as `saved` says; then
    say `said` and list the members."""
    found = _as_member(recovery, lambda unlocked: output.commit(lambda: act(unlocked), saved))
    if not json:
        output.say(said(found))
    _print(found, json)


def _as_member(recovery: bool, act: Callable[[Unlocked], Members]) -> Members:
    unlocked = unlock_with_recovery() if recovery else unlock()
    try:
        return act(unlocked)
    finally:
        unlocked.close()


def _plain(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _print(found: Members, json: bool) -> None:
    if json:
        output.emit_json(documents_json.members(found))
        return
    from rich.table import Table

    from safeguarding.vault import ROLE_TITLES
    from safeguarding.vocabulary import Role

    table = Table("Member", "Role", "Keys", title=f"Who may read {found.reference}")
    for m in found.members:
        table.add_row(
            _plain(m.name),
            ROLE_TITLES[Role(m.role)],
            "waiting (given at the next entry)" if m.waiting else "held",
        )
    table.add_row("the recovery key", "in the school safe", "held")
    output.out.print(table)
