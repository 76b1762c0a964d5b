"""The domain's exceptions, each carrying the exit code of the command-line contract.

Messages are shown to people as they are: they must never contain a passphrase, a key or any
recorded text.
"""

from __future__ import annotations


class SafeguardError(Exception):
    """Base of every error the CLI turns into a one-line message and an exit code."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class CheckFailed(SafeguardError):
    """A verification found damage (exit 1)."""

    exit_code = 1


class UsageError(SafeguardError):
    """A bad option or value (exit 2)."""

    exit_code = 2


class NotAllowed(SafeguardError):
    """Wrong passphrase, unknown or disabled user, or a role that may not do this (exit 3)."""

    exit_code = 3


class NotFound(SafeguardError):
    """An unknown case, entry or file (exit 4)."""

    exit_code = 4


class VaultUnusable(SafeguardError):
    """Missing, locked too long, corrupt, or of another schema (exit 5)."""

    exit_code = 5


#: What to do about a damaged vault: `--force` because the damaged vault is still at PATH, and
#: `restore` keeps it beside the restored one (the README's restore drill says more).
DAMAGED_HINT = (
    "run 'safeguard verify' to find the first damaged entry, then restore the newest backup "
    "that verifies: 'safeguard restore FILE --to PATH --force' (the damaged vault is kept)"
)


class Damaged(VaultUnusable, CheckFailed):
    """Stored data that does not decrypt or does not hold together.

    A command reading it stops with exit 5, the vault being unusable.  It is also a
    `CheckFailed`, so `verify` and `backup verify`, whose purpose is to find damage, report
    its `detail` as a failed check (exit 1).
    """

    def __init__(self, detail: str, *, summary: str | None = None) -> None:
        super().__init__(f"the vault is damaged: {summary or detail}", hint=DAMAGED_HINT)
        self.detail = detail
