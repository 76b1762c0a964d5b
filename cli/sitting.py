"""A sitting at the keyboard: the keys `safeguard shell` holds between commands, in one place
(`safeguarding.held`), when it locks itself, and unlocking again.

Outside a shell there is no sitting, and every command asks for the passphrase as it always has.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from safeguarding import clock
from safeguarding.errors import WrongPassphrase

from . import credentials, output

if TYPE_CHECKING:
    from safeguarding.attempts import Told
    from safeguarding.held import HeldKeys
    from safeguarding.server import Location
    from safeguarding.vault import Unlocked, Vault

#: How many times a wrong passphrase may be typed before the shell ends (exit 3).
ATTEMPTS = 3


class Sitting:
    """One user's sitting at one vault: their keys while it is unlocked, none once it locks."""

    def __init__(self, vault_path: Location, user: str, lock_after: timedelta) -> None:
        self.vault_path = vault_path
        self.user = user
        self.lock_after = lock_after
        self._held: HeldKeys | None = None
        self.last_used = clock.now()
        #: The exit code the shell must end with (a wrong passphrase too often), once it must.
        self.ended: int | None = None
        #: Run when the sitting locks: what else it drops (the prompt's history, completions).
        self.on_lock: list[Callable[[], None]] = []

    @property
    def unlocked(self) -> bool:
        return self._held is not None

    def serves(self, vault_path: Location, user: str) -> bool:
        return vault_path == self.vault_path and user == self.user

    def touch(self) -> None:
        """A command ran: the idle time starts again."""
        self.last_used = clock.now()

    def idle_for(self, now: datetime) -> timedelta:
        return now - self.last_used

    def lock(self) -> bool:
        """Zero the held keys and drop them; False if none were held."""
        held, self._held = self._held, None
        for forget in self.on_lock:
            forget()
        if held is None:
            return False
        held.wipe()
        return True

    def lock_if_idle(self) -> bool:
        """Lock if no command has run for `lock_after` (by the clock, so a machine that slept
        counts the time it slept); True if it locked now."""
        if self._held is None or self.idle_for(clock.now()) < self.lock_after:
            return False
        return self.lock()

    def held_unlock(self, vault: Vault) -> Unlocked | None:
        """`vault` unlocked with the held keys, or None (none held, or idle too long): never
        asks for the passphrase, and leaves locking to the next command, which says so."""
        if self._held is None or self.idle_for(clock.now()) >= self.lock_after:
            return None
        return self._held.unlock(vault)

    def unlock(self, vault: Vault) -> Unlocked:
        """`vault` unlocked for one command: with the held keys, or, locked, with the
        passphrase (asked for again, at most `ATTEMPTS` times)."""
        if self.lock_if_idle():
            output.tell([f"safeguard: locked after {describe(self.lock_after)} with no command"])
        if self._held is not None:
            unlocked = self._held.unlock(vault)
            if unlocked is not None:
                return unlocked
            self.lock()
            output.tell(
                [
                    "safeguard: your keys changed since this shell was unlocked (a new "
                    "passphrase, or your account was disabled): unlock again"
                ]
            )
        from safeguarding.access import record_opened
        from safeguarding.held import HeldKeys

        unlocked = self._with_passphrase(vault)
        record_opened(unlocked, "shell")  # the access log's one line for the sitting
        self._held = HeldKeys.of(unlocked)
        self.touch()
        return unlocked

    def _with_passphrase(self, vault: Vault) -> Unlocked:
        left = ATTEMPTS
        while True:
            try:
                passphrase = credentials.passphrase(self.user)
                say_wait(vault, self.user)
                return told(vault.unlock(self.user, passphrase))
            except WrongPassphrase:
                left -= 1
                # A passphrase from a file or a variable would be wrong again.
                if not left or not credentials.asked_for("SAFEGUARD_PASSPHRASE"):
                    self.ended = WrongPassphrase.exit_code
                    raise
                output.tell([f"safeguard: wrong passphrase; {left} more {_tries(left)}"])


def _tries(count: int) -> str:
    return "try" if count == 1 else "tries"


def describe(span: timedelta) -> str:
    """`lock_after` as a person reads it: "10 minutes", "1 minute", "30 seconds"."""
    seconds = span.total_seconds()
    if seconds < 60 or seconds % 60:
        return f"{seconds:g} seconds"
    minutes = int(seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


_current: Sitting | None = None


def current() -> Sitting | None:
    """The shell's sitting, or None outside a shell."""
    return _current


def begin(sitting: Sitting) -> None:
    global _current
    _current = sitting


def end() -> None:
    """The shell ends: its keys wiped, and no sitting from here on."""
    global _current
    if _current is not None:
        _current.lock()
    _current = None


# Before and after a passphrase is checked, in a shell as in a single command.

T = TypeVar("T", bound="Told")


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


def told(unlocked: T) -> T:
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
