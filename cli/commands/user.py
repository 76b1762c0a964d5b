"""`safeguard user …`: the people who may open the vault, and their passphrases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_json
from safeguarding.roster import normalise_name

from .. import credentials, output
from ..context import STATE, open_vault, reporter, say_wait, told, unlock
from ..output import JsonOption

if TYPE_CHECKING:
    from safeguarding.vault import Departures, UserInfo

app = typer.Typer(help="Add, list and disable users; change passphrases.", no_args_is_help=True)


ROLE_HELP = (
    "dsl (Designated Safeguarding Lead), deputy (deputy DSL), head (headteacher), chair "
    "(chair of governors: case manager of an allegation about the headteacher) or staff (a "
    "member of staff: reports concerns with 'safeguard concern', reads no case)."
)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The new user's name, as they will type it.")],
    role: Annotated[
        str, typer.Option("--role", help=ROLE_HELP, metavar="dsl|deputy|head|chair|staff")
    ],
    json: JsonOption = False,
) -> None:
    """Add a user with their own passphrase.

    A DSL or the headteacher may do this."""
    from safeguarding.errors import UsageError
    from safeguarding.vocabulary import Role

    try:
        chosen = Role(role.lower())
    except ValueError:
        raise UsageError(
            f"unknown role {role!r}; choose one of: dsl, deputy, head, chair, staff"
        ) from None
    unlocked = unlock(confirm=True)
    try:
        unlocked.require_manager("add users")  # before a passphrase is asked for
        new = credentials.new_passphrase(name)
        user = output.commit(
            lambda: unlocked.add_user(name, chosen, new),
            lambda u: f"the new user {u.name} ({u.role.value})",
        )
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_json.user_added(user))
    else:
        from rich.markup import escape

        output.say(f"Added {escape(user.name)} ({user.role.value}).")


@app.command("list")
def list_users(json: JsonOption = False) -> None:
    """List the users, their roles and whether they are active."""
    from rich.table import Table

    from safeguarding.vault import ROLE_TITLES

    unlocked = unlock()
    try:
        users = unlocked.users()
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_json.users(users))
        return
    from rich.text import Text

    table = Table("User", "Role", "Added", "Status")
    for u in users:
        table.add_row(
            Text(u.name),  # as typed: never Rich markup
            ROLE_TITLES[u.role],
            u.created_at[:10],
            "active" if u.active else f"disabled {u.disabled_at and u.disabled_at[:10]}",
        )
    output.out.print(table)


@app.command("passwd")
def passwd(
    name: Annotated[
        str | None, typer.Argument(help="Whose passphrase (default: your own).")
    ] = None,
    recovery: Annotated[
        bool,
        typer.Option(
            "--recovery",
            help="Open the vault with the recovery key instead of a passphrase "
            "(asked for, or from SAFEGUARD_RECOVERY_KEY_FILE or SAFEGUARD_RECOVERY_KEY).",
        ),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Set a new passphrase: yours, another's, or by recovery key.

    Another user's: a DSL or the headteacher may set it. A member of staff may set their own
    (--user NAME), at once, as soon as it has been said aloud or seen.

    The new passphrase is asked for twice, or read from SAFEGUARD_NEW_PASSPHRASE_FILE (a file,
    mode 0600) or SAFEGUARD_NEW_PASSPHRASE.
    """
    # Whose passphrase is settled (and their name as recorded known) before a new one is asked.
    if not recovery and _own_as_staff(name):
        return _staff_passwd(json)
    if recovery:
        vault = open_vault()
        try:
            key = credentials.recovery_key()
            say_wait(vault, name or STATE.user_name)
            unlocked = told(vault.unlock_for_recovery(key, name or STATE.user_name))
            new = credentials.new_passphrase(unlocked.user.name)
            user = output.commit(
                lambda: unlocked.set_passphrase(None, new, via="recovery key"), _new_passphrase
            )
            waiting, left = unlocked.rekey_waiting, unlocked.departures
        finally:
            vault.close()
    else:
        unlocked = unlock(confirm=True)
        try:
            target = unlocked.user if name is None else unlocked.find_user(name)
            new = credentials.new_passphrase(target.name)
            user = output.commit(lambda: unlocked.set_passphrase(name, new), _new_passphrase)
            waiting, left = unlocked.rekey_waiting, unlocked.departures
        finally:
            unlocked.close()
    if json:
        output.emit_json(documents_json.passphrase_changed(user, waiting, left))
        return
    from rich.markup import escape

    output.say(f"The passphrase of {escape(user.name)} has been changed.")
    _say_rekey(waiting, left)


def _own_as_staff(name: str | None) -> bool:
    """Whether the acting user is a member of staff changing their own passphrase (another's
    is refused, as any other command is to them)."""
    vault = open_vault(staff=True)
    try:
        if STATE.user is None or not vault.is_staff(STATE.user):
            return False
        if name is not None and normalise_name(name).casefold() != STATE.user_name.casefold():
            vault.refuse_staff(STATE.user)
        return True
    finally:
        vault.close()


def _staff_passwd(json: bool) -> None:
    """A member of staff's own passphrase: their key pairs re-sealed, with no vault key."""
    from rich.markup import escape

    from safeguarding import staff

    vault = open_vault(staff=True)
    try:
        name = normalise_name(STATE.user_name)
        who = reporter(vault, name)
        new = credentials.new_passphrase(name)
        said = f"the new passphrase of {name}"
        output.commit(lambda: staff.change_passphrase(who, name, new), lambda _: said)
    finally:
        vault.close()
    if json:
        from safeguarding.unlocked import Departures
        from safeguarding.vault import Role, UserInfo

        user = UserInfo(who.user_id, name, Role.STAFF, "", None)
        output.emit_json(
            documents_json.passphrase_changed(user, [], Departures(0, 0), rekeyed=False)
        )
        return
    output.say(f"The passphrase of {escape(name)} has been changed.")


def _new_passphrase(user: UserInfo) -> str:
    return f"the new passphrase of {user.name}"


@app.command("disable")
def disable(
    name: Annotated[str, typer.Argument(help="The user to disable.")],
    json: JsonOption = False,
) -> None:
    """Disable a user; what they recorded stays.

    Their passphrase no longer opens the vault.

    The vault gets new keys, so a copy of their key slot (in a backup, say) opens nothing
    written from now on; they also leave every restricted case.  What they could read before
    cannot be unread.
    """
    unlocked = unlock(confirm=True)
    try:
        user = output.commit(
            lambda: unlocked.disable_user(name), lambda u: f"the disabling of {u.name}"
        )
        waiting, left = unlocked.rekey_waiting, unlocked.departures
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_json.user_disabled(user, waiting, left))
        return
    from rich.markup import escape

    output.say(f"Disabled {escape(user.name)}; everything they recorded stays in the vault.")
    _say_rekey(waiting, left)


def _say_rekey(waiting: list[str], left: Departures) -> None:
    from rich.markup import escape

    if left.cases:
        output.say(
            f"They left {left.cases} restricted case{'s' if left.cases != 1 else ''}: "
            "their members no longer include them."
        )
    if left.unattended:
        output.say(
            f"{left.unattended} of those now {'has' if left.unattended == 1 else 'have'} no "
            "member: only the recovery key opens it. Whoever holds the key should give it a "
            "member ('safeguard verify --recovery' names it)."
        )

    if waiting:
        output.say(
            "The vault gets its new keys once "
            + escape(", ".join(waiting))
            + " have unlocked once since the upgrade; until then a copy of an old key slot "
            "still opens it."
        )
    else:
        output.say(
            "The vault has new keys: a copy of an old key slot opens nothing written from now on."
        )
