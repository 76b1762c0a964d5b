"""Erasing a case, and the legal holds that forbid it.

Erasing destroys every copy of the case's keys in the vault: its ring wrapped by the field key
(`cases.case_key`), or sealed to each member and the recovery key (`case_access`); its summary
(sealed with that key); and the keys of the concerns triaged into it (`concern_keys`), whose
reports would otherwise still be readable.  Its entries keep their ciphertext, hash and
signature, so the chronology still verifies, but no passphrase and no recovery key opens them
again.  A signed `erased` entry (a vault event, sealed with the field key) says who erased
which case, when and why; `verify` accepts the case's unreadable entries only after it.  Then
the write-ahead log is emptied, so no earlier page with the keys stays in it.  Backups taken
before still hold the keys, until `backup prune` removes them.

A hold (`hold`, `hold_released`: vault events naming the case in their facts) forbids erasing
a case while, say, an inquiry has asked for records to be kept.  Nothing here prints.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeguarding import births, casefile, chronology, clock, custody, storage
from safeguarding.casestate import OPEN
from safeguarding.custody import CASE_FACT, ERASED, HOLD, RELEASED
from safeguarding.db import Case, Db, Entry
from safeguarding.errors import NotAllowed, SafeguardError, UsageError
from safeguarding.people_rows import SAR_DONE, SAR_MADE
from safeguarding.roster import MANAGING_ROLES

if TYPE_CHECKING:
    from safeguarding.server import Location
    from safeguarding.unlocked import Unlocked


@dataclass(frozen=True)
class Recorded:
    """An erasure or a hold as its entry records it."""

    reference: str
    entry: int
    at: datetime
    by: str
    reason: str
    forced: bool = False  # an erasure of an open case
    entries: int = 0  # an erasure: how many entries no key opens any more
    concerns: int = 0  # an erasure: how many concerns triaged into it lost their keys
    person: int | None = None  # a hold on a person (`reference` empty): their number
    name: str = ""  # and their name

    @property
    def held(self) -> str:
        """What is held: the case, or the person."""
        return self.reference if self.person is None else f"person {self.person} ({self.name})"


@dataclass(frozen=True)
class Erased:
    """What `erase` did, and whether the write-ahead log is empty again."""

    erasure: Recorded
    log_emptied: bool


def _reference(case: Case) -> str:
    return casefile.format_reference(case.year, case.number)


def _may_act(unlocked: Unlocked, db: Db, case: Case, action: str) -> None:
    """A restricted case: its members (or the recovery key), for anyone else it is not there;
    any other case: a DSL or the headteacher (or the recovery key)."""
    if case.restricted:
        unlocked.case_ring(db, case)  # `NotFound` for a non-member
        return
    if not unlocked.signer.recovery and unlocked.user.role not in MANAGING_ROLES:
        raise NotAllowed(f"only a DSL or the headteacher may {action}; nothing was changed")


def _refusal(case: Case, *, force: bool) -> NotAllowed | None:
    """Why the case may not be erased now (None: it may)."""
    reference = _reference(case)
    if case.erased_seq is not None:
        return NotAllowed(
            f"{reference} was already erased (entry {case.erased_seq}); nothing was changed"
        )
    if case.held_seq is not None:
        return NotAllowed(
            f"{reference} is held (entry {case.held_seq}): nothing may be erased while it is; "
            "nothing was changed",
            hint=f"'safeguard hold release {reference}' once the hold has ended",
        )
    if case.status == OPEN and not force:
        return NotAllowed(
            f"{reference} is open; close it first, or erase it anyway with --force and say "
            "why; nothing was changed"
        )
    return None


def _erasable(unlocked: Unlocked, db: Db, reference: str, *, force: bool) -> Case:
    """The case `reference`, if this user may erase it now: `NotFound` (exit 4) for an unknown
    case, `NotAllowed` (exit 3) for one erased, held, open without `force`, or not theirs."""
    case = casefile.find_case(db, reference)
    if case.erased_seq is None:
        _may_act(unlocked, db, case, "erase a case")
    refused = _refusal(case, force=force) or _person_held(unlocked, db, case)
    if refused is None:
        refused = _requested(unlocked, db, _reference(case))
    if refused is not None:
        raise refused
    return case


def _requested(unlocked: Unlocked, db: Db, reference: str) -> NotAllowed | None:
    """Why the case may not be erased while a subject access request that holds it is still
    to be answered (None: none is): what was asked for must not be destroyed meanwhile."""
    rows = db.all(Entry, "case_id IS NULL AND kind IN (?, ?)", SAR_MADE, SAR_DONE, order="seq")
    waiting: dict[int, bool] = {}
    for row in rows:
        data = chronology.open_payload(unlocked.keys.fields, row)
        number = int(data["sar"])
        if row.kind == SAR_DONE:
            waiting.pop(number, None)
        elif reference in data.get("cases", []):
            waiting[number] = True
    if not waiting:
        return None
    number = min(waiting)
    return NotAllowed(
        f"{reference} is in subject access request {number}, not yet answered: nothing it asked "
        "for may be erased until it is; nothing was changed",
        hint=f"'safeguard sar done {number}' once the answer has been sent",
    )


def _person_held(unlocked: Unlocked, db: Db, case: Case) -> NotAllowed | None:
    """Why the case may not be erased while a person it is about is held (None: none is)."""
    held = custody.people_held(db)
    if not held:
        return None
    about = sorted(births.of_case(db, case.id, unlocked.case_ring(db, case)) & held.keys())
    if not about:
        return None
    person = about[0]
    return NotAllowed(
        f"{_reference(case)} is about person {person}, who is held (entry {held[person]}): "
        "nothing about them may be erased while they are; nothing was changed",
        hint=f"'safeguard hold release {person}' once the hold has ended",
    )


def check(unlocked: Unlocked, reference: str, *, force: bool) -> None:
    """Refuse now what `erase` would refuse, before its reason is asked for; nothing written."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        _erasable(unlocked, db, reference, force=force)


