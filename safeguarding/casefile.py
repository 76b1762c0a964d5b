"""One case read back from the chronology: its entries decrypted, in the order events happened.

This is the model every view of a case is built from (the demo, `timeline`, exports).  It only
reads: it never appends, and it holds plaintext only in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from safeguarding import chronology, clock, crypto
from safeguarding.db import Case, Db, Entry, User
from safeguarding.errors import NotAllowed, NotFound, UsageError
from safeguarding.vocabulary import Kind

#: An entry recorded more than this long after the event is marked as recorded late.
LATE_AFTER = timedelta(hours=24)

REFERENCE_PREFIX = "SG"
#: The kind of the entry that records a view of a case's timeline.
VIEWED = "case_viewed"
#: The kind of the vault-level entry that records the making of a governors' report.
REPORT_MADE = "report_made"
#: Kinds a case's chronology holds that are its access log, not its record: views of a
#: restricted case and changes of its members (shown by `safeguard audit`).
ACCESS_LOG = frozenset({VIEWED, "access_granted", "access_revoked"})


def format_reference(year: int, number: int) -> str:
    return f"{REFERENCE_PREFIX}-{year}-{number:04d}"


#: What a reference looks like, for the message that refuses one that does not.
REFERENCE_SHAPE = "SG-YYYY-NNNN"


def parse_reference(text: str) -> tuple[int, int]:
    """``SG-2026-0007`` as (2026, 7).  `UsageError` (exit 2) for what cannot be a reference,
    such as ``SG-2026-001`` with a digit left out, which is no case's and never was; a
    reference of the right shape that no case has is `NotFound`, where the caller reads it."""
    parts = text.strip().upper().split("-")
    # ASCII digits only ("²" is a digit to str.isdigit but not to int), a year of four digits,
    # and a number written with four digits or more (as `format_reference` writes it), few
    # enough to fit SQLite's integers.
    if (
        len(parts) == 3
        and parts[0] == REFERENCE_PREFIX
        and all(p.isascii() and p.isdigit() for p in parts[1:])
        and len(parts[1]) == 4
        and 4 <= len(parts[2]) <= 9
    ):
        return int(parts[1]), int(parts[2])
    raise UsageError(
        f"{text!r} is not a case reference: a reference looks like {REFERENCE_SHAPE}, "
        "e.g. SG-2026-0007",
        hint="'safeguard cases --status all' lists the cases",
    )


@dataclass(frozen=True)
class CaseEntry:
    """One entry of a case, decrypted.  `data` is the entry's payload.  `id` is its place in
    the vault's chronology (what `verify` and the JSON count); `number` is its place among the
    case's own entries in the order recorded (1 for the disclosure), the number a person is
    shown and gives to `amend`: it never changes, and views of the case take none."""

    id: int
    kind: str
    event_at: datetime
    recorded_at: datetime
    author: str
    data: dict[str, Any]
    number: int
    amended_by: tuple[int, ...] = ()

    @property
    def late(self) -> bool:
        """Recorded more than 24 hours after the event."""
        return self.recorded_at - self.event_at > LATE_AFTER

    @property
    def text(self) -> str:
        return str(self.data.get("text", ""))

    @property
    def amends(self) -> int | None:
        """The entry this one corrects, for an amendment."""
        target = self.data.get("target")
        return int(target) if self.kind == Kind.AMENDMENT and target is not None else None


@dataclass(frozen=True)
class CaseFile:
    """A case and its entries in event order (event time, then entry id)."""

    reference: str
    case_id: int
    opened_at: datetime
    status: str
    entries: tuple[CaseEntry, ...] = field(default_factory=tuple)
    restricted: bool = False  # its keys are sealed to its members (and the recovery key) only

    @property
    def in_recorded_order(self) -> tuple[CaseEntry, ...]:
        return tuple(sorted(self.entries, key=lambda e: e.id))

    def entry(self, entry_id: int) -> CaseEntry:
        for item in self.entries:
            if item.id == entry_id:
                return item
        ids = ", ".join(str(e.id) for e in self.in_recorded_order)
        raise NotFound(
            f"{self.reference} has no entry {entry_id}",
            hint=f"the entries of {self.reference} are: {ids}",
        )

    def numbered(self, number: int) -> CaseEntry:
        """The case's entry `number` (its own numbering, as its timeline shows it)."""
        for item in self.entries:
            if item.number == number:
                return item
        raise NotFound(
            f"{self.reference} has no entry {number}",
            hint=f"its entries are numbered 1 to {len(self.entries)}, as its timeline shows",
        )

    @property
    def disclosure(self) -> CaseEntry:
        for item in self.in_recorded_order:
            if item.kind == Kind.DISCLOSURE:
                return item
        raise NotFound(f"{self.reference} has no disclosure")


