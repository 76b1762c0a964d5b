"""The two consoles: stdout for data (JSON, timelines, recovery keys), stderr for people.

They are made on first use, so `safeguard --help` never pays for Rich's console.  A write to a
stream that is gone (closed, a full disk, a reader that left) raises `OutputLost`, naming the
stream; and once a command has committed, `commit` has noted what it saved, so the one exit
point can still say it was saved, however the output failed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from safeguarding import jsontext
from safeguarding.errors import SafeguardError

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    out: Console
    err: Console

T = TypeVar("T")

STDOUT, STDERR = "standard output", "standard error"

#: `--json`, the same on every command that takes it: the document it prints is built in
#: `safeguarding.documents_json`, and printed by `emit_json`.
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _reference(value: str | None) -> str | None:
    """A case reference of the wrong shape (`SG-2026-001`) refused with exit 2, saying what one
    looks like, before the passphrase is asked for or anything is typed."""
    if value is not None:
        from safeguarding.casefile import parse_reference

        parse_reference(value)
    return value


#: A case, as every command that takes one names it.
CaseArgument = Annotated[
    str,
    typer.Argument(metavar="CASE", help="The case, e.g. SG-2026-0007.", callback=_reference),
]
PersonArgument = Annotated[
    str, typer.Argument(metavar="PERSON", help="The person's number, or their name if unique.")
]


class OutputLost(SafeguardError):
    """Standard output or standard error could not be written: the output chosen for the
    command cannot take it (exit 2, as for an export to a file that cannot be written)."""

    exit_code = 2

    def __init__(self, stream: str, reason: str) -> None:
        super().__init__(f"could not write to {stream} ({reason})")
        self.stream = stream
        self.reason = reason


def _reason(error: OSError) -> str:
    return (error.strerror or type(error).__name__).lower()


@cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    class GuardedConsole(Console):
        """A console whose failed writes raise `OutputLost`, never Rich's `SystemExit(1)` on a
        broken pipe, and never vanish silently into a closed stream."""

        def _write_buffer(self) -> None:
            stream = STDERR if self.stderr else STDOUT
            try:
                if (sys.stderr if self.stderr else sys.stdout) is None:
                    raise OutputLost(stream, "it is closed")
                super()._write_buffer()
            except OSError as error:
                raise OutputLost(stream, _reason(error)) from None
            finally:
                del self._buffer[:]

    return GuardedConsole(stderr=stderr, highlight=False)


_receipts: list[str] = []


def reset() -> None:
    """Forget the consoles, so the next run reads the terminal's size and NO_COLOR afresh, and
    the previous run's receipt."""
    _console.cache_clear()
    _receipts.clear()


def __getattr__(name: str) -> Any:
    if name == "out":
        return _console(False)
    if name == "err":
        return _console(True)
    raise AttributeError(name)


def _write_stdout(text: str) -> None:
    if sys.stdout is None:
        raise OutputLost(STDOUT, "it is closed")
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as error:
        raise OutputLost(STDOUT, _reason(error)) from None


def emit_json(document: Any) -> None:
    """One JSON document on stdout, nothing else, flushed: `OutputLost` if it cannot be."""
    _write_stdout(jsontext.dumps(document) + "\n")


def data_line(text: str) -> None:
    """One line of data on stdout (a case's reference, an action's number), flushed."""
    _write_stdout(text + "\n")


def send_recorded(data: bytes, what: str, recorded: str, again: str) -> None:
    """An export or a report, made and recorded, down standard output (after its transaction:
    a reader at the end of a pipe must never hold the vault's write lock).  If standard output
    fails, it stays recorded: as for any command that saved, exit 0, saying so and what to do."""
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except OSError as error:
        silence("stdout")
        tell(
            [
                f"safeguard: could not write the {what} to standard output ({_reason(error)}); "
                f"{recorded}",
                f"  {again}",
            ]
        )


def warn_plaintext(what: str, path: Path | None, then: str) -> None:
    """The warning before an export or a report leaves the vault as plaintext (`path` None:
    standard output)."""
    from rich.markup import escape

    where = "standard output" if path is None else escape(str(path))
    _console(True).print(
        f"[bold yellow]warning:[/] the {what} to {where} is plaintext, outside the encrypted "
        f"vault. {then}",
        markup=True,
        highlight=False,
        soft_wrap=True,  # one logical line: the terminal wraps it, never inside the path
    )


def say(message: str) -> None:
    """A short message for the person at the terminal (stderr, so stdout stays data), one
    logical line: the terminal wraps it, so paths and names are never split."""
    _console(True).print(message, soft_wrap=True)


def commit(write: Callable[[], T], receipt: Callable[[T], str]) -> T:
    """Run `write`, the command's commit, and note `receipt(result)`: what was saved.

    Ctrl-C is held back until the receipt is noted, so it can never land between the commit
    and the note and make a saved record look unsaved; if it came meanwhile, it is raised then,
    and the exit point says what was saved."""
    with _interrupts_held() as interrupted:
        result = write()
        _receipts.append(receipt(result))
    if interrupted:
        raise KeyboardInterrupt
    return result


def saved() -> str | None:
    """What this run committed (None: nothing)."""
    return "; ".join(_receipts) if _receipts else None


@contextmanager
def _interrupts_held() -> Iterator[list[int]]:
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous in (signal.SIG_IGN, None):
        yield caught  # ignored already (a background job): nothing to hold back
        return
    signal.signal(signal.SIGINT, lambda number, _frame: caught.append(number))
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, previous)


def settle() -> None:
    """Flush both streams before the process ends.  One that cannot take what is still
    buffered is pointed at the null device, so Python's own last flush cannot fail and change
    the exit code that was decided."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            silence(name)


def silence(name: str) -> None:
    """Send whatever else goes to sys.`name` to the null device (a real stream only)."""
    stream = getattr(sys, name)
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


def tell(lines: list[str]) -> bool:
    """Write lines to stderr as they are; False (and stderr silenced) if it cannot take them."""
    if sys.stderr is None:
        return False
    try:
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()
    except OSError:
        silence("stderr")
        return False
    return True
