"""Speed and memory of safeguard, as ratios against baselines measured in the same run.

    .venv/bin/python benchmarks/run.py               # the full table (several minutes)
    .venv/bin/python benchmarks/run.py --quick       # smaller vaults, fewer runs (a smoke test)
    .venv/bin/python benchmarks/run.py --only-verify # just the verify rows
    .venv/bin/python benchmarks/run.py --only-jrnl   # just `note` against its floor and jrnl
    .venv/bin/python benchmarks/run.py --only-postgres  # just a server's vault against a file
    .venv/bin/python benchmarks/run.py --years 0     # without the 25-year vault (500,000
                                                     # entries, about 5 minutes to build)

Vaults are built through the library (fast, bulk).  Every timed figure is a whole process, the
real `safeguard` command or its baseline, and every ratio sets two of them against each other
measured in the same run, in turn round after round (A B A B), so that a noisy moment on a
shared machine weighs on both alike: each figure is the median of its runs, with the fastest
and the slowest beside it.  Peak memory is each process's maximum resident set size (each is
started by a small process, spawner.py, so that the peak is its own).  Nothing here is a test:
shared machines are noisy, so goals are printed beside the figures, never asserted.  Under the
table: the machine's load average at the start and the end of the run, and its cores.

jrnl, the encrypted journal command line, is measured beside `note` and `timeline --json`:
from this environment if it has it (`pip install -e '.[bench]'`), or else from its own venv,
benchmarks/.jrnl-venv, made on first use; if it cannot be installed, its rows are left out.
Its journals are encrypted, written through jrnl's own library, and its password reaches it
through the keyring without a prompt (see jrnl_side.py).  Each tool's key derivations in one
run of each command are counted (kdf_count.py), and one derivation is timed by each tool's own
code with its own parameters: the ratios against jrnl are shown raw, and with each tool's
derivations taken from its time, where the goal applies.  safeguard's are never made cheaper.
"""

from __future__ import annotations

import argparse
import base64
import functools
import importlib.util
import itertools
import json
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import signature_check

from safeguarding import categories, chronology, clock, config, crypto, slots, storage, summaries
from safeguarding.cases import Casebook
from safeguarding.crypto import KeyRing
from safeguarding.db import Case, CaseSummary, Entry, KeySlot, User, VaultMeta
from safeguarding.entries import Disclosure, Subject
from safeguarding.vault import Role, Unlocked, Vault
from safeguarding.vocabulary import Kind

PASSPHRASE = "benchmark passphrase 2026"  # noqa: S105 (a throwaway vault)
JRNL_PASSWORD = "benchmark password 2026"  # noqa: S105 (a throwaway journal)
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SAFEGUARD = str(BIN / "safeguard")
JRNL_REQUIREMENT = "jrnl>=4.6,<5"
JRNL_VENV = HERE / ".jrnl-venv"
ARGON2ID = "cryptography.hazmat.primitives.kdf.argon2:Argon2id"
PBKDF2 = "cryptography.hazmat.primitives.kdf.pbkdf2:PBKDF2HMAC"
NOTE_TEXT = (
    "Spoke to the class teacher at break. She confirmed the pupil seemed withdrawn this week "
    "and mentioned messages on her phone; no further detail given. Will follow up tomorrow."
)


# Measuring -----------------------------------------------------------------------------------


@dataclass
class Command:
    """A whole process to time: its arguments, environment and standard input."""

    args: Sequence[str]
    env: dict[str, str]
    stdin: bytes | None = None


@dataclass
class Measure:
    seconds: float
    peak_kib: int
    cpu_seconds: float = 0.0  # user + system, the process's and its workers'


@dataclass
class Series:
    """Every run of one command: the median is its figure, the fastest and slowest beside."""

    runs: list[Measure] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(m.seconds for m in self.runs)

    @property
    def low(self) -> float:
        return min(m.seconds for m in self.runs)

    @property
    def high(self) -> float:
        return max(m.seconds for m in self.runs)

    @property
    def peak_kib(self) -> int:
        return max(m.peak_kib for m in self.runs)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(m.cpu_seconds for m in self.runs)

    def plus(self, other: Series) -> Series:
        """Two processes run one after the other: round by round, their times added."""
        return Series(
            [
                Measure(a.seconds + b.seconds, max(a.peak_kib, b.peak_kib))
                for a, b in zip(self.runs, other.runs, strict=True)
            ]
        )


