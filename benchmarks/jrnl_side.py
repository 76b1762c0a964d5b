"""jrnl's side of the benchmark, run by whichever interpreter has jrnl (see run.py).

    python benchmarks/jrnl_side.py build CONFIG JOURNAL ENTRIES TEXTFILE
    python benchmarks/jrnl_side.py kdf RUNS

`build` writes jrnl's config file CONFIG (an encrypted journal at JOURNAL, no editor, no
colour) and the journal itself: ENTRIES entries, each the text in TEXTFILE, an hour apart,
written through jrnl's own `Journal`, so the file is jrnl's real encrypted format.  `kdf`
prints the median seconds of one jrnl key derivation, made by jrnl's own code with its own
parameters.

jrnl asks for the password at a prompt unless the keyring has it.  The benchmark gives it
through the keyring: `EnvKeyring` below is a keyring backend that hands jrnl the password in
JRNL_BENCH_PASSWORD, chosen with keyring's own PYTHON_KEYRING_BACKEND setting (this folder on
PYTHONPATH).  No prompt, and the account's real keyring is never touched.  It is also the
cheapest keyring there is: a desktop keyring reached over D-Bus would cost jrnl more.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from keyring.backend import KeyringBackend

PASSWORD_VARIABLE = "JRNL_BENCH_PASSWORD"  # noqa: S105 (a variable's name)


class EnvKeyring(KeyringBackend):
    """A keyring holding one password, jrnl's, from the environment."""

    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        return os.environ.get(PASSWORD_VARIABLE) if service == "jrnl" else None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError("the benchmark's keyring is read-only")

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError("the benchmark's keyring is read-only")


def build(config_path: str, journal_path: str, entries: int, text_file: str) -> None:
    from jrnl.config import get_default_config, save_config, scope_config
    from jrnl.journals import Journal

    config = get_default_config()
    config.update(editor="", highlight=False)
    config["journals"] = {"default": {"journal": journal_path, "encrypt": True}}
    save_config(config, config_path)
    journal = Journal("default", **scope_config(config, "default"))
    text = Path(text_file).read_text()
    start = datetime(2020, 1, 6, 9, 0)
    for number in range(entries):
        journal.new_entry(text, date=start + timedelta(hours=number), sort=False)
    journal.sort()
    journal.write()


def kdf(runs: int) -> None:
    from jrnl.encryption.Jrnlv3Encryption import Jrnlv3Encryption

    method = Jrnlv3Encryption("default", {})
    method.password = os.environ[PASSWORD_VARIABLE]
    salt = os.urandom(16)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        method._make_key(salt)
        times.append(time.perf_counter() - start)
    print(statistics.median(times))


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "build":
        build(rest[0], rest[1], int(rest[2]), rest[3])
    elif command == "kdf":
        kdf(int(rest[0]))
    else:
        raise SystemExit(f"unknown command {command!r}")
