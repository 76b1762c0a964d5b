"""How many key derivations one run of a command makes.

    python benchmarks/kdf_count.py MODULE:CLASS OUTFILE SCRIPT [ARGS...]

Puts a counting wrapper in place of the key derivation class named (such as
`cryptography.hazmat.primitives.kdf.argon2:Argon2id`) before anything imports it, runs the
console script SCRIPT with ARGS as its own entry point would, then writes the number of
derivations it made to OUTFILE.  Run it with the script's own interpreter: it needs only the
standard library beside what the script itself imports.  `run.py` subtracts each tool's key
derivations from its time with this count, not with a number assumed from reading its code.
"""

from __future__ import annotations

import atexit
import importlib
import runpy
import sys
from pathlib import Path
from typing import Any

#: What derives a key, on cryptography's key derivation classes.
DERIVING = frozenset({"derive", "derive_into", "verify"})


def counting(real: type) -> tuple[type, list[int]]:
    """A stand-in for `real` that counts the keys its instances derive."""
    made = [0]

    class Counting:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._real = real(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            found = getattr(self._real, name)
            if name not in DERIVING:
                return found

            def derive(*args: Any, **kwargs: Any) -> Any:
                made[0] += 1
                return found(*args, **kwargs)

            return derive

    return Counting, made


def main(argv: list[str]) -> None:
    target, outfile, script, *args = argv
    module_name, _, class_name = target.partition(":")
    module = importlib.import_module(module_name)
    stand_in, made = counting(getattr(module, class_name))
    setattr(module, class_name, stand_in)
    sys.argv = [script, *args]
    sys.path[0] = str(Path(script).parent)
    # At exit, however the script ends: safeguard ends with the exit handlers and `os._exit`.
    atexit.register(lambda: Path(outfile).write_text(str(made[0])))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
