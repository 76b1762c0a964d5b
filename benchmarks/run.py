"""Speed and memory of safeguard, as ratios against baselines measured in the same run.

    .venv/bin/python benchmarks/run.py            # the full table (about 5 minutes)
    .venv/bin/python benchmarks/run.py --quick    # smaller vaults, fewer runs (a smoke test)
    .venv/bin/python benchmarks/run.py --only-verify   # just the verify rows

Vaults are built through the library (fast, bulk); every timed figure is the real `safeguard`
command run as a subprocess, the median of several runs.  Peak memory is each process's
maximum resident set size.  Nothing here is a test: shared machines are noisy, so goals are
printed beside the figures, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeguarding import categories, chronology, clock, config, crypto, storage
from safeguarding.cases import Casebook
from safeguarding.entries import Disclosure, Subject
from safeguarding.models import Case, Entry, VaultMeta
from safeguarding.vault import Role, Unlocked, Vault
from safeguarding.vocabulary import Kind

PASSPHRASE = "benchmark passphrase 2026"  # noqa: S105 (a throwaway vault)
SAFEGUARD = str(Path(sys.executable).parent / "safeguard")
NOTE_TEXT = (
    "Spoke to the class teacher at break. She confirmed the pupil seemed withdrawn this week "
    "and mentioned messages on her phone; no further detail given. Will follow up tomorrow."
)


@dataclass
class Measure:
    seconds: float
    peak_kib: int
    cpu_seconds: float = 0.0  # user + system, the process's and its workers'


def run_process(args: Sequence[str], env: dict[str, str], stdin: bytes | None = None) -> Measure:
    """Run one process to completion; its wall time and its own peak memory."""
    start = time.perf_counter()
    process = subprocess.Popen(
        list(args),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    if stdin is not None and process.stdin is not None:
        process.stdin.write(stdin)
        process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}): {error}")
    if process.stderr:
        process.stderr.close()
    return Measure(seconds, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)


def median(
    runs: int, args: Sequence[str], env: dict[str, str], stdin: bytes | None = None
) -> Measure:
    measures = [run_process(args, env, stdin) for _ in range(runs)]
    return Measure(
        statistics.median(m.seconds for m in measures), max(m.peak_kib for m in measures)
    )


def interleaved(
    runs: int, commands: dict[str, tuple[Sequence[str], dict[str, str]]]
) -> dict[str, Measure]:
    """Medians of several commands run in turn, round after round, so that a noisy moment on
    a shared machine weighs on all of them alike rather than on whichever ran then."""
    measures: dict[str, list[Measure]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (args, env) in commands.items():
            measures[name].append(run_process(args, env))
    return {
        name: Measure(statistics.median(m.seconds for m in found), max(m.peak_kib for m in found))
        for name, found in measures.items()
    }


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


def bulk_cases(unlocked: Unlocked, count: int) -> None:
    """`count` more cases, each opened by a disclosure, written in one transaction."""
    now = clock.now()
    with storage.writing(unlocked.vault.engine) as session:
        meta = session.get(VaultMeta, 1)
        assert meta is not None
        last_case = session.exec(storage_select_max_case()).one()
        first_id = int(last_case or 0) + 1
        seq, previous = meta.head_seq, meta.head_mac
        rows: list[Any] = []
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
            entry = Entry(
                seq=seq,
                case_id=case_id,
                kind=Kind.DISCLOSURE,
                event_at=clock.to_text(now),
                recorded_at=clock.to_text(now),
                author_id=1,
                payload=chronology.seal_payload(case_key, seq, disclosure_payload(case_id)),
                mac=b"",
                facts=chronology.canonical({"case": [now.year, case_id]}),
            )
            previous = sign(unlocked, entry, previous)
            rows.append(entry)
        session.add_all(rows[0::2])
        session.flush()
        session.add_all(rows[1::2])
        meta.head_seq, meta.head_mac = seq, previous
        session.add(meta)


def sign(unlocked: Unlocked, entry: Entry, previous: bytes) -> bytes:
    """Sign `entry` after `previous` as the library does; its hash, the next one's previous."""
    body = chronology.signed_bytes(entry, previous)
    entry.signature = unlocked.signer.key.sign(body)
    entry.mac = chronology.hash_of(body, entry.signature)
    return entry.mac


def storage_select_max_case() -> Any:
    from sqlmodel import col, func, select

    return select(func.max(col(Case.id)))


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
    with storage.writing(unlocked.vault.engine) as session:
        case = casefile.find_case(session, reference)
        ring = unlocked.case_ring(session, case, writing=True)
        assert ring.epoch == 0, "bulk notes are sealed as in a vault never re-keyed"
        case_key = ring.current
        meta = session.get(VaultMeta, 1)
        assert meta is not None
        seq, previous = meta.head_seq, meta.head_mac
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
        session.add_all(rows)
        meta.head_seq, meta.head_mac = seq, previous
        session.add(meta)


