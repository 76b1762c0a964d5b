"""`safeguard verify`: check the whole vault, with or without a passphrase."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_json

from .. import output
from ..context import open_vault, unlock, unlock_with_recovery
from ..output import JsonOption

if TYPE_CHECKING:
    from safeguarding.chronology import Checkpoint
    from safeguarding.integrity import ChainReport
    from safeguarding.vault_file import VaultFile

CheckpointOption = Annotated[
    list[str] | None,
    typer.Option(
        "--checkpoint",
        metavar="SEQ:HASH",
        help="A head recorded earlier (from a backup manifest or an export); repeatable.",
    ),
]
CheckpointsOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        metavar="DIR",
        file_okay=False,
        help="Also check against the heads in the manifests of this vault's backups in DIR, "
        "so a vault rolled back behind a backup is caught.",
    ),
]
NoPassphraseOption = Annotated[
    bool,
    typer.Option(
        "--no-passphrase",
        help="Check without unlocking, as anyone may: the hash chain, every signature and "
        "the columns kept in clear. Entries from before signatures are counted, not checked.",
    ),
]
RecoveryOption = Annotated[
    bool,
    typer.Option(
        "--recovery",
        help="Unlock with the recovery key instead (asked for, or from "
        "SAFEGUARD_RECOVERY_KEY_FILE or SAFEGUARD_RECOVERY_KEY): checks that the key in the "
        "safe opens the vault, and reads every restricted case too. After an upgrade, its "
        "first use gives the recovery key its new keys (recorded).",
    ),
]


def verify(
    checkpoint: CheckpointOption = None,
    checkpoints_dir: CheckpointsOption = None,
    no_passphrase: NoPassphraseOption = False,
    recovery: RecoveryOption = False,
    json: JsonOption = False,
) -> None:
    """Check every signature, the chain, and that every field decrypts.

    Also that only a DSL or the headteacher managed users.

    Exits 0 when all is well, or 1 naming the first damaged entry.
    """
    from safeguarding.chronology import Checkpoint

    checkpoints = [Checkpoint.parse(text) for text in checkpoint or []]
    if no_passphrase and recovery:
        from safeguarding.errors import UsageError

        raise UsageError(
            "--no-passphrase checks without unlocking, --recovery unlocks with the recovery "
            "key: give one of them"
        )
    from_backups: list[Checkpoint] = []

    def with_backups(vault: VaultFile) -> list[Checkpoint]:
        if checkpoints_dir is not None:
            from safeguarding.backup import checkpoints_for

            from_backups.extend(checkpoints_for(vault, checkpoints_dir))
        return checkpoints + from_backups

    unattended: list[str] = []  # restricted cases with no member: only a key can name them
    erased = 0  # entries of erased cases: no key opens them, as their erasure says
    if no_passphrase:
        report = _without_passphrase(with_backups, json)
    else:
        report, unattended, erased = _unlocked(with_backups, recovery, json)
    if json:
        checked = len(checkpoints) + len(from_backups)
        document = documents_json.verified(report, checked, recovery, unattended)
        output.emit_json({**document, "erased": erased})
        return
    from .. import views

    for reference in unattended:
        output.say(
            f"{reference} is restricted and has no member left: give it one "
            f"('safeguard access grant {reference} NAME --recovery')."
        )
    line = views.verified_line(report, recovery, len(checkpoints), checkpoints_dir, from_backups)
    if erased:
        entries = "1 entry" if erased == 1 else f"{erased} entries"
        line += f"; {entries} of erased cases, which no key opens"
    output.out.print(line, soft_wrap=True, markup=False, highlight=False)


def _without_passphrase(heads: Callable[[VaultFile], list[Checkpoint]], json: bool) -> ChainReport:
    from .. import views

    vault = open_vault()
    try:
        wanted = heads(vault)
        return views.checked(lambda progress: vault.verify_public(wanted, progress), json)
    finally:
        vault.close()


def _unlocked(
    heads: Callable[[VaultFile], list[Checkpoint]], recovery: bool, json: bool
) -> tuple[ChainReport, list[str], int]:
    """The check with the vault's keys, the restricted cases with no member left (which only
    the recovery key can name), and how many entries of erased cases it could not open (told
    apart from those of restricted cases the checker is not a member of)."""
    from dataclasses import replace

    from safeguarding import erasure
    from safeguarding.errors import CheckFailed, Damaged

    from .. import views

    try:
        unlocked = unlock_with_recovery() if recovery else unlock()
    except Damaged as damage:
        # Finding damage is what verify is for: a failed check (exit 1), even in one's row.
        raise CheckFailed(damage.detail) from None
    try:
        wanted = heads(unlocked.vault)
        report = views.checked(lambda progress: unlocked.verify(wanted, progress), json)
        erased = erasure.erased_entries(unlocked)
        report = replace(report, unreadable=report.unreadable - erased)
        return report, unlocked.unattended(), erased
    finally:
        unlocked.close()
