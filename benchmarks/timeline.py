"""How long a 1,000-entry case takes to read, view and export in every format.

Run: .venv/bin/python benchmarks/timeline.py [ENTRIES]   (not part of the tests)
It builds a throwaway vault in a temporary folder, with a cheap KDF, and prints the times.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from safeguarding import access, categories, chronology, export, storage, summaries
from safeguarding.casefile import find_case
from safeguarding.cases import Casebook
from safeguarding.config import Config
from safeguarding.entries import Disclosure, Subject
from safeguarding.vault import Vault
from safeguarding.vocabulary import Kind


def main(entries: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "vault.db"
        unlocked, _ = Vault.create(path, "Alex Morgan", "benchmark passphrase")
        config = Config(path=Path(folder) / "config.toml", school_name="Benchmark School")
        kinds = categories.load()
        start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        book = Casebook(unlocked, kinds, config, now=lambda: start + timedelta(minutes=1))
        ref = book.open(
            Disclosure(
                category="staff-misuse",
                subjects=(Subject("Daniel Price", "staff"),),
                disclosed_by="Karen Webb",
                relationship="parent",
                where="the office",
                text="The account. " * 20,
            ),
            start,
        ).reference
        with storage.writing(unlocked.vault.connection) as db:
            case = find_case(db, ref)
            key = unlocked.case_ring(db, case, writing=True)
            for n in range(entries - 1):
                moment = start + timedelta(hours=n + 1)
                chronology.append(
                    db,
                    signer=unlocked.signer,
                    payload_key=key,
                    kind=Kind.NOTE,
                    payload={"text": f"Note {n}: " + "what was seen and said. " * 8},
                    case_id=case.id,
                    event_at=moment,
                    recorded_at=moment,
                )
            # In step with its entries, as every entry written through the casebook leaves it.
            summaries.write(db, case.id, key, summaries.rebuild(db, ref, case.id, key))

        def timed(label: str, action: object) -> None:
            began = time.perf_counter()
            assert callable(action)
            action()
            print(f"{label:<28} {time.perf_counter() - began:6.2f} s")

        timed("read (decrypt, in order)", lambda: book.read(ref))
        timed(
            "timeline (view, recorded)",
            lambda: export.render_text(
                access.view(unlocked, ref, categories=kinds, school=config.school_name), 100
            ),
        )
        for fmt in export.FORMATS:
            out = Path(folder) / f"case.{fmt}"
            timed(
                f"export {fmt}",
                lambda fmt=fmt, out=out: export.export_case(
                    unlocked,
                    ref,
                    fmt=fmt,
                    output=out,
                    categories=kinds,
                    school=config.school_name,
                ),
            )
        unlocked.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
