"""The two consoles: stdout for data (JSON, timelines, recovery keys), stderr for people."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def emit_json(document: Any) -> None:
    """One JSON document on stdout, nothing else."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    """A short message for the person at the terminal (stderr, so stdout stays data)."""
    err.print(message)
