"""What every command shares: the global options, and opening or unlocking the vault."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import credentials, sitting

# The run's state is defined in `state` (which `credentials` also reads) and named here too, where
# the commands have always found it.
from .state import STATE as STATE
from .state import State as State

if TYPE_CHECKING:
    from safeguarding.vault import Unlocked, Vault


def open_vault() -> Vault:
    from safeguarding.vault import Vault

    return Vault.open(STATE.vault_path, busy_timeout=STATE.busy_timeout)


def unlock(*, confirm: bool = False) -> Unlocked:
    """Open the vault and unlock it as the acting user (`--user`), asking for the passphrase;
    in a shell, with the keys it holds (asking only once it has locked itself), unless
    `confirm`: what changes who can open the vault asks for the passphrase in a shell too."""
    vault = open_vault()
    try:
        name = STATE.user_name
        held = sitting.current()
        if held is not None and held.serves(STATE.vault_path, name) and not confirm:
            return held.unlock(vault)
        return vault.unlock(name, credentials.passphrase(name))
    except BaseException:
        vault.close()
        raise


def unlock_with_recovery() -> Unlocked:
    """Open the vault with the recovery key (asked for, or from its variables), acting as the
    user `--user` names: the key's use is signed by it, and recorded against them."""
    vault = open_vault()
    try:
        return vault.unlock_for_recovery(credentials.recovery_key(), STATE.user_name, acting=True)
    except BaseException:
        vault.close()
        raise