def no_such_case(year: int, number: int) -> NotFound:
    """What is said of a case that is not there, or that the reader may not know is there."""
    return NotFound(
        f"there is no case {format_reference(year, number)}",
        hint="'safeguard cases --status all' lists the cases",
    )


def erased(case: Case) -> NotAllowed:
    """What is said of a case that was erased: its keys are gone, its entries unreadable."""
    return NotAllowed(
        f"{format_reference(case.year, case.number)} was erased (entry {case.erased_seq}): its "
        "entries can no longer be read, and nothing can be added to it",
        hint="'safeguard timeline CASE' shows who erased it, when and why",
    )


def find_case(db: Db, reference: str) -> Case:
    year, number = parse_reference(reference)
    case = db.first(Case, "year = ? AND number = ?", year, number)
    if case is None:
        raise no_such_case(year, number)
    return case


def user_names(db: Db, field_key: bytes) -> dict[int, str]:
    return {
        user.id: crypto.open_text(field_key, user.name, table="users", row=user.id, column="name")
        for user in db.all(User)
    }


def build(
    db: Db,
    case: Case,
    case_key: chronology.PayloadKey,
    authors: dict[int, str],
) -> CaseFile:
    """Decrypt the case's entries and put them in event order, amendments linked both ways."""
    return assemble(case, case_key, authors, entry_rows(db, case))


def entry_rows(db: Db, case: Case) -> list[Entry]:
    """The case's entry rows, in sequence order, still encrypted."""
    return db.all(Entry, "case_id = ?", case.id, order="seq")


def build_all(
    db: Db,
    cases: Sequence[Case],
    case_key: Callable[[Case], chronology.PayloadKey],
    authors: dict[int, str],
) -> list[CaseFile]:
    """Every case in `cases`, read with one query rather than one per case."""
    wanted = {case.id for case in cases}
    rows_by_case: dict[int, list[Entry]] = {case_id: [] for case_id in wanted}
    for row in db.all(Entry, "case_id IS NOT NULL", order="seq"):
        if row.case_id in wanted:
            rows_by_case[row.case_id].append(row)
    return [assemble(case, case_key(case), authors, rows_by_case[case.id]) for case in cases]


def assemble(
    case: Case, case_key: chronology.PayloadKey, authors: dict[int, str], rows: Sequence[Entry]
) -> CaseFile:
    """A case file from its entry rows (in sequence order)."""
    return file_of(case, open_rows(case_key, rows), authors)


#: An entry row and its payload, decrypted.
Opened = tuple[Entry, dict[str, Any]]


def open_rows(case_key: chronology.PayloadKey, rows: Sequence[Entry]) -> list[Opened]:
    """The rows' payloads, decrypted.  A restricted case's access log (views, members given
    or refused access), kept in its own chronology so that only its members learn of it, is
    not part of the file: `safeguard audit` shows it."""
    return [
        (row, chronology.open_payload(case_key, row)) for row in rows if row.kind not in ACCESS_LOG
    ]


def file_of(case: Case, opened: Sequence[Opened], authors: dict[int, str]) -> CaseFile:
    """A case file from its opened rows (in sequence order), amendments linked both ways, and
    each entry numbered by its place among them."""
    amended_by: dict[int, list[int]] = {}
    for row, data in opened:
        if row.kind == Kind.AMENDMENT and "target" in data:
            amended_by.setdefault(int(data["target"]), []).append(row.seq)
    entries = [
        CaseEntry(
            id=row.seq,
            kind=row.kind,
            event_at=clock.from_text(row.event_at),
            recorded_at=clock.from_text(row.recorded_at),
            author=authors.get(row.author_id, f"user {row.author_id}"),
            data=data,
            number=number,
            amended_by=tuple(amended_by.get(row.seq, ())),
        )
        for number, (row, data) in enumerate(opened, 1)
    ]
    entries.sort(key=lambda e: (e.event_at, e.id))
    return CaseFile(
        reference=format_reference(case.year, case.number),
        case_id=case.id,
        opened_at=clock.from_text(case.opened_at),
        status=case.status,
        entries=tuple(entries),
        restricted=bool(case.restricted),
    )
