"""What every command shares: the global options, and opening or unlocking the vault."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import credentials, output

# The run's state is defined in `state` (which `credentials` also reads) and named here too, where
# the commands have always found it.
from .state import STATE as STATE
from .state import State as State

if TYPE_CHECKING:
    from safeguarding.vault import Unlocked, Vault


def open_vault() -> Vault:
    from safeguarding.vault import Vault

    return Vault.open(STATE.vault_path, busy_timeout=STATE.busy_timeout)


def unlock() -> Unlocked:
    """Open the vault and unlock it as the acting user (`--user`), asking for the passphrase."""
    vault = open_vault()
    try:
        name = STATE.user_name
        passphrase = credentials.passphrase(name)
        say_wait(vault, name)
        return told(vault.unlock(name, passphrase))
    except BaseException:
        vault.close()
        raise


def unlock_with_recovery() -> Unlocked:
    """Open the vault with the recovery key (asked for, or from its variables), acting as the
    user `--user` names: the key's use is signed by it, and recorded against them."""
    vault = open_vault()
    try:
        key = credentials.recovery_key()
        say_wait(vault, STATE.user_name)
        return told(vault.unlock_for_recovery(key, STATE.user_name, acting=True))
    except BaseException:
        vault.close()
        raise


def say_wait(vault: Vault, name: str) -> None:
    """Before the secret is checked: why it waits, when `name` has failed too often."""
    from safeguarding import attempts

    pending = attempts.pending_or_none(vault.connection, name)
    if pending is not None and pending.wait > 0:
        output.tell(
            [
                f"safeguard: {_failures(pending.failures)} to unlock as {pending.name} since "
                f"the last unlock: checking in {pending.wait:g} s"
            ]
        )


def told(unlocked: Unlocked) -> Unlocked:
    """`unlocked`, once its user has been told (one line on stderr) of the failed attempts to
    unlock as them since their last unlock."""
    missed = unlocked.missed
    if missed is not None and missed.failures:
        when = ""
        if missed.last_at is not None:
            when = f", the last at {missed.last_at.astimezone():%Y-%m-%d %H:%M}"
        output.tell(
            [
                f"safeguard: {_failures(missed.failures)} to unlock as {missed.name} since "
                f"your last unlock{when}: safeguard audit"
            ]
        )
    return unlocked


def _failures(count: int) -> str:
    return f"{count} failed attempt" + ("" if count == 1 else "s")
