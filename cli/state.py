"""What one run of `safeguard` was told before its command ran: the vault, the user, `--debug`,
and what standard input has been read for."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from safeguarding.errors import UsageError, VaultUnusable
from safeguarding.server import Location, location


def default_vault_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("safeguard", appauthor=False) / "vault.db"


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


@dataclass
class State:
    vault: Location | None = None
    #: Where `vault` came from: "--vault", "SAFEGUARD_VAULT", the config file's 'vault', or
    #: None for the default.
    vault_from: str | None = None
    user: str | None = None
    debug: bool = False
    #: What standard input has been read for: a second reader would find it empty.
    stdin_read_for: str | None = None
    #: The line said after a DSL's, a deputy's or the headteacher's command when concerns wait.
    reminder: str | None = None

    #: Whether the config file has been read for its `vault`.
    config_read: bool = False

    def reset(self) -> None:
        self.vault, self.vault_from, self.user, self.debug = None, None, None, False
        self.config_read = False
        self.stdin_read_for = None
        self.reminder = None

    def claim_stdin(self, purpose: str) -> None:
        """Note that standard input is read for `purpose`; refused if it already was (the
        passphrase from SAFEGUARD_PASSPHRASE_FILE=/dev/stdin and a note from --text-file -)."""
        if self.stdin_read_for not in (None, purpose):
            raise UsageError(
                f"standard input cannot give both {self.stdin_read_for} and {purpose}; "
                "nothing was saved",
                hint="give one of them as a file",
            )
        self.stdin_read_for = purpose

    @property
    def vault_path(self) -> Location:
        """The vault: --vault or SAFEGUARD_VAULT, else the config file's `vault`, else the
        default file."""
        if self.vault is None and not self.config_read:
            from safeguarding import config

            self.config_read = True
            settings = config.load()
            if settings.vault is not None:
                self.vault = location(settings.vault)
                self.vault_from = f"'vault' in {settings.path}"
        return self.vault if self.vault is not None else default_vault_path()

    def no_vault(self, path: Location) -> VaultUnusable:
        """What to say when there is no vault at `path`: what was looked for, and where that
        path came from.  `init` is suggested only for a path chosen on purpose."""
        if self.vault_from is not None:
            return VaultUnusable(
                f"no vault at {path} (the path {self.vault_from} gives)",
                hint=f"check {self.vault_from}; if a new vault is really wanted there, "
                "'safeguard init' creates one",
            )
        return VaultUnusable(
            f"no vault at {path}, the default: neither --vault nor SAFEGUARD_VAULT was given",
            hint="if the vault is elsewhere, 'export SAFEGUARD_VAULT=PATH' (a variable set "
            "without 'export' never reaches safeguard; put it in ~/.profile) or give --vault "
            "PATH; if you are running as the wrong account, become the vault's",
        )

    @property
    def user_name(self) -> str:
        name = self.user or login_name()
        if not name:
            raise UsageError("who are you? there is no login name", hint="pass --user NAME")
        return name

    @property
    def busy_timeout(self) -> float:
        from safeguarding.storage import DEFAULT_BUSY_TIMEOUT

        text = os.environ.get("SAFEGUARD_BUSY_TIMEOUT")
        if not text:
            return DEFAULT_BUSY_TIMEOUT
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 3600:
            raise UsageError("SAFEGUARD_BUSY_TIMEOUT must be a number of seconds from 0 to 3600")
        return value


STATE = State()
