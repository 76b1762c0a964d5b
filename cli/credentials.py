"""Where passphrases and the recovery key come from: a hidden prompt, or for scripts a file or
an environment variable.  Never argv, and nothing here may echo or log what it reads."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from safeguarding.errors import UsageError


def is_interactive() -> bool:
    """True when a person can answer prompts (tests replace this to drive the prompts)."""
    return sys.stdin.isatty()


def _from_environment(variable: str) -> str | None:
    file_variable = f"{variable}_FILE"
    file_name = os.environ.get(file_variable)
    if file_name:
        try:
            text = Path(file_name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise UsageError(
                f"{file_variable} names a file that cannot be read",
                hint=f"point {file_variable} at a readable file (mode 0600) holding the secret",
            ) from None
        # A file usually ends with one newline that is not part of the secret.
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        if not text:
            raise UsageError(f"the file named by {file_variable} is empty")
        return text
    value = os.environ.get(variable)
    return value if value else None


def secret(variable: str, prompt: str, *, confirm: bool = False) -> str:
    """The secret from `variable`_FILE, `variable`, or a hidden prompt on a terminal."""
    value = _from_environment(variable)
    if value is not None:
        return value
    if not is_interactive():
        raise UsageError(
            f"{prompt.lower()} is needed and there is no terminal to ask on",
            hint=f"set {variable}_FILE to a file (mode 0600) holding it, or {variable}",
        )
    answer: str = typer.prompt(
        prompt,
        hide_input=True,
        confirmation_prompt="Repeat it to confirm" if confirm else False,
        err=True,
    )
    return answer


def passphrase(user: str) -> str:
    return secret("SAFEGUARD_PASSPHRASE", f"Passphrase for {user}")


def new_passphrase(user: str) -> str:
    return secret("SAFEGUARD_NEW_PASSPHRASE", f"New passphrase for {user}", confirm=True)


def recovery_key() -> str:
    return secret("SAFEGUARD_RECOVERY_KEY", "Recovery key")
