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
    """A check failed: damage found, or no recent backup that verifies (exit 1)."""

    exit_code = 1


class UsageError(SafeguardError):
    """A bad option or value (exit 2)."""

    exit_code = 2


class AmbiguousTime(UsageError):
    """A local time that happened twice, when the clocks went back (exit 2).

    `choices` are the two, each written with its offset and described ("the first, BST"), so
    that a person at a terminal can be asked which was meant.
    """

    def __init__(self, message: str, hint: str, choices: tuple[tuple[str, str], ...]) -> None:
        super().__init__(message, hint=hint)
        self.choices = choices


class NotAllowed(SafeguardError):
    """Wrong passphrase, unknown or disabled user, or a role that may not do this (exit 3)."""

    exit_code = 3


class WrongPassphrase(NotAllowed):
    """A passphrase that does not open the user's key slot (exit 3): asked for at a terminal,
    it may be typed again."""


class NotFound(SafeguardError):
    """An unknown case, entry or file (exit 4)."""

    exit_code = 4


class VaultUnusable(SafeguardError):
    """The vault is missing, locked too long, corrupt, or of another schema (exit 5)."""

    exit_code = 5


class NoVault(VaultUnusable):
    """There is no vault at `path` (exit 5).  The command line, which knows where the path came
    from (`--vault`, `SAFEGUARD_VAULT` or the default), says so in its place."""

    def __init__(self, path: object) -> None:
        super().__init__(
            f"no vault at {path}",
            hint="point --vault / SAFEGUARD_VAULT at yours; 'safeguard init' creates a new one",
        )
        self.path = path


class TooManyOpenFiles(VaultUnusable):
    """The process may open no more files (exit 5): its limit is too low, the vault is fine."""

    def __init__(self, limit: int | None = None, needed: int | None = None) -> None:
        if limit is None or needed is None:
            message = "too many open files: the limit set by 'ulimit -n' is too low"
        else:
            message = f"too few open files: 'ulimit -n' allows {limit}, and {needed} are needed"
        super().__init__(
            f"{message}; nothing was saved",
            hint="raise it (for example 'ulimit -n 1024') and run the command again",
        )


class OutOfMemory(VaultUnusable):
    """Not enough memory to run (exit 5): the limit is too low, the vault is fine."""

    def __init__(self, limit_mb: int | None = None, needed_mb: int | None = None) -> None:
        if limit_mb is None or needed_mb is None:
            message = "not enough memory (is the limit set by 'ulimit -v' too low?)"
            needed = ""
        else:
            message = (
                f"not enough memory: 'ulimit -v' allows {limit_mb} MB, and {needed_mb} MB are "
                "needed"
            )
            needed = f" to {needed_mb} MB or more"
        super().__init__(
            f"{message}; nothing was saved",
            hint=f"raise the limit{needed} and run the command again",
        )


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