def vault_of_size(path: Path, entries: int, per_case: int = 50) -> tuple[Unlocked, str]:
    """A vault of about `entries` entries spread over cases of `per_case` entries."""
    unlocked = new_vault(path)
    book = casebook(unlocked)
    reference = record_case(book, 0)
    cases = max(1, entries // per_case)
    bulk_cases(unlocked, cases - 1)
    bulk_notes(unlocked, reference, per_case - 1)
    with storage.reading(unlocked.vault.engine) as session:
        cases_found = session.exec(storage_select_max_case()).one()
    remaining = entries - unlocked.head().seq
    # Fill the other cases with notes until the vault holds `entries` entries.
    number = 2
    while remaining > 0 and number <= int(cases_found or 0):
        add = min(per_case - 1, remaining)
        bulk_notes(unlocked, f"SG-{clock.now().year}-{number:04d}", add)
        remaining -= add
        number += 1
    return unlocked, reference


# Verifying -----------------------------------------------------------------------------------


def signed_entries(path: Path) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The signer's public key and every entry's (signature, signed bytes) in the vault at
    `path`, all written by its first user."""
    from safeguarding.models import User

    vault = Vault.open(path)
    try:
        with storage.reading(vault.engine) as session:
            user = session.get(User, 1)
            assert user is not None and user.signing_key is not None
            previous, signed = crypto.GENESIS_MAC, []
            for entry in chronology.iter_rows(session):
                assert entry.author_id == 1 and entry.signature is not None
                signed.append((entry.signature, chronology.signed_bytes(entry, previous)))
                previous = entry.mac
            return user.signing_key, signed
    finally:
        vault.close()


def _check_share(key: bytes, signed: list[tuple[bytes, bytes]], share: int, shares: int) -> None:
    for signature, body in signed[share::shares]:
        if not crypto.signature_holds(key, signature, body):
            raise SystemExit("a benchmark vault's signature does not hold")


def signature_floor(key: bytes, signed: list[tuple[bytes, bytes]], cores: int) -> float:
    """Seconds to check every signature once with PyNaCl, shared among `cores` processes forked
    from this one (so nothing is sent to them), and nothing else: what a full `verify` cannot
    do without on this machine."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    start = time.perf_counter()
    workers = [
        context.Process(target=_check_share, args=(key, signed, share, cores))
        for share in range(cores)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - start
    if any(worker.exitcode for worker in workers):
        raise SystemExit("a benchmark vault's signature does not hold")
    return seconds


def verify_rows(path: Path, entries: int, runs: int) -> list[Row]:
    """`verify` with a passphrase and without, against checking the signatures alone on every
    core, each measured in turn round by round (the load of a shared machine changes)."""
    cores = len(os.sched_getaffinity(0))
    key, signed = signed_entries(path)
    env = environment(path)
    commands = {
        "verify": [SAFEGUARD, "verify"],
        "verify --no-passphrase": [SAFEGUARD, "verify", "--no-passphrase"],
    }
    floors: list[float] = []
    measures: dict[str, list[Measure]] = {name: [] for name in commands}
    for _ in range(max(3, runs // 2)):
        floors.append(signature_floor(key, signed, cores))
        for name, args in commands.items():
            measures[name].append(run_process(args, env))
    floor = statistics.median(floors)
    rows = []
    for name, found in measures.items():
        seconds = statistics.median(m.seconds for m in found)
        cpu = statistics.median(m.cpu_seconds for m in found)
        rows += [
            Row(
                f"{name}, {entries:,} entries",
                fmt_s(seconds),
                f"{entries:,} signature checks, {cores} cores {fmt_s(floor)}",
                f"{seconds / floor:.2f}x",
                "<= 5 s",
                verdict(seconds <= 5.0),
                mib(max(m.peak_kib for m in found)),
            ),
            Row(f"  its CPU time, all {cores} cores", fmt_s(cpu), "", "", "", "", ""),
        ]
    rows.append(
        Row(
            f"  the signature checks alone on {cores} cores",
            fmt_s(floor),
            "",
            "",
            "",
            "",
            "",
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
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def measure_unlock(path: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        Vault.open(path).unlock("alice", PASSPHRASE).close()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small vaults and fewer runs")
    parser.add_argument("--runs", type=int, default=None, help="runs per median")
    parser.add_argument(
        "--only-verify",
        action="store_true",
        help="only the verify rows (builds the largest vault alone: about 2 minutes)",
    )
    options = parser.parse_args(argv)
    runs = options.runs or (3 if options.quick else 7)
    sizes = (1_000, 2_000, 5_000) if options.quick else (1_000, 10_000, 100_000)
    if options.only_verify:
        print_table(only_verify(sizes[-1], runs), runs)
        return
    many_cases = 1_000 if options.quick else 10_000
    timeline_entries = 1_000

    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="safeguard-bench-"))
    try:
        note_file = work / "note.txt"
        note_file.write_text(NOTE_TEXT)
        python = sys.executable
        plain_env = dict(os.environ, NO_COLOR="1")

        # 1. Start-up: --help against importing Typer and Rich.
        started = interleaved(
            runs,
            {
                "base": ([python, "-c", "import typer, rich"], plain_env),
                "help": ([SAFEGUARD, "--help"], plain_env),
            },
        )
        base, helped = started["base"], started["help"]
        ratio = helped.seconds / base.seconds
        rows.append(
            Row(
                "safeguard --help",
                fmt_s(helped.seconds),
                f"import typer, rich {fmt_s(base.seconds)}",
                f"{ratio:.2f}x",
                "<= 2x",
                verdict(ratio <= 2),
                mib(helped.peak_kib),
            )
        )

        # 2. One note at three vault sizes, against importing SQLModel plus one unlock.
        vaults: dict[int, tuple[Path, str]] = {}
        for size in sizes:
            path = work / f"v{size}.db"
            unlocked, reference = vault_of_size(path, size)
            unlocked.close()
            vaults[size] = (path, reference)
        small, large = sizes[0], sizes[-1]
        noted = interleaved(
            runs,
            {
                "floor": ([python, "-c", "import sqlmodel"], plain_env),
                **{
                    str(size): (
                        [SAFEGUARD, "note", vaults[size][1], "--text-file", str(note_file)],
                        environment(vaults[size][0]),
                    )
                    for size in sizes
                },
            },
        )
        note_times = {size: noted[str(size)] for size in sizes}
        floor_import = noted["floor"]
        unlock_seconds = measure_unlock(vaults[small][0], runs)
        floor = floor_import.seconds + unlock_seconds
        for size in sizes:
            measure = note_times[size]
            ratio = measure.seconds / floor
            rows.append(
                Row(
                    f"note, vault of {size:,} entries",
                    fmt_s(measure.seconds),
                    f"import sqlmodel + unlock {fmt_s(floor)}",
                    f"{ratio:.2f}x",
                    "<= 1.5x",
                    verdict(ratio <= 1.5),
                    mib(measure.peak_kib),
                )
            )
        growth = note_times[large].seconds / note_times[small].seconds
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

        # 3. The timeline of a 1,000-entry case.
        path = work / "timeline.db"
        unlocked = new_vault(path)
        reference = record_case(casebook(unlocked), 1)
        bulk_notes(unlocked, reference, timeline_entries - 1)
        unlocked.close()
        shown = median(runs, [SAFEGUARD, "timeline", reference], environment(path))
        rows.append(
            Row(
                f"timeline, {timeline_entries:,}-entry case",
                fmt_s(shown.seconds),
                "",
                "",
                "<= 1 s",
                verdict(shown.seconds <= 1.0),
                mib(shown.peak_kib),
            )
        )

        # 3b. Exports of the same case, against its timeline, run in turn round by round.  The
        # first PDF on this machine is timed before any other: nothing is cut or cached.
        env = environment(path)
        export = [SAFEGUARD, "export", reference, "-o", "-", "-f"]
        first = run_process([*export, "pdf"], env)
        second = run_process([*export, "pdf"], env)
        measured = interleaved(
            runs,
            {
                "timeline": ([SAFEGUARD, "timeline", reference], env),
                "html": ([*export, "html"], env),
                "pdf": ([*export, "pdf"], env),
            },
        )
        base = measured["timeline"].seconds
        for fmt, goal in (("html", 1.1), ("pdf", 1.2)):
            ratio = measured[fmt].seconds / base
            rows.append(
                Row(
                    f"export {fmt}, {timeline_entries:,}-entry case",
                    fmt_s(measured[fmt].seconds),
                    f"its timeline {fmt_s(base)}",
                    f"{ratio:.2f}x",
                    f"<= {goal}x",
                    verdict(ratio <= goal),
                    mib(measured[fmt].peak_kib),
                )
            )
        rows.append(
            Row(
                "first export pdf on this machine",
                fmt_s(first.seconds),
                f"the second {fmt_s(second.seconds)}",
                f"{first.seconds / second.seconds:.2f}x",
                "<= 1x (+10% noise)",
                verdict(first.seconds <= 1.1 * second.seconds),
                mib(first.peak_kib),
            )
        )

        # 4. Listing many cases.
        path = work / "cases.db"
        unlocked = new_vault(path)
        record_case(casebook(unlocked), 1)
        bulk_cases(unlocked, many_cases - 1)
        unlocked.close()
        listing = interleaved(
            max(1, runs // 2),
            {
                "table": ([SAFEGUARD, "cases", "--status", "all"], environment(path)),
                "json": ([SAFEGUARD, "cases", "--status", "all", "--json"], environment(path)),
            },
        )
        for name, label in (("table", "cases"), ("json", "cases --json")):
            rows.append(
                Row(
                    f"{label}, {many_cases:,} cases",
                    fmt_s(listing[name].seconds),
                    "",
                    "",
                    "(no goal)",
                    "",
                    mib(listing[name].peak_kib),
                )
            )

        # 4b. Disabling a user on that vault: the re-key gives every case a new key.
        disables = []
        for run in range(max(1, runs // 2)):
            unlocked = Vault.open(path).unlock("alice", PASSPHRASE)
            name = f"Leaver {run}"
            unlocked.add_user(name, Role.DEPUTY, "leaver passphrase 2026")
            unlocked.close()
            disables.append(run_process([SAFEGUARD, "user", "disable", name], environment(path)))
        disable = Measure(
            statistics.median(m.seconds for m in disables), max(m.peak_kib for m in disables)
        )
        rows.append(
            Row(
                f"user disable, {many_cases:,} cases (re-keys them all)",
                fmt_s(disable.seconds),
                f"cases {fmt_s(listing['table'].seconds)}",
                f"{disable.seconds / listing['table'].seconds:.2f}x",
                "(no goal)",
                "",
                mib(disable.peak_kib),
            )
        )

        # 5. Verifying the largest vault.
        path, _ = vaults[large]
        rows += verify_rows(path, large, runs)

        # 6. Backing up the largest vault, against cp of the same file.
        size_bytes = path.stat().st_size
        copies = work / "copies"
        backups = work / "backups"

        def fresh(folder: Path) -> Callable[[], None]:
            def reset() -> None:
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()

            return reset

        cp_times, sync_times, backup_times, backup_peak = [], [], [], 0
        copy = copies / "copy.db"
        for _ in range(max(1, runs // 2)):
            fresh(copies)()
            cp_times.append(run_process(["cp", str(path), str(copy)], plain_env).seconds)
            fresh(copies)()
            synced = f"cp '{path}' '{copy}' && sync '{copy}'"
            sync_times.append(run_process(["sh", "-c", synced], plain_env).seconds)
            fresh(backups)()
            measure = run_process([SAFEGUARD, "backup", "create", str(backups)], environment(path))
            backup_times.append(measure.seconds)
            backup_peak = max(backup_peak, measure.peak_kib)
        cp_rate = size_bytes / statistics.median(cp_times)
        sync_rate = size_bytes / statistics.median(sync_times)
        backup_rate = size_bytes / statistics.median(backup_times)
        ratio = backup_rate / cp_rate
        rows.append(
            Row(
                f"backup create, {size_bytes / 2**20:.0f} MiB vault",
                f"{backup_rate / 2**20:.0f} MiB/s",
                f"cp {cp_rate / 2**20:.0f} MiB/s",
                f"{ratio:.2f}x",
                ">= 0.5x",
                verdict(ratio >= 0.5),
                mib(backup_peak),
            )
        )
        rows.append(
            Row(
                "  the same, against a durable copy",
                f"{backup_rate / 2**20:.0f} MiB/s",
                f"cp + sync {sync_rate / 2**20:.0f} MiB/s",
                f"{backup_rate / sync_rate:.2f}x",
                "",
                "",
                "",
            )
        )

        # 7. Space.
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
        rows.append(
            Row("unlock (Argon2id t=3, 64 MiB, p=4)", fmt_s(unlock_seconds), "", "", "", "", "")
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print_table(rows, runs)


def only_verify(entries: int, runs: int) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="safeguard-bench-"))
    try:
        path = work / f"v{entries}.db"
        unlocked, _ = vault_of_size(path, entries)
        unlocked.close()
        return verify_rows(path, entries, runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_table(rows: list[Row], runs: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"safeguard benchmark (medians of {runs} runs, {os.cpu_count()} cores)")
    for heading in ("what", "figure", "baseline", "ratio", "goal", "met", "peak MiB"):
        table.add_column(heading, justify="left" if heading in ("what", "baseline") else "right")
    for row in rows:
        table.add_row(row.what, row.value, row.baseline, row.ratio, row.goal, row.met, row.peak_mib)
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
