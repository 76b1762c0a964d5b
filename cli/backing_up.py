"""What `backup` and `restore` share: sizes and progress lines on stderr."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from . import credentials, output
from .context import STATE

if TYPE_CHECKING:
    from safeguarding.backup import Unlocker
    from safeguarding.vault import Unlocked, Vault


VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Say in one line what was done.")
]


FullOption = Annotated[
    bool,
    typer.Option(
        "--full",
        help="Also decrypt everything and recompute the chain (asks for your passphrase; this "
        "is done anyway when SAFEGUARD_PASSPHRASE_FILE or SAFEGUARD_PASSPHRASE is set).",
    ),
]


def unlocker(full: bool) -> Unlocker | None:
    """How to unlock a backup for the full check, or None to check it without a secret."""
    in_environment = any(
        os.environ.get(name) for name in ("SAFEGUARD_PASSPHRASE_FILE", "SAFEGUARD_PASSPHRASE")
    )
    if not (full or in_environment):
        return None
    name = STATE.user_name

    def unlock(vault: Vault) -> Unlocked:
        return vault.unlock(name, credentials.passphrase(name))

    return unlock


def say_line(message: str) -> None:
    """One line for the person (stderr), never wrapped, so scripts and logs keep it whole."""
    output.err.print(message, soft_wrap=True, markup=False, highlight=False)