class Spawner:
    """The small process that starts and measures every timed process (spawner.py), so that
    each one's peak memory is its own and not this process's, which holds the vaults."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "spawner.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, command: Command) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        stdin = base64.b64encode(command.stdin).decode() if command.stdin is not None else None
        request = {"args": list(command.args), "env": command.env, "stdin": stdin}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


@functools.cache
def spawner() -> Spawner:
    return Spawner()


def run_process(command: Command) -> Measure:
    """Run one process to completion (by the spawner); its wall time and its own peak memory."""
    done = spawner().run(command)
    if done["returncode"] != 0:
        raise SystemExit(
            f"{' '.join(command.args)} failed ({done['returncode']}): {done['stderr']}"
        )
    return Measure(done["seconds"], done["peak_kib"], done["cpu_seconds"])


def interleaved(runs: int, commands: dict[str, Command]) -> dict[str, Series]:
    """Every command run in turn, round after round (A B A B): a noisy moment on a shared
    machine weighs on all of them alike rather than on whichever ran then."""
    measured = {name: Series() for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            measured[name].runs.append(run_process(command))
    return measured


def environment(vault: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SAFEGUARD_VAULT=str(vault),
        SAFEGUARD_USER="alice",
        SAFEGUARD_PASSPHRASE=PASSPHRASE,
        NO_COLOR="1",
        COLUMNS="100",
    )
    return env


def plain_environment() -> dict[str, str]:
    return dict(os.environ, NO_COLOR="1")


def count_derivations(python: str, kdf: str, script: str, command: Command) -> int:
    """How many keys `kdf` derives in one run of `command` (`script`'s console command), counted
    by `kdf_count.py` in `python`, the script's own interpreter; not timed."""
    with tempfile.TemporaryDirectory(prefix="safeguard-bench-") as folder:
        found = Path(folder) / "count"
        counted = Command(
            [python, str(HERE / "kdf_count.py"), kdf, str(found), script, *command.args[1:]],
            command.env,
            command.stdin,
        )
        run_process(counted)
        return int(found.read_text())


def json_entries(command: Command) -> int:
    """The number of entries in the JSON document `command` writes (not timed; it reads
    nothing on standard input)."""
    done = subprocess.run(
        list(command.args),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=command.env,
        start_new_session=True,
        check=True,
    )
    return len(json.loads(done.stdout)["entries"])


# Key derivations ------------------------------------------------------------------------------


@dataclass
class Kdf:
    """One tool's key derivation: its name, and what one costs, timed by the tool's own code in
    a running process (the median of several), so without starting Python or importing."""

    name: str
    seconds: float


def vault_kdf(path: Path) -> crypto.KdfParams:
    """The Argon2id parameters of the first user's key slot in the vault at `path`."""
    vault = Vault.open(path)
    try:
        with storage.reading(vault.connection) as db:
            slot = db.first(KeySlot, "user_id = 1")
            assert slot is not None
            return slots.params(slot)
    finally:
        vault.close()


def describe(params: crypto.KdfParams) -> str:
    return f"Argon2id t={params.iterations}, {params.memory_kib // 1024} MiB, p={params.lanes}"


def argon2id(params: crypto.KdfParams, runs: int) -> Kdf:
    """One derivation as the vault makes it (`crypto.stretch`), with its own parameters."""
    salt, times = os.urandom(16), []
    for _ in range(runs):
        start = time.perf_counter()
        crypto.stretch(PASSPHRASE, salt, params)
        times.append(time.perf_counter() - start)
    return Kdf("Argon2id", statistics.median(times))


def argon2id_process(params: crypto.KdfParams) -> Command:
    """A whole process that derives one key as the vault does, calling the library the vault
    uses (cryptography's Argon2id) with the vault's parameters, and imports nothing else."""
    code = (
        "from cryptography.hazmat.primitives.kdf.argon2 import Argon2id\n"
        f"Argon2id(salt=bytes(16), length={crypto.KEY_BYTES}, iterations={params.iterations}, "
        f"lanes={params.lanes}, memory_cost={params.memory_kib}).derive({PASSPHRASE.encode()!r})"
    )
    return Command([sys.executable, "-c", code], plain_environment())


# jrnl ----------------------------------------------------------------------------------------


@dataclass
class Jrnl:
    """jrnl's command, the interpreter it runs in, and what it needs to run without a prompt."""

    command: Path
    python: Path
    version: str
    where: str
    home: Path

    @property
    def env(self) -> dict[str, str]:
        """jrnl's password through keyring's own setting: see jrnl_side.py.  Its config and
        data folders are the benchmark's, so a real journal is never touched."""
        return dict(
            os.environ,
            PYTHONPATH=str(HERE),
            PYTHON_KEYRING_BACKEND="jrnl_side.EnvKeyring",
            JRNL_BENCH_PASSWORD=JRNL_PASSWORD,
            XDG_CONFIG_HOME=str(self.home / "config"),
            XDG_DATA_HOME=str(self.home / "data"),
            NO_COLOR="1",
            COLUMNS="100",
        )

    def side(self, *args: str) -> str:
        """What jrnl_side.py prints, run by jrnl's interpreter (not timed)."""
        done = subprocess.run(
            [str(self.python), str(HERE / "jrnl_side.py"), *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            start_new_session=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"jrnl_side.py {args[0]} failed ({done.returncode}): {done.stderr}")
        return done.stdout

    def journal(self, name: str, entries: int, text_file: Path) -> Path:
        """An encrypted journal of `entries` entries, written through jrnl's library; its
        config file."""
        config_file = self.home / f"{name}.yaml"
        self.side(
            "build", str(config_file), str(self.home / f"{name}.txt"), str(entries), str(text_file)
        )
        return config_file

    def add(self, config_file: Path) -> Command:
        """Add one entry, its text on standard input (as a script would, not in argv)."""
        return Command(
            [str(self.command), "--config-file", str(config_file)], self.env, NOTE_TEXT.encode()
        )

    def export(self, config_file: Path) -> Command:
        return Command(
            [str(self.command), "--config-file", str(config_file), "--format", "json"], self.env
        )

    def kdf(self, runs: int) -> Kdf:
        """One derivation by jrnl's own code, with its own parameters, in jrnl's interpreter."""
        return Kdf("PBKDF2", float(self.side("kdf", str(runs))))

    def derivations(self, command: Command) -> int:
        return count_derivations(str(self.python), PBKDF2, str(self.command), command)


def find_jrnl(work: Path) -> Jrnl | None:
    """jrnl from this environment (the `bench` extra), or else from its own venv,
    benchmarks/.jrnl-venv, made on first use (jrnl pins its own Rich, which may one day not be
    ours).  None, having said why in one line, if it cannot be installed or run."""
    here = BIN / "jrnl"
    if importlib.util.find_spec("jrnl") is not None and here.exists():
        command, python, where = here, Path(sys.executable), "this environment"
    else:
        command, python = JRNL_VENV / "bin" / "jrnl", JRNL_VENV / "bin" / "python"
        where = "benchmarks/.jrnl-venv"
        if not command.exists():
            print(f"jrnl is not in this environment: installing {JRNL_REQUIREMENT} in {where}")
            try:
                subprocess.run(
                    [sys.executable, "-m", "venv", str(JRNL_VENV)], check=True, capture_output=True
                )
                subprocess.run(
                    [str(python), "-m", "pip", "install", "-q", JRNL_REQUIREMENT],
                    check=True,
                    capture_output=True,
                )
            except (OSError, subprocess.CalledProcessError) as error:
                shutil.rmtree(JRNL_VENV, ignore_errors=True)
                print(f"jrnl could not be installed ({last_line(error)}): its rows are left out")
                return None
    home = work / "jrnl"
    home.mkdir(exist_ok=True)
    try:
        probe = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('jrnl'))"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"jrnl in {where} does not run ({last_line(error)}): its rows are left out")
        return None
    version = probe.stdout.strip()
    if not (4, 6) <= release(version) < (5,):
        print(f"jrnl in {where} is {version}, not {JRNL_REQUIREMENT}: its rows are left out")
        return None
    return Jrnl(command, python, version, where, home)


def release(version: str) -> tuple[int, ...]:
    """A version's leading numbers: (4, 6) of 4.6 or 4.6.1rc1."""
    numbers = []
    for part in version.split("."):
        digits = "".join(itertools.takewhile(str.isdigit, part))
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers)