def erase(unlocked: Unlocked, reference: str, reason: str, *, force: bool) -> Erased:
    """Erase the case `reference`, for `reason`, in one write transaction; then empty the
    write-ahead log."""
    reason = _reason(reason)
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        case = _erasable(unlocked, db, reference, force=force)
        concerns = [
            int(c)
            for c in db.values(
                "SELECT c.id FROM concerns c JOIN entries e ON e.seq = c.triaged_seq "
                "WHERE e.case_id = ? ORDER BY c.id",
                case.id,
            )
        ]
        count = int(db.value("SELECT COUNT(*) FROM entries WHERE case_id = ?", case.id))
        for concern in concerns:
            db.execute("DELETE FROM concern_keys WHERE concern_id = ?", concern)
        db.execute("DELETE FROM case_access WHERE case_id = ?", case.id)
        db.execute("DELETE FROM case_summaries WHERE case_id = ?", case.id)
        entry = _append(
            unlocked,
            db,
            ERASED,
            case,
            {"reason": reason, "forced": force, "entries": count, "concerns": len(concerns)},
        )
        case.case_key, case.erased_seq, case.rekey_due = b"", entry.seq, 0
        db.update(case, "case_key", "erased_seq", "rekey_due")
    recorded = Recorded(
        _reference(case),
        entry.seq,
        clock.from_text(entry.recorded_at),
        unlocked.user.name,
        reason,
        force,
        count,
        len(concerns),
    )
    return Erased(recorded, empty_log(vault.connection))


#: The tables whose rows held an erased case's keys: on a PostgreSQL server, each is rewritten
#: after an erasure, so that no earlier version of a row stays in its files.
KEY_TABLES = ("cases", "case_access", "case_summaries", "concern_keys")


