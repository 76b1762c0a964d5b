"""What every command shares: the global options, and opening or unlocking the vault."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import credentials

# The run's state is defined in `state` (which `credentials` also reads) and named here too, where
# the commands have always found it.
from .state import STATE as STATE
from .state import State as State

if TYPE_CHECKING:
    from safeguarding.vault import Unlocked, Vault


def open_vault(*, staff: bool = False) -> Vault:
    """Open the vault; a member of staff named by `--user` (or SAFEGUARD_USER) is refused
    unless `staff` (the two commands they may run)."""
    from safeguarding.vault import Vault

    vault = Vault.open(STATE.vault_path, busy_timeout=STATE.busy_timeout)
    if STATE.user is not None and not staff:
        try:
            vault.refuse_staff(STATE.user)
        except BaseException:
            vault.close()
            raise
    return vault


def unlock() -> Unlocked:
    """Open the vault and unlock it as the acting user (`--user`), asking for the passphrase."""
    vault = open_vault()
    try:
        name = STATE.user_name
        vault.refuse_staff(name)  # before the passphrase is asked for
        return vault.unlock(name, credentials.passphrase(name))
    except BaseException:
        vault.close()
        raise


def unlock_with_recovery() -> Unlocked:
    """Open the vault with the recovery key (asked for, or from its variables), acting as the
    user `--user` names: the key's use is signed by it, and recorded against them."""
    vault = open_vault()
    try:
        vault.refuse_staff(STATE.user_name)
        return vault.unlock_for_recovery(credentials.recovery_key(), STATE.user_name, acting=True)
    except BaseException:
        vault.close()
        raise
