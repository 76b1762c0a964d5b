"""A case's summary: where it stands as its entries leave it, kept beside the chronology so that
listing the cases, or adding a note, reads one row a case rather than every entry.

A summary is derived data.  It holds the case's state (what `flow.fold` makes of its entries:
stage, category, subjects, referrals, actions, outcome, the dates the next step is worked out
from), how many entries its record has (its last entry's number) and the sequence number of its
last entry of any kind.  It is sealed with the case's own key, bound to its row, and written in
the transaction that appends each of the case's entries.  The plain `seq` column says which
entry it was made after, as the entries table already does in clear.

A summary that is missing (a vault from before summaries), stale (its `seq` is not the case's
last entry) or does not open is not used: the case is read from its chronology, as before.
`verify` recomputes every summary from the entries it reads and names a case whose summary
disagrees.  Nothing here prints or decides what may be written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from safeguarding import casefile, casestate, chronology, clock, crypto
from safeguarding.casefile import ACCESS_LOG, CaseEntry
from safeguarding.casestate import CaseState
from safeguarding.chronology import StoredEntry
from safeguarding.crypto import KeyRing
from safeguarding.custody import fail
from safeguarding.db import Case, CaseSummary, Db, Entry, columns
from safeguarding.entries import kind_of
from safeguarding.vocabulary import Kind, Route, Stage

#: The summary's own format, inside its sealed JSON.
VERSION = 1
_STAGES = {stage.value: stage for stage in Stage}  # faster than asking the enum, a case at a time
TABLE, COLUMN = "case_summaries", "summary"


@dataclass
class Summary:
    """A case as its entries leave it: its state, its record's entries (the last one's number)
    and the sequence number of its last entry of any kind (a view, a change of members)."""

    state: CaseState
    entries: int
    last: int


class NotADisclosure(ValueError):
    """A case whose first entry is not its disclosure: no state can be made of it."""


def advance(summary: Summary | None, row: StoredEntry, payload: dict[str, Any]) -> Summary:
    """The summary once `row` (the case's next entry, its payload opened) is added: what
    `flow.fold` would make of every entry so far.  None: the case's first entry."""
    if summary is not None and row.kind in ACCESS_LOG:
        summary.last = row.seq
        return summary
    if row.kind in ACCESS_LOG:
        raise NotADisclosure(f"entry {row.seq} comes before its case's disclosure")
    number = 1 if summary is None else summary.entries + 1
    entry = CaseEntry(
        id=row.seq,
        kind=row.kind,
        event_at=clock.from_text(row.event_at),
        recorded_at=clock.from_text(row.recorded_at),
        author="",
        data=payload,
        number=number,
    )
    if summary is None:
        if row.kind != Kind.DISCLOSURE:
            raise NotADisclosure(f"entry {row.seq} opens its case but is not a disclosure")
        summary = Summary(
            CaseState(
                reference="",
                category=str(payload["category"]),
                disclosed_at=entry.event_at,
                # As a summary keeps them: every value text (a subject's person's number too).
                subjects=[
                    {str(k): str(v) for k, v in s.items()} for s in payload.get("subjects", [])
                ],
            ),
            0,
            0,
        )
    kind_of(row.kind).apply(summary.state, entry)
    summary.entries, summary.last = number, row.seq
    return summary


def of_rows(reference: str, rows: Iterable[tuple[StoredEntry, dict[str, Any] | None]]) -> Summary:
    """The summary of a case from every one of its entries, in sequence order (an entry of its
    access log with no payload opened)."""
    summary: Summary | None = None
    for row, payload in rows:
        summary = advance(summary, row, payload or {})
    if summary is None:
        raise NotADisclosure(f"{reference} has no entries")
    summary.state.reference = reference
    return summary


def rebuild(db: Db, reference: str, case_id: int, ring: KeyRing) -> Summary:
    """The summary of a case read whole from its chronology (its access log is not opened)."""
    rows = db.all(Entry, "case_id = ?", case_id, order="seq")
    return of_rows(
        reference,
        (
            (row, None if row.kind in ACCESS_LOG else chronology.open_payload(ring, row))
            for row in rows
        ),
    )


def last_seq(db: Db, case_id: int) -> int:
    """The sequence number of the case's last entry of any kind (0: none)."""
    return int(db.value("SELECT coalesce(max(seq), 0) FROM entries WHERE case_id = ?", case_id))


def read_row(db: Db, case_id: int) -> CaseSummary | None:
    return db.get(CaseSummary, case_id)


def listed(db: Db, status: str | None) -> list[tuple[Case, CaseSummary | None, int]]:
    """The cases with `status` (None: every case), oldest first, each with its summary's row
    (None: it has none) and its last entry's sequence number: one query, reading nothing of
    the cases not asked for."""
    case_columns = columns(Case)
    selected = ", ".join(
        [*(f"c.{name}" for name in case_columns), *(f"s.{name}" for name in columns(CaseSummary))]
    )
    sql = (
        f"SELECT {selected}, (SELECT max(e.seq) FROM entries e WHERE e.case_id = c.id) "
        "FROM cases c LEFT JOIN case_summaries s ON s.case_id = c.id"
        + (" WHERE c.status = ?" if status is not None else "")
        + " ORDER BY c.year, c.number"
    )
    found = []
    width = len(case_columns)
    for row in db.execute(sql, *(() if status is None else (status,))):
        summary = None if row[width] is None else CaseSummary(*row[width:-1])
        found.append((Case(*row[:width]), summary, int(row[-1] or 0)))
    return found


# Sealed and opened -------------------------------------------------------------------------


def to_data(summary: Summary) -> dict[str, Any]:
    s = summary.state
    times = clock.to_text
    return {
        "version": VERSION,
        "entries": summary.entries,
        "last": summary.last,
        "reference": s.reference,
        "category": s.category,
        "disclosed_at": times(s.disclosed_at),
        "subjects": [dict(subject) for subject in s.subjects],
        "stage": s.stage.value,
        "reopen_stage": s.reopen_stage.value,
        "referrals": list(s.referrals),
        "routes": [route.value for route in s.routes],
        "decided_not_to_refer": s.decided_not_to_refer,
        "advice": s.advice,
        "actions": [
            {
                "number": a.number,
                "entry": a.entry,
                "owner": a.owner,
                "due": a.due.isoformat(),
                "text": a.text,
                "added_at": times(a.added_at),
                "done_entry": a.done_entry,
                "done_at": None if a.done_at is None else times(a.done_at),
            }
            for a in s.actions.values()
        ],
        "outcome": s.outcome,
        "closed_at": None if s.closed_at is None else times(s.closed_at),
        "last_closure_at": None if s.last_closure_at is None else times(s.last_closure_at),
    }


def from_data(data: dict[str, Any]) -> Summary:
    """A summary from its opened JSON; `ValueError` (or `KeyError`, `TypeError`) if it is not
    one this release wrote."""
    if data.get("version") != VERSION:
        raise ValueError(f"a summary of version {data.get('version')!r}")
    when = clock.from_text

    def maybe(text: Any) -> Any:
        return None if text is None else when(str(text))

    actions = {
        int(a["number"]): casestate.Action(
            number=int(a["number"]),
            entry=int(a["entry"]),
            owner=str(a["owner"]),
            due=date.fromisoformat(a["due"]),
            text=str(a["text"]),
            added_at=when(a["added_at"]),
            done_entry=None if a["done_entry"] is None else int(a["done_entry"]),
            done_at=maybe(a["done_at"]),
        )
        for a in data["actions"]
    }
    state = CaseState(
        reference=str(data["reference"]),
        category=str(data["category"]),
        disclosed_at=when(data["disclosed_at"]),
        subjects=[{str(k): str(v) for k, v in s.items()} for s in data["subjects"]],
        stage=_STAGES[data["stage"]],
        referrals=[int(r) for r in data["referrals"]],
        routes=[Route(r) for r in data["routes"]],
        decided_not_to_refer=bool(data["decided_not_to_refer"]),
        advice=int(data["advice"]),
        actions=actions,
        outcome=None if data["outcome"] is None else str(data["outcome"]),
        closed_at=maybe(data["closed_at"]),
        last_closure_at=maybe(data["last_closure_at"]),
        reopen_stage=_STAGES[data["reopen_stage"]],
    )
    return Summary(state, int(data["entries"]), int(data["last"]))


def canonical(summary: Summary) -> bytes:
    return json.dumps(to_data(summary), ensure_ascii=False, sort_keys=True).encode("utf-8")


def seal(case_id: int, ring: KeyRing, summary: Summary) -> CaseSummary:
    """The summary's row, sealed with the case's current key."""
    sealed = crypto.seal(ring.current, canonical(summary), table=TABLE, row=case_id, column=COLUMN)
    return CaseSummary(case_id=case_id, seq=summary.last, epoch=ring.epoch, summary=sealed)


def write(db: Db, case_id: int, ring: KeyRing, summary: Summary) -> None:
    """Write the case's summary, in the caller's write transaction."""
    db.upsert(seal(case_id, ring, summary))


def opened(row: CaseSummary, ring: KeyRing) -> dict[str, Any]:
    """A summary row's JSON, opened; `crypto.DecryptionError` or `ValueError` if it does not
    open (altered, moved to another case's row, or sealed with a key this ring lacks)."""
    data = crypto.open_sealed(
        ring.at(row.epoch), row.summary, table=TABLE, row=row.case_id, column=COLUMN
    )
    value = json.loads(data.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("a summary that is not an object")
    return value


def usable(row: CaseSummary | None, ring: KeyRing, last: int) -> Summary | None:
    """The summary in `row` if it is the case's as it stands (made after its last entry,
    `last`) and opens; None if not, and the case is read from its chronology instead."""
    if row is None or row.seq != last:
        return None
    try:
        summary = from_data(opened(row, ring))
    except (crypto.DecryptionError, ValueError, KeyError, TypeError):
        return None
    return summary if summary.last == last else None


def read(db: Db, case_id: int, ring: KeyRing) -> Summary | None:
    """The case's summary, if it is usable (see `usable`)."""
    return usable(db.get(CaseSummary, case_id), ring, last_seq(db, case_id))


def follow(
    db: Db,
    case_id: int,
    reference: str,
    ring: KeyRing,
    entry: Entry,
    payload: dict[str, Any] | None = None,
) -> Summary:
    """Keep the case's summary in step with `entry`, just appended to it in the caller's write
    transaction: the summary as it stood advanced by one entry, or, if it was not usable (a
    case from before summaries), made from the whole case."""
    before = usable(
        db.get(CaseSummary, case_id),
        ring,
        int(
            db.value(
                "SELECT coalesce(max(seq), 0) FROM entries WHERE case_id = ? AND seq < ?",
                case_id,
                entry.seq,
            )
        ),
    )
    if before is None:
        summary = rebuild(db, reference, case_id, ring)
    else:
        if payload is None and entry.kind not in ACCESS_LOG:
            payload = chronology.open_payload(ring, entry)
        summary = advance(before, entry, payload or {})
    write(db, case_id, ring, summary)
    return summary


# Checked -----------------------------------------------------------------------------------


#: How many entries `verify` walks between two reports of how far it has got.
PROGRESS_EVERY = 2000
#: What is told how far a check has got: entries walked, of how many.
Progress = Callable[[int, int], None]


class Recount:
    """Every case's summary recomputed from the entries `verify` walks, one at a time (an
    `integrity.Watcher`), with each case's last entry; `progress`, if given, is told how far
    the walk has got (entries walked, of `total`)."""

    def __init__(self, total: int = 0, progress: Progress | None = None):
        self.kept: dict[int, Summary | None] = {}
        self.last: dict[int, int] = {}
        self.unread: set[int] = set()  # cases the checker cannot read, or cannot fold
        self.total, self.progress = total, progress

    def __call__(self, entry: StoredEntry, payload: dict[str, Any] | None) -> None:
        if self.progress is not None and (entry.seq == 1 or not entry.seq % PROGRESS_EVERY):
            self.progress(entry.seq, self.total)
        case_id = entry.case_id
        if case_id is None:
            return
        self.last[case_id] = entry.seq
        if case_id in self.unread:
            return
        if payload is None:
            self.unread.add(case_id)
            return
        try:
            self.kept[case_id] = advance(self.kept.get(case_id), entry, payload)
        except (NotADisclosure, KeyError, TypeError, ValueError):
            self.unread.add(case_id)  # a case the chronology's own checks name

    def check(self, db: Db, rings: Mapping[int, KeyRing]) -> None:
        """Every summary against the chronology just walked: made after its case's last entry
        and, for a case in `rings` (those the checker can read), saying what its entries say.
        A case with no summary is not named: its summary is derived, and written again.
        Raises `CheckFailed` naming the first case whose summary does not hold."""
        if self.progress is not None:
            self.progress(self.total, self.total)
        cases = {case.id: case for case in db.all(Case)}
        for row in db.all(CaseSummary, order="case_id"):
            case = cases.get(row.case_id)
            if case is None:
                raise fail(
                    f"there is a summary for case row {row.case_id}, which is not in "
                    "the vault: added by hand"
                )
            reference = casefile.format_reference(case.year, case.number)
            last = self.last.get(row.case_id, 0)
            if row.seq != last:
                raise fail(
                    f"the summary of {reference} is stale: it was made after entry {row.seq}, "
                    f"but the case's last entry is {last}: an old summary was put back"
                )
            ring = rings.get(row.case_id)
            problem = None if ring is None else self.disagreement(reference, row, ring)
            if problem is not None:
                raise fail(problem)

    def disagreement(self, reference: str, row: CaseSummary, ring: KeyRing) -> str | None:
        """What is wrong with the summary in `row` of the case `reference`, as recomputed from
        its entries; None if it agrees."""
        found = self.kept.get(row.case_id)
        if row.case_id in self.unread or found is None:
            return None
        found.state.reference = reference
        try:
            stored = from_data(opened(row, ring))
        except (crypto.DecryptionError, ValueError, KeyError, TypeError):
            return f"the summary of {reference} does not open: it was altered or moved"
        if canonical(stored) != canonical(found):
            return (
                f"the summary of {reference} does not agree with its chronology (it says "
                f"{_said(stored)}; its entries say {_said(found)}): it was altered"
            )
        return None


def _said(summary: Summary) -> str:
    state = summary.state
    return f"{state.stage.value}, {summary.entries} entries, the last {summary.last}"