def last_line(error: OSError | subprocess.CalledProcessError) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        output = error.stderr.decode() if isinstance(error.stderr, bytes) else error.stderr or ""
        lines = [line for line in output.splitlines() if line.strip()]
        return lines[-1].strip() if lines else f"exit {error.returncode}"
    return str(error)


# Building vaults -----------------------------------------------------------------------------


def new_vault(path: Path) -> Unlocked:
    """A vault with the default (full-cost) key derivation, as a school would have."""
    unlocked, _ = Vault.create(path, "alice", PASSPHRASE)
    return unlocked


def casebook(unlocked: Unlocked) -> Casebook:
    settings = config.load()
    return Casebook(unlocked, categories.load(settings.categories_file), settings)


def record_case(book: Casebook, number: int) -> str:
    written = book.open(
        Disclosure(
            category="child-protection",
            subjects=(Subject(name=f"Pupil {number}", role="pupil"),),
            disclosed_by=f"Teacher {number}",
            relationship="class teacher",
            where="classroom",
            text=NOTE_TEXT,
        )
    )
    return written.reference


def bulk_cases(unlocked: Unlocked, count: int, status: str = "open") -> None:
    """`count` more cases, each opened by a disclosure and given its summary, written in one
    transaction (`status` "closed": each closed by the same entry, as far as the cases table
    and the summary say, for vaults of closed cases built fast)."""
    now = clock.now()
    with storage.writing(unlocked.vault.connection) as db:
        meta = db.get(VaultMeta, 1)
        assert meta is not None
        first_id = db.next_id(Case)
        seq, previous = meta.head_seq, meta.head_mac
        rows: list[Any] = []
        made: list[CaseSummary] = []
        for offset in range(count):
            case_id = first_id + offset
            case_key = crypto.new_key()
            rows.append(
                Case(
                    id=case_id,
                    year=now.year,
                    number=case_id,
                    opened_at=clock.to_text(now),
                    case_key=crypto.seal(
                        unlocked.keys.field_key,
                        case_key,
                        table="cases",
                        row=case_id,
                        column="case_key",
                    ),
                    status="open",
                )
            )
            seq += 1
            payload = disclosure_payload(case_id)
            entry = Entry(
                seq=seq,
                case_id=case_id,
                kind=Kind.DISCLOSURE,
                event_at=clock.to_text(now),
                recorded_at=clock.to_text(now),
                author_id=1,
                payload=chronology.seal_payload(case_key, seq, payload),
                mac=b"",
                facts=chronology.canonical({"case": [now.year, case_id]}),
            )
            previous = sign(unlocked, entry, previous)
            rows.append(entry)
            reference = f"SG-{now.year}-{case_id:04d}"
            summary = summaries.of_rows(reference, [(entry, payload)])
            made.append(summaries.seal(case_id, KeyRing((case_key,)), summary))
        for row in [*rows[0::2], *rows[1::2], *made]:
            db.insert(row)
        meta.head_seq, meta.head_mac = seq, previous
        db.update(meta, "head_seq", "head_mac")


def sign(unlocked: Unlocked, entry: Entry, previous: bytes) -> bytes:
    """Sign `entry` after `previous` as the library does; its hash, the next one's previous."""
    body = chronology.signed_bytes(entry, previous)
    entry.signature = unlocked.signer.key.sign(body)
    entry.mac = chronology.hash_of(body, entry.signature)
    return entry.mac


def disclosure_payload(number: int) -> dict[str, Any]:
    return {
        "category": "child-protection",
        "subjects": [{"name": f"Pupil {number}", "role": "pupil"}],
        "disclosed_by": f"Teacher {number}",
        "relationship": "class teacher",
        "received_by": "alice",
        "where": "classroom",
        "text": NOTE_TEXT,
    }


def bulk_notes(unlocked: Unlocked, reference: str, count: int) -> None:
    """`count` notes appended to one case in a single transaction."""
    from safeguarding import casefile

    now = clock.now()
    with storage.writing(unlocked.vault.connection) as db:
        case = casefile.find_case(db, reference)
        ring = unlocked.case_ring(db, case, writing=True)
        assert ring.epoch == 0, "bulk notes are sealed as in a vault never re-keyed"
        case_key = ring.current
        meta = db.get(VaultMeta, 1)
        assert meta is not None
        seq, previous = meta.head_seq, meta.head_mac
        summary = summaries.read(db, case.id, ring)
        assert summary is not None, "bulk notes follow a case's summary"
        rows = []
        for _ in range(count):
            seq += 1
            entry = Entry(
                seq=seq,
                case_id=case.id,
                kind=Kind.NOTE,
                event_at=clock.to_text(now),
                recorded_at=clock.to_text(now),
                author_id=1,
                payload=chronology.seal_payload(case_key, seq, {"text": NOTE_TEXT}),
                mac=b"",
            )
            previous = sign(unlocked, entry, previous)
            rows.append(entry)
            summary = summaries.advance(summary, entry, {"text": NOTE_TEXT})
        for row in rows:
            db.insert(row)
        summaries.write(db, case.id, ring, summary)
        meta.head_seq, meta.head_mac = seq, previous
        db.update(meta, "head_seq", "head_mac")