def empty_log(connection: Any) -> bool:
    """Leave no earlier copy of the keys in the vault's files.  In a file: copy the
    write-ahead log into the vault and truncate it to nothing; False if readers kept it busy
    for as long as the connection waits (its busy timeout: SQLite waits for them).  On a
    server: rewrite the tables that held them (`VACUUM FULL`); False if the role may not (only
    the schema's owner may), or others kept them busy."""
    if isinstance(connection, sqlite3.Connection):
        busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        return not busy
    # A role that does not own a table is only warned, and its VACUUM does nothing: ask first.
    owned = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND "
    owned += "tablename = ANY(?) AND pg_has_role(current_user, tableowner, 'USAGE')"
    try:
        if connection.execute(owned, (list(KEY_TABLES),)).fetchone()[0] < len(KEY_TABLES):
            return False
        for table in KEY_TABLES:
            connection.execute(f"VACUUM FULL {table}")
    except sqlite3.Error:  # a server's errors come as `pg.PgError`, one of these
        return False
    return True


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise UsageError("the reason is empty; nothing was changed")
    return text


def _append(unlocked: Unlocked, db: Db, kind: str, case: Case, payload: dict[str, Any]) -> Entry:
    return chronology.append(
        db,
        signer=unlocked.signer,
        payload_key=unlocked.keys.fields,
        kind=kind,
        payload={"case": _reference(case), "by": unlocked.user.name, **payload},
        facts={CASE_FACT[kind]: case.id},
    )


# Holds -------------------------------------------------------------------------------------


def hold(unlocked: Unlocked, reference: str, reason: str) -> Recorded:
    """Place a legal hold on the case: none may erase it until it is released."""
    reason = _reason(reason)
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        case = _holdable(unlocked, db, reference, "place a hold")
        if case.held_seq is not None:
            raise NotAllowed(
                f"{_reference(case)} is already held (entry {case.held_seq}); nothing was changed"
            )
        entry = _append(unlocked, db, HOLD, case, {"reason": reason})
        case.held_seq = entry.seq
        db.update(case, "held_seq")
    return Recorded(
        _reference(case), entry.seq, clock.from_text(entry.recorded_at), unlocked.user.name, reason
    )


def check_hold(unlocked: Unlocked, reference: str) -> None:
    """Refuse now what `hold` would refuse, before its reason is asked for."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        case = _holdable(unlocked, db, reference, "place a hold")
        if case.held_seq is not None:
            raise NotAllowed(
                f"{_reference(case)} is already held (entry {case.held_seq}); nothing was changed"
            )


def release(unlocked: Unlocked, reference: str) -> Recorded:
    """Release the hold on the case: it may be erased again."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        case = _holdable(unlocked, db, reference, "release a hold")
        held = case.held_seq
        if held is None:
            raise NotAllowed(f"{_reference(case)} is not held; nothing was changed")
        entry = _append(unlocked, db, RELEASED, case, {"hold": held})
        case.held_seq = None
        db.update(case, "held_seq")
    return Recorded(
        _reference(case), entry.seq, clock.from_text(entry.recorded_at), unlocked.user.name, ""
    )


def _holdable(unlocked: Unlocked, db: Db, reference: str, action: str) -> Case:
    case = casefile.find_case(db, reference)
    if case.erased_seq is not None:
        raise NotAllowed(
            f"{_reference(case)} was erased (entry {case.erased_seq}): there is nothing left to "
            "hold; nothing was changed"
        )
    _may_act(unlocked, db, case, action)
    return case


# Read back ---------------------------------------------------------------------------------


def recorded(unlocked: Unlocked, db: Db, seq: int) -> Recorded:
    """The erasure or hold written as entry `seq` (a vault event sealed with the field key)."""
    entry = db.get_one(Entry, seq)
    payload = chronology.open_payload(unlocked.keys.fields, entry)
    authors = casefile.user_names(db, unlocked.keys.field_key)
    return Recorded(
        str(payload.get("case", "")),
        entry.seq,
        clock.from_text(entry.recorded_at),
        authors.get(entry.author_id, f"user {entry.author_id}"),
        str(payload.get("reason", "")),
        bool(payload.get("forced", False)),
        int(payload.get("entries", 0)),
        int(payload.get("concerns", 0)),
        int(payload["person"]) if isinstance(payload.get("person"), int) else None,
        str(payload.get("name", "")),
    )


