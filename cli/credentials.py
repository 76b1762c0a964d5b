"""Where passphrases and the recovery key come from: a hidden prompt, or for scripts a file or
an environment variable.  Never argv, and nothing here may echo or log what it reads."""

from __future__ import annotations

import os
import stat
import sys

import typer

from safeguarding.errors import UsageError

from .state import STATE


def is_interactive() -> bool:
    """True when a person can answer prompts (tests replace this to drive the prompts)."""
    return sys.stdin.isatty()


def _read_secret_file(variable: str, file_name: str) -> str:
    """The text of the file `variable` names, refused if others may read or change it."""
    unreadable = UsageError(
        f"{variable} names a file that cannot be read",
        hint=f"point {variable} at a readable file (mode 0600) holding the secret",
    )
    try:
        descriptor = os.open(file_name, os.O_RDONLY)
    except OSError:
        raise unreadable from None
    with os.fdopen(descriptor, "rb") as handle:
        # fstat on the open file, so the file checked is the file read.
        status = os.fstat(handle.fileno())
        if _is_standard_input(status):
            STATE.claim_stdin(variable)
        mode = stat.S_IMODE(status.st_mode)
        # Only a regular file has a mode that says something: a pipe (`<(pass show …)`) does not.
        if stat.S_ISREG(status.st_mode) and mode & 0o077:
            import shlex

            exposed = "readable" if mode & 0o044 else "writable"
            raise UsageError(
                f"{variable} is {exposed} by others (mode {mode:04o}): "
                f"chmod 600 {shlex.quote(file_name)}"
            )
        try:
            return handle.read().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            raise unreadable from None


def _is_standard_input(status: os.stat_result) -> bool:
    try:
        return os.path.samestat(status, os.fstat(sys.stdin.fileno()))
    except (OSError, ValueError, AttributeError):  # no standard input, or not a real file
        return False


def _from_environment(variable: str) -> str | None:
    file_variable = f"{variable}_FILE"
    file_name = os.environ.get(file_variable)
    if file_name:
        text = _read_secret_file(file_variable, file_name)
        # A file usually ends with one newline that is not part of the secret.
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        if not text:
            raise UsageError(f"the file named by {file_variable} is empty")
        return text
    value = os.environ.get(variable)
    if not value:
        return None
    if not _is_utf8(value):
        raise UsageError(
            f"{variable} is not UTF-8 text; nothing was changed",
            hint=f"set it in UTF-8, or put the secret in a file named by {file_variable}",
        )
    _warn_plain_variable(variable)
    return value


#: The plain variables already warned about in this process (each is warned about once).
_warned: set[str] = set()


def _warn_plain_variable(variable: str) -> None:
    """One line on stderr: a secret in the environment is readable in /proc/PID/environ by
    every process of the account, which on a shared safeguarding login is everyone's."""
    if variable in _warned:
        return
    _warned.add(variable)
    try:  # a warning that cannot be shown (stderr full or closed) is no reason to stop
        sys.stderr.write(
            f"safeguard: warning: {variable} can be read by every process of this account; "
            f"put the secret in a file only you can read (mode 0600) named by {variable}_FILE\n"
        )
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def forget_warnings() -> None:
    """Warn again as a new process would (tests run many commands in one process)."""
    _warned.clear()


def _is_utf8(text: str) -> bool:
    """False for an environment value that held bytes not in UTF-8 (kept as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def secret(variable: str, prompt: str, needed: str, *, confirm: bool = False) -> str:
    """The secret from `variable`_FILE, `variable`, or a hidden prompt on a terminal.

    `needed` names the secret in the error when there is no terminal, e.g. "a passphrase for
    Alex Morgan" (the name as given, never changed in case).
    """
    value = _from_environment(variable)
    if value is not None:
        return value
    if not is_interactive():
        raise UsageError(
            f"{needed} is needed and there is no terminal to ask on: "
            f"set {variable}_FILE (or {variable})",
            hint=f"{variable}_FILE names a file (mode 0600) holding only the secret",
        )
    answer: str = typer.prompt(
        prompt,
        hide_input=True,
        confirmation_prompt="Repeat it to confirm" if confirm else False,
        err=True,
    )
    return answer


def asked_for(variable: str) -> bool:
    """Whether the secret `variable` names would be asked for at the terminal (neither it nor
    `variable`_FILE is set): only then can a wrong one be typed again."""
    return not (os.environ.get(f"{variable}_FILE") or os.environ.get(variable))


def passphrase(user: str) -> str:
    return secret("SAFEGUARD_PASSPHRASE", f"Passphrase for {user}", f"the passphrase for {user}")


def first_passphrase(user: str) -> str:
    """The first user's passphrase, chosen at `init`, from the same source as every other."""
    return secret(
        "SAFEGUARD_PASSPHRASE",
        f"Choose a passphrase for {user}",
        f"a passphrase for {user}",
        confirm=True,
    )


def new_passphrase(user: str) -> str:
    return secret(
        "SAFEGUARD_NEW_PASSPHRASE",
        f"New passphrase for {user}",
        f"a new passphrase for {user}",
        confirm=True,
    )


def recovery_key() -> str:
    return secret("SAFEGUARD_RECOVERY_KEY", "Recovery key", "the recovery key")
