"""The PostgreSQL rows of benchmarks/run.py: the same commands on a vault on a server and on the
same vault in a file, in turn, round after round; the file is the baseline.

The server is one of the benchmark's own, as the tests make it (tests/pgserver.py: a cluster in
a temporary folder on a Unix socket, stopped at the end); without PostgreSQL's programs the
rows say so and are left out.  Each file vault is loaded into a schema of its own as
`restore --to postgresql://…` does (safeguarding.backup_pg), so both hold the same entries.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from safeguarding import backup_pg  # noqa: E402
from safeguarding.server import Server  # noqa: E402
from tests import pgserver  # noqa: E402

WRITERS, NOTES = 6, 30

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from safeguarding import categories, config
    from safeguarding.cases import Casebook
    from safeguarding.entries import Note
    from safeguarding.server import location
    from safeguarding.vault import Vault

    where, case, go, count = location(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    unlocked = Vault.open(where).unlock("alice", sys.argv[5])
    book = Casebook(unlocked, categories.load(), config.load())
    Path(f"{go}.{sys.argv[6]}").touch()
    while not go.exists():
        time.sleep(0.002)
    for number in range(int(count)):
        book.add(case, Note(text=f"writer {sys.argv[6]}, note {number}"))
    unlocked.close()
    """
)


class OnServer:
    """The benchmark's server, and the file vaults loaded into schemas on it."""

    def __init__(self, server: pgserver.PgServer, work: Path) -> None:
        self.server = server
        self.passfile = work / "pgpass"
        self.lines = ""

    def load(self, vault: Path) -> Server:
        school = self.server.school()
        self.lines += school.pgpass_line()
        self.passfile.write_text(self.lines, encoding="utf-8")
        os.chmod(self.passfile, 0o600)
        os.environ["PGPASSFILE"] = str(self.passfile)
        where = Server.parse(school.url)
        backup_pg.copy_to_server(vault, where)
        return where


def writers_at_once(where: Path | Server, case: str, work: Path, passphrase: str) -> float:
    """Six processes unlocked, then appending 30 notes each at once: notes a second."""
    go = work / f"go-{time.monotonic_ns()}"
    script = [sys.executable, "-c", WRITER, str(where), case, str(go), str(NOTES), passphrase]
    processes = [
        subprocess.Popen([*script, str(n)], stderr=subprocess.PIPE, text=True)
        for n in range(WRITERS)
    ]
    while not all(Path(f"{go}.{n}").exists() for n in range(WRITERS)):
        if any(p.poll() is not None for p in processes):
            raise SystemExit(f"a writer failed: {processes[0].communicate()[1]}")
        time.sleep(0.01)
    started = time.monotonic()
    go.touch()
    for process in processes:
        if process.wait() != 0:
            raise SystemExit(f"a writer failed: {process.communicate()[1]}")
    return WRITERS * NOTES / (time.monotonic() - started)


def rows(run: Any, bench: Any, vaults: dict[int, tuple[Path, str]]) -> list[Any]:
    """note at the smallest and largest vault, timeline of a 1,000-entry case, verify of the
    largest vault and six writers at once, each on the server against the file."""
    reason = pgserver.unavailable_reason()
    if reason is not None:
        return [run.Row(f"PostgreSQL: not measured ({reason})", "", "", "", "", "", "")]
    with pgserver.running_server() as server:
        return _measured(run, bench, vaults, OnServer(server, bench.work))


def _measured(run: Any, bench: Any, vaults: dict[int, tuple[Path, str]], on: OnServer) -> list[Any]:
    sizes = sorted(vaults)
    small, large = sizes[0], sizes[-1]
    served = {size: on.load(vaults[size][0]) for size in (small, large)}
    timeline_file = bench.work / "pg-timeline.db"
    reference = run.case_vault(timeline_file, 1_000)
    timeline_server = on.load(timeline_file)
    commands = {}
    for size in (small, large):
        path, case = vaults[size]
        commands[f"file note {size}"] = bench.note(path, case)
        commands[f"pg note {size}"] = bench.note(served[size], case)
    for name, where in (("file", timeline_file), ("pg", timeline_server)):
        env = run.environment(where)
        commands[f"{name} timeline"] = run.Command([run.SAFEGUARD, "timeline", reference], env)
        large_env = run.environment(vaults[large][0] if name == "file" else served[large])
        commands[f"{name} verify"] = run.Command([run.SAFEGUARD, "verify"], large_env)
    measured = run.interleaved(bench.runs, commands)
    table = [
        run.against(
            f"PostgreSQL: note, {size:,} entries",
            measured[f"pg note {size}"],
            "the same vault in a file",
            measured[f"file note {size}"],
            1.5,
        )
        for size in (small, large)
    ]
    table.append(
        run.against(
            "PostgreSQL: timeline, a 1,000-entry case",
            measured["pg timeline"],
            "in a file",
            measured["file timeline"],
            1.5,
        )
    )
    table.append(
        run.against(
            f"PostgreSQL: verify, {large:,} entries",
            measured["pg verify"],
            "in a file",
            measured["file verify"],
            1.5,
        )
    )
    return [*table, _writers_row(run, bench, vaults[small], served[small])]


def _writers_row(run: Any, bench: Any, vault: tuple[Path, str], served: Server) -> Any:
    path, case = vault
    rates: dict[str, list[float]] = {"file": [], "pg": []}
    for _ in range(max(1, bench.runs // 2)):
        rates["file"].append(writers_at_once(path, case, bench.work, run.PASSPHRASE))
        rates["pg"].append(writers_at_once(served, case, bench.work, run.PASSPHRASE))
    ours, base = (sorted(r)[len(r) // 2] for r in (rates["pg"], rates["file"]))
    return run.Row(
        f"{WRITERS} writers at once, {NOTES} notes each",
        f"PostgreSQL {ours:.0f} notes/s ({min(rates['pg']):.0f}–{max(rates['pg']):.0f})",
        f"file {base:.0f} notes/s ({min(rates['file']):.0f}–{max(rates['file']):.0f})",
        f"{ours / base:.2f}x",
        ">= 0.5x",
        run.verdict(ours / base >= 0.5),
        "",
    )