def erasure_of(unlocked: Unlocked, reference: str) -> Recorded | None:
    """The erasure of the case `reference` (None: it was not erased); `NotFound` if there is
    no such case."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        case = casefile.find_case(db, reference)
        return None if case.erased_seq is None else recorded(unlocked, db, case.erased_seq)


def erasures(unlocked: Unlocked, status: str | None = None) -> list[Recorded]:
    """Every erased case (of `status`, open or closed, if given), oldest first.  Anyone who
    holds the field key reads them: the erased entry is a vault event."""
    where = "erased_seq IS NOT NULL" + (" AND status = ?" if status else "")
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        cases = db.all(Case, where, *([status] if status else []), order="year, number")
        return [recorded(unlocked, db, int(c.erased_seq or 0)) for c in cases]


def holds(unlocked: Unlocked) -> list[Recorded]:
    """The holds in force on the cases this user may read, oldest first."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        cases = db.all(Case, "held_seq IS NOT NULL", order="year, number")
        return [
            recorded(unlocked, db, int(c.held_seq or 0)) for c in cases if unlocked.can_read(db, c)
        ]


def people_holds(unlocked: Unlocked) -> dict[int, Recorded]:
    """The holds in force on people, by person: anyone who holds the field key reads them."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        held = custody.people_held(db)
        return {person: recorded(unlocked, db, seq) for person, seq in held.items()}


def erased_entries(unlocked: Unlocked) -> int:
    """How many entries belong to erased cases: kept, signed, and opened by no key."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        return int(
            db.value(
                "SELECT COUNT(*) FROM entries e JOIN cases c ON c.id = e.case_id "
                "WHERE c.erased_seq IS NOT NULL"
            )
        )


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def kept_in(backup: Path, vault: Location) -> list[str]:
    """The cases erased in `vault` (a file, or a schema on a server) whose keys the older copy
    `backup` (of the same vault) still holds, by reference: a backup taken before their
    erasure.  Empty if either cannot be read, or they are not copies of one vault."""
    return compared(backup, vault) or []


def compared(backup: Path, vault: Location) -> list[str] | None:
    """What `kept_in` finds, or None if `backup` could not be compared with `vault`: either
    cannot be read, or they are not copies of one vault (so nothing can be said)."""
    if (isinstance(vault, Path) and not vault.exists()) or not backup.exists():
        return None
    try:
        first, erased = _erased_in(vault)
        with closing(_read_only(backup)) as older:
            if older.execute(FIRST_MAC).fetchone() != (first,) or first is None:
                return None
            found = []
            for case_id, year, number in erased:
                key = older.execute("SELECT case_key FROM cases WHERE id = ?", (case_id,))
                row = key.fetchone()
                if row is not None and (row[0] or _boxes(older, case_id)):
                    found.append(casefile.format_reference(year, number))
            return found
    except (sqlite3.Error, SafeguardError):
        return None


FIRST_MAC = "SELECT mac FROM entries WHERE seq = 1"
ERASED_CASES = "SELECT id, year, number FROM cases WHERE erased_seq IS NOT NULL ORDER BY id"


def _erased_in(vault: Location) -> tuple[bytes | None, list[tuple[int, int, int]]]:
    """The vault's first entry's MAC (which copies of one vault share) and its erased cases."""
    if isinstance(vault, Path):
        with closing(_read_only(vault)) as current:
            row = current.execute(FIRST_MAC).fetchone()
            return (None if row is None else bytes(row[0])), current.execute(
                ERASED_CASES
            ).fetchall()
    connection = storage.open_connection(vault)
    try:
        with storage.reading(connection) as db:
            first = db.value(FIRST_MAC)
            rows = db.execute(ERASED_CASES).fetchall()
    finally:
        connection.close()
    erased = [(int(i), int(y), int(n)) for i, y, n in rows]
    return (None if first is None else bytes(first)), erased


def _boxes(db: sqlite3.Connection, case_id: int) -> int:
    """How many sealed boxes of a case's keys a copy holds (none before schema 0004)."""
    try:
        sql = "SELECT COUNT(*) FROM case_access WHERE case_id = ?"
        return int(db.execute(sql, (case_id,)).fetchone()[0])
    except sqlite3.OperationalError:
        return 0
