"""`safeguard db …`: the vault's schema revision, and upgrading it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safeguarding import documents_json

from .. import output
from ..context import STATE
from ..output import JsonOption

app = typer.Typer(help="Show or upgrade the vault's schema.", no_args_is_help=True)


@app.command("status")
def status(
    json: JsonOption = False,
) -> None:
    """Show the schema revision and whether it needs an upgrade.

    An older schema needs 'safeguard db upgrade'.
    """
    from safeguarding import migrate

    state = migrate.status(STATE.vault_path)
    if json:
        output.emit_json(documents_json.schema_status(STATE.vault_path, state))
        return
    if state.up_to_date:
        output.out.print(f"schema {state.revision}: up to date")
    else:
        output.out.print(
            f"schema {state.revision}: older than {state.head}; run 'safeguard db upgrade'"
        )


@app.command("upgrade")
def upgrade(
    backup_dir: Annotated[
        Path | None,
        typer.Option(
            "--backup-dir",
            metavar="DIR",
            file_okay=False,
            help="An existing folder for the backup taken before upgrading (default: a "
            "'backups' folder beside the vault, made if need be).",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Upgrade the schema, taking a backup first.

    Brings the vault to this version of safeguard.
    """
    from safeguarding import upgrade

    vault_path = STATE.vault_path
    upgraded = upgrade.upgrade_with_backup(vault_path, backup_dir)
    # From before 0004, the vault is re-keyed only once every key holder has unlocked it.
    rekey_pending = upgraded.backup is not None and upgraded.before < "0004"
    if json:
        output.emit_json(documents_json.upgraded(vault_path, upgraded, rekey_pending=rekey_pending))
        return
    if upgraded.backup is None:
        output.say(f"The vault's schema is already up to date ({upgraded.after}).")
    else:
        output.say(f"Backed up the vault to {upgraded.backup}.")
        output.say(f"Upgraded the vault's schema from {upgraded.before} to {upgraded.after}.")
        if rekey_pending:
            output.say(
                "The vault is re-keyed once every user has unlocked it (any command, with "
                "their passphrase) and the recovery key has been used once ('safeguard verify "
                "--recovery'). Then each case in an allegation category becomes restricted to "
                "the DSL who recorded it and the case manager; 'safeguard access CASE' shows "
                "who. Until then a disabled user's old key slot, from a backup, still opens it."
            )
