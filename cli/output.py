"""The two consoles: stdout for data (JSON, timelines, recovery keys), stderr for people.

They are made on first use, so `safeguard --help` never pays for Rich's console.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    out: Console
    err: Console


@cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def reset() -> None:
    """Forget the consoles, so the next run reads the terminal's size and NO_COLOR afresh."""
    _console.cache_clear()


def __getattr__(name: str) -> Any:
    if name == "out":
        return _console(False)
    if name == "err":
        return _console(True)
    raise AttributeError(name)


def emit_json(document: Any) -> None:
    """One JSON document on stdout, nothing else."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    """A short message for the person at the terminal (stderr, so stdout stays data), one
    logical line: the terminal wraps it, so paths and names are never split."""
    _console(True).print(message, soft_wrap=True)