def vault_of_size(path: Path, entries: int, per_case: int = 50) -> tuple[Unlocked, str]:
    """A vault of about `entries` entries spread over cases of `per_case` entries."""
    unlocked = new_vault(path)
    book = casebook(unlocked)
    reference = record_case(book, 0)
    cases = max(1, entries // per_case)
    bulk_cases(unlocked, cases - 1)
    bulk_notes(unlocked, reference, per_case - 1)
    with storage.reading(unlocked.vault.connection) as db:
        cases_found = db.next_id(Case) - 1
    remaining = entries - unlocked.head().seq
    # Fill the other cases with notes until the vault holds `entries` entries.
    number = 2
    while remaining > 0 and number <= int(cases_found or 0):
        add = min(per_case - 1, remaining)
        bulk_notes(unlocked, f"SG-{clock.now().year}-{number:04d}", add)
        remaining -= add
        number += 1
    return unlocked, reference


def bulk_history(
    unlocked: Unlocked, years: Sequence[int], per_year: int, per_case: int, open_cases: int
) -> None:
    """`per_year` cases in each of `years`, each of `per_case` entries (its disclosure, notes,
    a recorded decision not to refer, its closure), the last `open_cases` of the last year
    still open (a disclosure and notes); every entry sealed, signed and chained, every case
    given its summary, as the library writes them.  One transaction a year."""
    assert per_case >= 3
    closing = [
        (Kind.REFERRAL, {"route": "none", "text": NOTE_TEXT}),
        (Kind.CLOSURE, {"outcome": "no-further-action", "text": NOTE_TEXT}),
    ]
    for year in years:
        with storage.writing(unlocked.vault.connection) as db:
            meta = db.get(VaultMeta, 1)
            assert meta is not None
            seq, previous = meta.head_seq, meta.head_mac
            first_id, first_number = db.next_id(Case), db.next_id(Case, "number", "year = ?", year)
            rows: list[Any] = []
            for offset in range(per_year):
                case_id, number = first_id + offset, first_number + offset
                still_open = year == years[-1] and offset >= per_year - open_cases
                at = datetime(year, 3, 1, 9, tzinfo=UTC) + timedelta(hours=offset)
                key = crypto.new_key()
                ring = KeyRing((key,))
                kept: list[tuple[str, dict[str, Any]]] = [
                    (Kind.DISCLOSURE, disclosure_payload(number))
                ]
                kept += [(Kind.NOTE, {"text": NOTE_TEXT})] * (per_case - 1 - 2 * (not still_open))
                kept += [] if still_open else closing
                summary = None
                for kind, payload in kept:
                    seq += 1
                    entry = Entry(
                        seq=seq,
                        case_id=case_id,
                        kind=kind,
                        event_at=clock.to_text(at),
                        recorded_at=clock.to_text(at),
                        author_id=1,
                        payload=chronology.seal_payload(key, seq, payload),
                        mac=b"",
                        facts=None
                        if kind != Kind.DISCLOSURE
                        else chronology.canonical({"case": [year, number]}),
                    )
                    previous = sign(unlocked, entry, previous)
                    rows.append(entry)
                    summary = summaries.advance(summary, entry, payload)
                assert summary is not None
                summary.state.reference = f"SG-{year}-{number:04d}"
                closed = None if still_open else clock.to_text(at)
                rows.insert(
                    len(rows) - len(kept),
                    Case(
                        id=case_id,
                        year=year,
                        number=number,
                        opened_at=clock.to_text(at),
                        case_key=crypto.seal(
                            unlocked.keys.field_key,
                            ring.packed(),
                            table="cases",
                            row=case_id,
                            column="case_key",
                        ),
                        status="open" if still_open else "closed",
                        closed_at=closed,
                    ),
                )
                rows.append(summaries.seal(case_id, ring, summary))
            for row in rows:
                db.insert(row)
            meta.head_seq, meta.head_mac = seq, previous
            db.update(meta, "head_seq", "head_mac")


def history_vault(
    path: Path, years: Sequence[int], per_year: int, per_case: int, open_cases: int
) -> None:
    unlocked = new_vault(path)
    bulk_history(unlocked, years, per_year, per_case, open_cases)
    unlocked.close()


def case_vault(path: Path, entries: int) -> str:
    """A vault holding one case of `entries` entries; the case's reference."""
    unlocked = new_vault(path)
    reference = record_case(casebook(unlocked), 1)
    bulk_notes(unlocked, reference, entries - 1)
    unlocked.close()
    return reference


# Verifying -----------------------------------------------------------------------------------


def signed_entries(path: Path) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The signer's public key and every entry's (signature, signed bytes) in the vault at
    `path`, all written by its first user."""
    vault = Vault.open(path)
    try:
        with storage.reading(vault.connection) as db:
            user = db.get(User, 1)
            assert user is not None and user.signing_key is not None
            previous, signed = crypto.GENESIS_MAC, []
            for entry in chronology.iter_rows(db):
                assert entry.author_id == 1 and entry.signature is not None
                signed.append((entry.signature, chronology.signed_bytes(entry, previous)))
                previous = entry.mac
            return user.signing_key, signed
    finally:
        vault.close()


def verify_rows(work: Path, path: Path, entries: int, runs: int) -> list[Row]:
    """`verify` with a passphrase and without, against a process that checks the same
    signatures on every core and nothing else (signature_check.py), each in turn round by
    round."""
    cores = len(os.sched_getaffinity(0))
    signatures = work / "signatures.bin"
    signature_check.write(signatures, *signed_entries(path))
    env = environment(path)
    commands = {
        "floor": Command(
            [sys.executable, str(HERE / "signature_check.py"), str(signatures), str(cores)],
            plain_environment(),
        ),
        "verify": Command([SAFEGUARD, "verify"], env),
        "verify --no-passphrase": Command([SAFEGUARD, "verify", "--no-passphrase"], env),
    }
    measured = interleaved(max(3, runs // 2), commands)
    floor = measured.pop("floor")
    rows = []
    for name, found in measured.items():
        rows += [
            Row(
                f"{name}, {entries:,} entries",
                spread(found),
                f"{entries:,} signature checks, {cores} cores {spread(floor)}",
                f"{found.seconds / floor.seconds:.2f}x",
                "<= 5 s",
                verdict(found.seconds <= 5.0),
                mib(found.peak_kib),
            ),
            Row(f"  its CPU time, all {cores} cores", fmt_s(found.cpu_seconds), "", "", "", "", ""),
        ]
    rows.append(
        Row(
            f"  the signature checks alone on {cores} cores, a process",
            spread(floor),
            "",
            "",
            "",
            "",
            mib(floor.peak_kib),
        )
    )
    return rows


# The table -----------------------------------------------------------------------------------


@dataclass
class Row:
    what: str
    value: str
    baseline: str
    ratio: str
    goal: str
    met: str
    peak_mib: str


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def spread(series: Series) -> str:
    """The median, then the fastest and slowest runs, in the median's unit."""
    if series.seconds < 10:
        return f"{fmt_s(series.seconds)} ({series.low * 1000:,.0f}–{series.high * 1000:,.0f})"
    return f"{fmt_s(series.seconds)} ({series.low:.1f}–{series.high:.1f})"


def rate(series: Series, size: int) -> str:
    """Bytes a second, as MiB/s: at the median, then at the slowest and fastest runs."""
    mebibytes = size / 2**20
    median, slowest, fastest = (mebibytes / s for s in (series.seconds, series.high, series.low))
    places = 0 if slowest >= 10 else 1
    return f"{median:.{places}f} MiB/s ({slowest:.{places}f}–{fastest:.{places}f})"


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def against(what: str, measured: Series, baseline: str, base: Series, goal: float | None) -> Row:
    """A row for `measured` set against `base`, its ratio of medians and its goal if any."""
    ratio = measured.seconds / base.seconds
    return Row(
        what,
        spread(measured),
        f"{baseline} {spread(base)}",
        f"{ratio:.2f}x",
        f"<= {goal}x" if goal is not None else "(no goal)",
        verdict(ratio <= goal) if goal is not None else "",
        mib(measured.peak_kib),
    )


def jrnl_rows(
    what: str,
    ours: Series,
    ours_kdf: tuple[int, Kdf],
    theirs_what: str,
    theirs: Series,
    theirs_kdf: tuple[int, Kdf],
) -> list[Row]:
    """safeguard against jrnl: the raw ratio, then the ratio once each tool's own key
    derivations (counted, each timed on its own) are taken from its time; the goal is on that."""
    (our_count, our_kdf), (their_count, their_kdf) = ours_kdf, theirs_kdf
    our_net = ours.seconds - our_count * our_kdf.seconds
    their_net = theirs.seconds - their_count * their_kdf.seconds
    ratio = our_net / their_net
    raw = against(what, ours, f"jrnl {theirs_what}", theirs, None)
    raw.goal = "(raw)"
    return [
        raw,
        Row(
            "  less each one's key derivations",
            f"{fmt_s(our_net)} (- {our_count} x {our_kdf.name} {fmt_s(our_kdf.seconds)})",
            f"jrnl {fmt_s(their_net)} (- {their_count} x {their_kdf.name} "
            f"{fmt_s(their_kdf.seconds)})",
            f"{ratio:.2f}x",
            "<= 0.8x",
            verdict(ratio <= 0.8),
            "",
        ),
    ]


# The benchmark -------------------------------------------------------------------------------


@dataclass
class Bench:
    """One run: its work folder, the runs per median, jrnl if it can be had, and each tool's
    key derivation, timed once the first vault exists."""

    work: Path
    runs: int
    jrnl: Jrnl | None
    note_file: Path = field(init=False)
    params: crypto.KdfParams | None = None
    argon2id: Kdf | None = None
    pbkdf2: Kdf | None = None

    def __post_init__(self) -> None:
        self.note_file = self.work / "note.txt"
        self.note_file.write_text(NOTE_TEXT)

    def note(self, vault: Path, reference: str) -> Command:
        return Command(
            [SAFEGUARD, "note", reference, "--text-file", str(self.note_file)],
            environment(vault),
        )

    def key_derivations(self, vault: Path) -> None:
        self.params = vault_kdf(vault)
        self.argon2id = argon2id(self.params, self.runs)
        if self.jrnl is not None:
            self.pbkdf2 = self.jrnl.kdf(self.runs)

    def help_rows(self) -> list[Row]:
        """Start-up: --help against importing Typer and Rich."""
        measured = interleaved(
            self.runs,
            {
                "base": Command([sys.executable, "-c", "import typer, rich"], plain_environment()),
                "help": Command([SAFEGUARD, "--help"], plain_environment()),
            },
        )
        return [
            against("safeguard --help", measured["help"], "import typer, rich", measured["base"], 2)
        ]

    def note_vaults(self, sizes: Sequence[int]) -> dict[int, tuple[Path, str]]:
        """A vault of each size, in cases of 50 entries; the first case's reference."""
        vaults = {}
        for size in sizes:
            path = self.work / f"v{size}.db"
            unlocked, reference = vault_of_size(path, size)
            unlocked.close()
            vaults[size] = (path, reference)
        self.key_derivations(vaults[sizes[0]][0])
        return vaults

    def note_rows(
        self, vaults: dict[int, tuple[Path, str]], jrnl_sizes: Sequence[int]
    ) -> list[Row]:
        """One note at each vault size, its floor (Python with Typer and Rich, then one Argon2id
        derivation, each a process of its own) and jrnl adding one entry, all in turn."""
        assert self.params is not None and self.argon2id is not None
        commands = {
            "typer": Command([sys.executable, "-c", "import typer, rich"], plain_environment()),
            "argon2id": argon2id_process(self.params),
        }
        for size, (path, reference) in vaults.items():
            commands[f"note {size}"] = self.note(path, reference)
        if self.jrnl is not None:
            for size in jrnl_sizes:
                journal = self.jrnl.journal(f"add-{size}", size, self.note_file)
                commands[f"jrnl {size}"] = self.jrnl.add(journal)
        measured = interleaved(self.runs, commands)
        floor = measured["typer"].plus(measured["argon2id"])
        sizes = sorted(vaults)
        rows = [
            against(
                f"note, vault of {size:,} entries",
                measured[f"note {size}"],
                "floor",
                floor,
                1.6,
            )
            for size in sizes
        ]
        rows.append(
            Row(
                "  its floor, two processes",
                spread(floor),
                f"import typer, rich {spread(measured['typer'])} + one {describe(self.params)} "
                f"{spread(measured['argon2id'])}",
                "",
                "",
                "",
                "",
            )
        )
        small, large = sizes[0], sizes[-1]
        if large != small:
            growth = measured[f"note {large}"].seconds / measured[f"note {small}"].seconds
            rows.append(
                Row(
                    f"note at {large:,} vs {small:,}",
                    f"{growth:.2f}x",
                    "",
                    f"{growth:.2f}x",
                    "<= 1.1x",
                    verdict(growth <= 1.1),
                    "",
                )
            )
        if self.jrnl is None or self.pbkdf2 is None:
            return rows
        ours = (
            count_derivations(sys.executable, ARGON2ID, SAFEGUARD, commands[f"note {small}"]),
            self.argon2id,
        )
        theirs = (self.jrnl.derivations(commands[f"jrnl {jrnl_sizes[0]}"]), self.pbkdf2)
        for size in jrnl_sizes:
            rows += jrnl_rows(
                f"note, {size:,} entries (a 50-entry case)",
                measured[f"note {size}"],
                ours,
                f"adding one entry, {size:,} entries",
                measured[f"jrnl {size}"],
                theirs,
            )
        return rows

    def json_rows(self, sizes: Sequence[int]) -> list[Row]:
        """Everything as JSON: `timeline --json` of a case holding all the entries, against
        jrnl exporting a journal of as many as JSON, in turn."""
        if self.jrnl is None or self.argon2id is None or self.pbkdf2 is None:
            return []
        commands = {}
        for size in sizes:
            path = self.work / f"json{size}.db"
            reference = case_vault(path, size)
            ours = Command([SAFEGUARD, "timeline", reference, "--json"], environment(path))
            theirs = self.jrnl.export(self.jrnl.journal(f"export-{size}", size, self.note_file))
            for name, command in (("safeguard", ours), ("jrnl", theirs)):
                if (found := json_entries(command)) != size:
                    raise SystemExit(f"{name} wrote {found:,} entries as JSON, not {size:,}")
            commands[f"timeline {size}"], commands[f"jrnl {size}"] = ours, theirs
        measured = interleaved(self.runs, commands)
        first = sizes[0]
        ours_kdf = (
            count_derivations(sys.executable, ARGON2ID, SAFEGUARD, commands[f"timeline {first}"]),
            self.argon2id,
        )
        theirs_kdf = (self.jrnl.derivations(commands[f"jrnl {first}"]), self.pbkdf2)
        rows = []
        for size in sizes:
            rows += jrnl_rows(
                f"timeline --json, a {size:,}-entry case",
                measured[f"timeline {size}"],
                ours_kdf,
                f"--format json, {size:,} entries",
                measured[f"jrnl {size}"],
                theirs_kdf,
            )
        return rows

    def export_rows(self, entries: int) -> list[Row]:
        """The timeline of a case, and its exports against it, in turn.  The first PDF on this
        machine is timed before any other: nothing is cut or cached."""
        path = self.work / "timeline.db"
        reference = case_vault(path, entries)
        env = environment(path)
        export = [SAFEGUARD, "export", reference, "-o", "-", "-f"]
        first = run_process(Command([*export, "pdf"], env))
        measured = interleaved(
            self.runs,
            {
                "timeline": Command([SAFEGUARD, "timeline", reference], env),
                "html": Command([*export, "html"], env),
                "pdf": Command([*export, "pdf"], env),
            },
        )
        shown = measured["timeline"]
        rows = [
            Row(
                f"timeline, {entries:,}-entry case",
                spread(shown),
                "",
                "",
                "<= 1 s",
                verdict(shown.seconds <= 1.0),
                mib(shown.peak_kib),
            )
        ]
        for fmt, goal in (("html", 1.1), ("pdf", 1.2)):
            rows.append(
                against(
                    f"export {fmt}, {entries:,}-entry case",
                    measured[fmt],
                    "its timeline",
                    shown,
                    goal,
                )
            )
        later = measured["pdf"]
        rows.append(
            Row(
                "first export pdf on this machine (one run)",
                fmt_s(first.seconds),
                f"the later ones {spread(later)}",
                f"{first.seconds / later.seconds:.2f}x",
                "<= 1x (+10% noise)",
                verdict(first.seconds <= 1.1 * later.seconds),
                mib(first.peak_kib),
            )
        )
        return rows

    def listing_rows(self, many_cases: int) -> list[Row]:
        """Listing many cases, as a table and as JSON, and disabling a user (the re-key gives
        every case a new key), in turn."""
        path = self.work / "cases.db"
        unlocked = new_vault(path)
        record_case(casebook(unlocked), 1)
        bulk_cases(unlocked, many_cases - 1)
        unlocked.close()
        env = dict(environment(path), COLUMNS="80")  # the width the list is laid out for
        measured = {name: Series() for name in ("table", "json", "disable")}
        for run in range(self.runs):
            table = Command([SAFEGUARD, "cases"], env)  # every one of them is open
            measured["table"].runs.append(run_process(table))
            json_list = Command([SAFEGUARD, "cases", "--status", "all", "--json"], env)
            measured["json"].runs.append(run_process(json_list))
            unlocked = Vault.open(path).unlock("alice", PASSPHRASE)
            name = f"Leaver {run}"
            unlocked.add_user(name, Role.DEPUTY, "leaver passphrase 2026")
            unlocked.close()
            disable = Command([SAFEGUARD, "user", "disable", name], env)
            measured["disable"].runs.append(run_process(disable))
        shown = measured["table"]
        rows = [
            Row(
                f"cases, {many_cases:,} open cases",
                spread(shown),
                "",
                "",
                "<= 1 s",
                verdict(shown.seconds <= 1.0),
                mib(shown.peak_kib),
            ),
            against(f"cases --json, {many_cases:,} cases", measured["json"], "cases", shown, None),
        ]
        rows.append(
            against(
                f"user disable, {many_cases:,} cases (re-keys them all)",
                measured["disable"],
                "cases",
                measured["table"],
                None,
            )
        )
        return rows

    def closed_rows(self, sizes: Sequence[int]) -> list[Row]:
        """`cases` showing one open case, in a vault of closed cases of about `sizes[0]`
        entries and of `sizes[-1]`, in turn: what it costs should not grow with the vault."""
        commands = {}
        for size in (sizes[0], sizes[-1]):
            path = self.work / f"closed{size}.db"
            history_vault(path, [clock.now().year], max(2, size // 50), 50, 1)
            commands[f"cases {size}"] = Command([SAFEGUARD, "cases"], environment(path))
        measured = interleaved(self.runs, commands)
        small, large = sizes[0], sizes[-1]
        return [
            against(
                f"cases, 1 open case among {large:,} closed entries",
                measured[f"cases {large}"],
                f"among {small:,}",
                measured[f"cases {small}"],
                1.2,
            )
        ]

    def case_length_rows(self, entries: int) -> list[Row]:
        """`note` on a case of `entries` entries against one of 50, in turn."""
        commands = {}
        for size in (50, entries):
            path = self.work / f"case{size}.db"
            commands[f"note {size}"] = self.note(path, case_vault(path, size))
        measured = interleaved(self.runs, commands)
        return [
            against(
                f"note, a case of {entries:,} entries",
                measured[f"note {entries}"],
                "a case of 50",
                measured["note 50"],
                1.1,
            )
        ]

    def history_rows(self, years: int, per_year: int, per_case: int = 40) -> list[Row]:
        """A school's vault after `years` years, `per_year` cases a year of `per_case` entries
        (the last year's last 50 still open): how long building it takes (the library, in
        bulk), its size, `init` and `cases` on it, and backing it up."""
        if years <= 0:
            return []
        path, fresh = self.work / "years.db", self.work / "fresh.db"
        first = clock.now().year - years + 1
        started = time.perf_counter()
        history_vault(path, range(first, first + years), per_year, per_case, min(50, per_year))
        built = time.perf_counter() - started
        entries, size = years * per_year * per_case, path.stat().st_size
        env = environment(path)
        commands = {
            "init": Command(
                ["sh", "-c", f"rm -f '{fresh}' '{fresh}'-* && exec '{SAFEGUARD}' init"],
                environment(fresh),
            ),
            "cases": Command([SAFEGUARD, "cases"], env),
            "all": Command([SAFEGUARD, "cases", "--status", "all", "--json"], env),
        }
        measured = interleaved(self.runs, commands)
        what = f"{years} year{'s' if years > 1 else ''}, {per_year} cases a year"
        what += f" of {per_case} entries"
        return [
            Row(f"{what}: built ({entries:,} entries)", fmt_s(built), "", "", "", "", ""),
            Row(
                "  its file",
                f"{size / 2**20:.0f} MiB",
                f"{size / entries:.0f} B an entry",
                "",
                "(no goal)",
                "",
                "",
            ),
            Row("  init (a new vault)", spread(measured["init"]), "", "", "", "", ""),
            against(
                f"  cases ({min(50, per_year)} open)",
                measured["cases"],
                "init",
                measured["init"],
                None,
            ),
            against(
                f"  cases --status all --json ({years * per_year:,})",
                measured["all"],
                "cases",
                measured["cases"],
                None,
            ),
            *self.backup_rows(path),
        ]

    def backup_rows(self, path: Path) -> list[Row]:
        """Backing up a vault, against cp of the same file, and cp then sync, in turn."""
        size = path.stat().st_size
        copies, backups = self.work / "copies", self.work / "backups"
        copy = copies / "copy.db"
        measured = {name: Series() for name in ("cp", "sync", "backup")}
        commands = {
            "cp": Command(["cp", str(path), str(copy)], plain_environment()),
            "sync": Command(
                ["sh", "-c", f"cp '{path}' '{copy}' && sync '{copy}'"], plain_environment()
            ),
            "backup": Command([SAFEGUARD, "backup", "create", str(backups)], environment(path)),
        }
        for _ in range(max(1, self.runs // 2)):
            for name, command in commands.items():
                for folder in (copies, backups):
                    shutil.rmtree(folder, ignore_errors=True)
                    folder.mkdir()
                measured[name].runs.append(run_process(command))
        backup = measured["backup"]
        return [
            Row(
                f"backup create, {size / 2**20:.0f} MiB vault",
                rate(backup, size),
                f"cp {rate(measured['cp'], size)}",
                f"{measured['cp'].seconds / backup.seconds:.2f}x",
                ">= 0.5x",
                verdict(measured["cp"].seconds / backup.seconds >= 0.5),
                mib(backup.peak_kib),
            ),
            Row(
                "  the same, against a durable copy",
                rate(backup, size),
                f"cp + sync {rate(measured['sync'], size)}",
                f"{measured['sync'].seconds / backup.seconds:.2f}x",
                "",
                "",
                "",
            ),
        ]

    def shell_rows(self, entries: int) -> list[Row]:
        """A note typed in `safeguard shell` on a pty, from Enter to the prompt coming back,
        on a case of `entries` entries; in turn with a single `note` process on the same case,
        and an empty line at the same prompt (what the terminal and the prompt alone cost)."""
        path = self.work / f"shell{entries}.db"
        reference = case_vault(path, entries)
        typed = f"note {reference} --text-file {self.note_file}"
        single, in_shell, empty = Series(), Series(), Series()
        with Sitting(path) as shell:
            for _ in range(self.runs):
                single.runs.append(run_process(self.note(path, reference)))
                in_shell.runs.append(Measure(shell.enter(typed), 0))
                empty.runs.append(Measure(shell.enter(""), 0))
            peak = shell.peak_kib()
        for series in (in_shell, empty):
            series.runs = [Measure(m.seconds, peak) for m in series.runs]
        goal = 0.030
        row = against(
            f"note in a shell, a case of {entries:,} entries (Enter to prompt)",
            in_shell,
            "one note process",
            single,
            None,
        )
        row.goal, row.met = f"<= {fmt_s(goal)}", verdict(in_shell.seconds <= goal)
        return [
            row,
            Row("  an empty line at the same prompt", spread(empty), "", "", "", "", ""),
        ]

    def kdf_rows(self, unlock_vault: Path | None) -> list[Row]:
        """What one key derivation costs each tool, timed in this process (the note and
        timeline rows take these from their times), and one unlock of a vault."""
        assert self.params is not None and self.argon2id is not None
        rows = [
            Row(
                f"one {describe(self.params)} derivation (the vault's)",
                fmt_s(self.argon2id.seconds),
                "",
                "",
                "",
                "",
                "",
            )
        ]
        if self.jrnl is not None and self.pbkdf2 is not None:
            rows.append(
                Row(
                    f"one jrnl {self.jrnl.version} PBKDF2 derivation (jrnl's own)",
                    fmt_s(self.pbkdf2.seconds),
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
        if unlock_vault is not None:
            rows.append(
                Row(
                    f"one unlock ({describe(self.params)})",
                    fmt_s(measure_unlock(unlock_vault, self.runs)),
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
        return rows


class Sitting:
    """`safeguard shell` on a pseudo-terminal of its own, unlocked from the environment, typed
    at as a person would: each line timed from its Enter to the prompt coming back."""

    PROMPT = b"safeguard> "

    def __init__(self, vault: Path) -> None:
        controller, terminal = pty.openpty()
        self.process = subprocess.Popen(
            [SAFEGUARD, "shell"],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env=environment(vault),
            start_new_session=True,
        )
        os.close(terminal)
        self.fd = controller
        self.seen = b""
        self._prompt()

    def __enter__(self) -> Sitting:
        return self

    def __exit__(self, *exc: object) -> None:
        os.write(self.fd, b"exit\n")
        try:
            self.process.wait(timeout=60)
        finally:
            os.close(self.fd)

    def _prompt(self) -> None:
        """Read until the next prompt (a shell that ends first stops the benchmark)."""
        while self.PROMPT not in self.seen:
            ready, _, _ = select.select([self.fd], [], [], 120)
            try:
                data = os.read(self.fd, 65536) if ready else b""
            except OSError:
                data = b""
            if not data:
                raise SystemExit(f"safeguard shell stopped: {self.seen.decode(errors='replace')}")
            self.seen += data
        if b"(exit " in self.seen:
            raise SystemExit(f"a command in the shell failed: {self.seen.decode(errors='replace')}")
        self.seen = self.seen.split(self.PROMPT, 1)[1]

    def enter(self, line: str) -> float:
        start = time.perf_counter()
        os.write(self.fd, line.encode() + b"\n")
        self._prompt()
        return time.perf_counter() - start

    def peak_kib(self) -> int:
        """The shell's peak resident memory so far (Linux; 0 elsewhere)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0


def measure_unlock(path: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        Vault.open(path).unlock("alice", PASSPHRASE).close()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# Running -------------------------------------------------------------------------------------


def everything(
    bench: Bench,
    sizes: Sequence[int],
    jrnl_sizes: Sequence[int],
    many_cases: int,
    history: tuple[int, int],
) -> list[Row]:
    rows = bench.help_rows()
    vaults = bench.note_vaults(sizes)
    rows += bench.note_rows(vaults, jrnl_sizes)
    rows += bench.json_rows(jrnl_sizes)
    rows += bench.shell_rows(1_000)
    rows += bench.export_rows(1_000)
    rows += bench.listing_rows(many_cases)
    rows += bench.closed_rows(sizes)
    rows += bench.case_length_rows(many_cases)
    large, _ = vaults[sizes[-1]]
    rows += verify_rows(bench.work, large, sizes[-1], bench.runs)
    rows += bench.backup_rows(large)
    rows += bench.history_rows(*history)
    rows += postgres_rows(bench, vaults)
    for size in sizes:
        file_size = vaults[size][0].stat().st_size
        rows.append(
            Row(
                f"vault bytes per entry ({size:,})",
                f"{file_size / size:.0f} B",
                "",
                "",
                "(no goal)",
                "",
                "",
            )
        )
    return rows + bench.kdf_rows(vaults[sizes[0]][0])


def postgres_rows(bench: Bench, vaults: dict[int, tuple[Path, str]]) -> list[Row]:
    """The same commands on a PostgreSQL server against the file (see postgres.py)."""
    import postgres

    found: list[Row] = postgres.rows(sys.modules[__name__], bench, vaults)
    return found


def only_jrnl(bench: Bench, jrnl_sizes: Sequence[int]) -> list[Row]:
    vaults = bench.note_vaults(jrnl_sizes)
    rows = bench.note_rows(vaults, jrnl_sizes)
    return rows + bench.json_rows(jrnl_sizes) + bench.kdf_rows(None)


def only_verify(work: Path, entries: int, runs: int) -> list[Row]:
    path = work / f"v{entries}.db"
    unlocked, _ = vault_of_size(path, entries)
    unlocked.close()
    return verify_rows(work, path, entries, runs)


def compile_bytecode() -> str:
    """Compile safeguard's own modules, as `pip install` does when it installs the package.
    From a checkout installed for development (`pip install -e`) in an environment that sets
    PYTHONDONTWRITEBYTECODE, every run would otherwise compile each module from its source,
    a cost no installed copy pays."""
    import compileall

    folders = {
        folder
        for name in ("safeguarding", "safeguarding.cli", "safeguarding.migrations")
        if (spec := importlib.util.find_spec(name)) and spec.submodule_search_locations
        for folder in spec.submodule_search_locations
    }
    for folder in sorted(folders):
        compileall.compile_dir(folder, quiet=1)
    return "safeguard's modules were compiled to bytecode first, as `pip install` does."


def load() -> str:
    return " ".join(f"{figure:.2f}" for figure in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small vaults and fewer runs")
    parser.add_argument("--runs", type=int, default=None, help="runs per median")
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--only-verify",
        action="store_true",
        help="only the verify rows (builds the largest vault alone: about 2 minutes)",
    )
    only.add_argument(
        "--only-postgres",
        action="store_true",
        help="only a vault on a PostgreSQL server against the same vault in a file",
    )
    only.add_argument(
        "--only-jrnl",
        action="store_true",
        help="only note against its floor, and note and timeline --json against jrnl",
    )
    only.add_argument(
        "--only-cases",
        action="store_true",
        help="only the listing rows: cases, cases --json and user disable, 10,000 cases",
    )
    parser.add_argument(
        "--years",
        type=int,
        default=None,
        help="years of a school's vault, 500 cases a year of 40 entries (default 25; with "
        "--quick, 1 year of 50 cases; 0 leaves it out)",
    )
    options = parser.parse_args(argv)
    runs = options.runs or (3 if options.quick else 7)
    sizes = (1_000, 2_000, 5_000) if options.quick else (1_000, 10_000, 100_000)
    jrnl_sizes = sizes[:2]
    many_cases = 1_000 if options.quick else 10_000
    years = options.years if options.years is not None else (1 if options.quick else 25)
    history = (years, 50 if options.quick else 500)
    started = load()
    notes = [compile_bytecode()]
    work = Path(tempfile.mkdtemp(prefix="safeguard-bench-"))
    try:
        if options.only_verify:
            rows = only_verify(work, sizes[-1], runs)
        else:
            jrnl = find_jrnl(work)
            if jrnl is not None:
                notes.append(f"jrnl {jrnl.version}, from {jrnl.where}.")
            bench = Bench(work, runs, jrnl)
            if options.only_jrnl:
                rows = only_jrnl(bench, jrnl_sizes)
            elif options.only_cases:
                rows = bench.listing_rows(many_cases)
            elif options.only_postgres:
                rows = postgres_rows(bench, bench.note_vaults((sizes[0], sizes[-1])))
            else:
                rows = everything(bench, sizes, jrnl_sizes, many_cases, history)
    finally:
        if spawner.cache_info().currsize:
            spawner().close()
        shutil.rmtree(work, ignore_errors=True)
    notes.append(
        f"Load average (1, 5 and 15 minutes): {started} at the start, {load()} at the end; "
        f"{os.cpu_count()} cores."
    )
    print_table(rows, runs, notes)


def print_table(rows: list[Row], runs: int, notes: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"safeguard benchmark: medians of {runs} runs, the fastest and slowest in brackets"
    )
    for heading in ("what", "figure", "baseline", "ratio", "goal", "met", "peak MiB"):
        table.add_column(heading, justify="left" if heading in ("what", "baseline") else "right")
    for row in rows:
        table.add_row(row.what, row.value, row.baseline, row.ratio, row.goal, row.met, row.peak_mib)
    console = Console(width=160)
    console.print(table)
    for note in notes:
        console.print(note)


if __name__ == "__main__":
    main()
