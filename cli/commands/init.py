"""`safeguard init`: create a vault, with its first user and its recovery key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from safeguarding import documents_json

from .. import credentials, output
from ..context import STATE
from ..output import JsonOption

if TYPE_CHECKING:
    from safeguarding.vault import UserInfo


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
