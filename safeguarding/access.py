"""Who read what: a case's timeline read for viewing (a vault-level `case_viewed` entry) or for
an export (an `export` entry in the case's own chronology), and the audit that lists them.

Both are ordinary chronology entries, so the access log is append-only and MAC-chained like
every record; nothing here writes anywhere else or prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from safeguarding import (
    attempts,
    casefile,
    chronology,
    clock,
    storage,
    summaries,
    timeline,
    transfers,
)
from safeguarding.casefile import REPORT_MADE, CaseFile
from safeguarding.casefile import VIEWED as CASE_VIEWED
from safeguarding.chronology import Checkpoint
from safeguarding.concern_checks import ADDED, CLOSED, READ, REPORTED
from safeguarding.crypto import KeyRing
from safeguarding.custody import CASE_FACT, PERSON_FACT
from safeguarding.db import Case, Db, Entry
from safeguarding.entries import destination, title_of
from safeguarding.people_rows import FILE_EXPORTED, FILE_VIEWED, SAR_DONE, SAR_MADE
from safeguarding.vocabulary import Kind

if TYPE_CHECKING:
    from safeguarding.categories import Categories
    from safeguarding.vault import Unlocked


@dataclass(frozen=True)
class Snapshot:
    """A case read inside the transaction that recorded the read, and the head after it."""

    case: CaseFile
    checkpoint: Checkpoint
    entry: int


@contextmanager
def reading_case(
    unlocked: Unlocked,
    reference: str,
    kind: str,
    payload: dict[str, Any],
    now: Callable[[], datetime] | None = None,
) -> Iterator[Snapshot]:
    """Record one read of a case and yield the case as it then stands, in one write transaction.

    `kind` is `CASE_VIEWED` (a vault-level entry sealed with the field key) or an export (an entry
    of the case, sealed with its key).  If the block raises, nothing is recorded.
    """
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        case = casefile.find_case(db, reference)
        case_key = unlocked.case_ring(db, case, writing=True)
        entry = _record_read(unlocked, db, case, case_key, kind, payload, (now or clock.now)())
        authors = casefile.user_names(db, unlocked.keys.field_key)
        built = casefile.build(db, case, case_key, authors)
        yield Snapshot(built, chronology.head(db), entry.seq)


def _record_read(
    unlocked: Unlocked,
    db: Db,
    case: Case,
    case_key: KeyRing,
    kind: str,
    payload: dict[str, Any],
    at: datetime,
) -> Entry:
    """Append the entry that records a read of `case`, in the caller's write transaction (an
    entry of the case keeps its summary in step)."""
    # A view of a restricted case goes into its own chronology: only its members may learn
    # that it exists.
    in_case = kind != CASE_VIEWED or bool(case.restricted)
    reference = casefile.format_reference(case.year, case.number)
    entry = chronology.append(
        db,
        signer=unlocked.signer,
        payload_key=case_key if in_case else unlocked.keys.fields,
        kind=kind,
        payload=payload if in_case else {"case": reference, **payload},
        case_id=case.id if in_case else None,
        recorded_at=at,
    )
    if in_case:
        summaries.follow(db, case.id, reference, case_key, entry, payload)
    return entry


def _settle(unlocked: Unlocked, reference: str) -> None:
    """A member left this restricted case: its next entry starts a new epoch, which only a
    write transaction can begin, so begin it before the case is read without the lock."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        due = bool(casefile.find_case(db, reference).rekey_due)
    if due:
        with storage.guarded(vault.path), storage.writing(vault.connection) as db:
            unlocked.case_ring(db, casefile.find_case(db, reference), writing=True)


#: How often a view reads a case without the write lock before it reads it under the lock:
#: again only if someone wrote to that very case between the read and the record of it.
VIEW_TRIES = 3


def _viewed(unlocked: Unlocked, reference: str, at: datetime) -> tuple[CaseFile, Checkpoint]:
    """The case as read for a view, and the checkpoint once the view is recorded.  The case is
    read and decrypted without the write lock; the lock is held only to append the record of
    the view, so a view never waits long on a colleague's write, nor they on it."""
    vault = unlocked.vault
    for _ in range(VIEW_TRIES):
        _settle(unlocked, reference)
        with storage.guarded(vault.path), storage.reading(vault.connection) as db:
            case = casefile.find_case(db, reference)
            last = summaries.last_seq(db, case.id)
            authors = casefile.user_names(db, unlocked.keys.field_key)
            built = casefile.build(db, case, unlocked.case_ring(db, case), authors)
        with storage.guarded(vault.path), storage.writing(vault.connection) as db:
            case = casefile.find_case(db, reference)
            if summaries.last_seq(db, case.id) == last:
                ring = unlocked.case_ring(db, case, writing=True)
                _record_read(unlocked, db, case, ring, CASE_VIEWED, {}, at)
                return built, chronology.head(db)
    with reading_case(unlocked, reference, CASE_VIEWED, {}, now=lambda: at) as snap:
        return snap.case, snap.checkpoint


@dataclass(frozen=True)
class Prepared:
    """A case read without the write lock, with the entry recording the read made ready to
    append after `after`, the head as read: the case as it will stand once that entry is
    written, and the checkpoint that will then hold."""

    case: CaseFile
    checkpoint: Checkpoint
    entry: int
    row: Entry
    after: Checkpoint


def prepare_read(
    unlocked: Unlocked, reference: str, kind: str, payload: dict[str, Any], at: datetime
) -> Prepared:
    """Read a case for `kind` (an export, an entry of the case, recorded `at`) without
    taking the write lock, so that laying a long case out as a PDF keeps no one else waiting.
    Nothing is written: `recording` writes the prepared entry if the head has not moved."""
    vault = unlocked.vault
    _settle(unlocked, reference)
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        case = casefile.find_case(db, reference)
        case_key = unlocked.case_ring(db, case)
        after = chronology.head(db)
        row = chronology.prepare(
            db,
            signer=unlocked.signer,
            payload_key=case_key,
            kind=kind,
            payload=payload,
            case_id=case.id,
            recorded_at=at,
        )
        authors = casefile.user_names(db, unlocked.keys.field_key)
        rows = [*casefile.entry_rows(db, case), row]
        built = casefile.assemble(case, case_key, authors, rows)
    return Prepared(built, Checkpoint(row.seq, row.mac.hex()), row.seq, row, after)


@contextmanager
def recording(unlocked: Unlocked, prepared: Prepared) -> Iterator[bool]:
    """Take the write lock and, if the head is still the one the case was read after, write the
    prepared entry and yield True: it is committed when the block ends without an error, and
    not at all if the block raises.  If anyone wrote meanwhile, yield False and write nothing
    (the case must be read again)."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        if chronology.head(db) != prepared.after:
            yield False
            return
        chronology.insert(db, prepared.row)
        case = db.get_one(Case, prepared.case.case_id)
        ring = unlocked.case_ring(db, case)
        summaries.follow(db, case.id, prepared.case.reference, ring, prepared.row)
        yield True


@dataclass(frozen=True)
class Access:
    """One view or export of a case, or (in one's own list) one entry one recorded."""

    entry: int
    at: datetime
    who: str
    case: str
    action: str  # "viewed", "exported", "recorded", "opened"…
    format: str | None = None
    redacted: bool = False
    to: str | None = None
    kind: str | None = None  # what was recorded
    recovery: bool = False  # done with the recovery key
    period: str | None = None  # a governors' report's: "2026-09-01 to 2026-12-18"
    #: Its number in its case, for an entry of the case's record (a view has none).
    number: int | None = None
    concern: int | None = None  # the concern read, triaged or reported
    outcome: str | None = None  # a triage's: "case" or "no_action"

    @property
    def what(self) -> str:
        if self.concern is not None:
            return _concern_what(self.action, self.concern, self.outcome)
        if self.action == "viewed":
            return "viewed the timeline"
        if self.action == "file_viewed":
            return "viewed the child's file"
        if self.action == "opened":
            return "opened the vault for a sitting (safeguard shell)"
        if self.action == "reported":
            text = f"made the governors' report for {self.period}, as {self.format}"
            return text + (f", to {self.to}" if self.to else "")
        if self.action in ("granted", "revoked"):
            text = (
                f"gave {self.to} access"
                if self.action == "granted"
                else f"took {self.to}'s access away"
            )
            return text + (", with the recovery key" if self.recovery else "")
        if self.action == "recorded":
            return f"recorded: {title_of(str(self.kind), receipt=True).lower()}"
        text = f"exported {self.format}"
        if self.redacted:
            text += ", redacted"
        if self.to:
            text += f", to {destination(self.to)}"
        return text


def _concern_what(action: str, number: int, outcome: str | None) -> str:
    if action == CONCERN_READ:
        return f"read concern {number}"
    if action == CONCERN_TRIAGED:
        decided = "added to the case" if outcome == "case" else "no further action"
        return f"triaged concern {number}: {decided}"
    return f"reported concern {number}"


#: The audit's actions on a concern: read (`inbox N`), triaged (`outcome` "case" or
#: "no_action"), and, in one's own list, reported.
CONCERN_READ, CONCERN_TRIAGED, CONCERN_REPORTED = "concern_read", "concern_triaged", "concern"
_CONCERN_ACTIONS = {READ: CONCERN_READ, CLOSED: CONCERN_TRIAGED, REPORTED: CONCERN_REPORTED}

#: Kinds of the case entries that record who was given or lost access to a restricted case.
ACCESS_GRANTED, ACCESS_REVOKED = "access_granted", "access_revoked"
#: The vault event that records a sitting's unlock (each view is still recorded on its own).
VAULT_OPENED = "vault_opened"
_LOGGED: tuple[str, ...] = (CASE_VIEWED, Kind.EXPORT, ACCESS_GRANTED, ACCESS_REVOKED, REPORT_MADE)
_LOGGED += (VAULT_OPENED, FILE_VIEWED, FILE_EXPORTED, *CASE_FACT, SAR_MADE, SAR_DONE)
# A child's file sent, its receipt or withdrawal, one received; a person held and released.
_PERSON_EVENTS = (*transfers.EVENTS, "file_received", *PERSON_FACT)
_LOGGED += _PERSON_EVENTS
#: The concerns' events the audit lists beside them: a reading and a triage.
_CONCERNS_LOGGED = (READ, CLOSED, ADDED)


def record_opened(unlocked: Unlocked, how: str) -> int:
    """Record that `unlocked`'s user opened the vault with their passphrase for a sitting
    (`how`: "shell"), as a signed vault event; its place in the chronology."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        entry = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=unlocked.keys.fields,
            kind=VAULT_OPENED,
            payload={"by": how},
        )
    return entry.seq


def audit(unlocked: Unlocked, reference: str | None = None, *, mine: bool = False) -> list[Access]:
    """Every view and export, and every change of a restricted case's members, oldest first;
    only those of `reference` if given.  Restricted cases the user is not a member of do not
    appear at all.

    With `mine`, every entry the acting user wrote instead (views and exports included): the
    chronology's own record of who wrote what, read back as their receipts."""
    vault = unlocked.vault
    found: list[Access] = []
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        everything = {c.id: c for c in db.all(Case)}
        readable = {i for i, c in everything.items() if unlocked.can_read(db, c)}
        # Who read a case stays in the log after its erasure (as recorded, its details gone).
        known = readable | {i for i, c in everything.items() if c.erased_seq is not None}
        # One's own entries are one's receipts, even in a case one has since left.
        cases = everything if mine else {i: everything[i] for i in known}
        wanted: int | None = None
        if reference is not None:
            case = casefile.find_case(db, reference)
            if case.id not in known:
                raise casefile.no_such_case(case.year, case.number)
            wanted = case.id
        ids = {c.id: casefile.format_reference(c.year, c.number) for c in cases.values()}
        by_ref = {ref: case_id for case_id, ref in ids.items()}
        rings: dict[int, KeyRing] = {}

        def payload(row: Entry) -> dict[str, Any]:
            assert row.case_id is not None
            if row.case_id not in rings:
                rings[row.case_id] = unlocked.case_ring(db, cases[row.case_id])
            return chronology.open_payload(rings[row.case_id], row)

        authors = casefile.user_names(db, unlocked.keys.field_key)
        # Only the concerns sealed to this reader: one about them they must not learn of.
        sealed = None if mine else set(db.values(_SEALED, unlocked.holder))
        if mine:
            rows = db.all(Entry, "author_id = ?", unlocked.user.id, order="seq")
        else:
            kinds = (*_LOGGED, *_CONCERNS_LOGGED)
            logged = ", ".join("?" for _ in kinds)
            rows = db.all(Entry, f"kind IN ({logged})", *kinds, order="seq")
        for row in rows:
            who = authors.get(row.author_id, f"user {row.author_id}")
            at = clock.from_text(row.recorded_at)
            if row.case_id is None:
                if wanted is None or row.kind == CASE_VIEWED or row.kind in CASE_FACT:
                    event = _vault_event(row, at, who, unlocked, (by_ref, sealed))
                    if event and (wanted is None or by_ref.get(event.case) == wanted):
                        found.append(event)
                continue
            if row.case_id not in cases or wanted not in (None, row.case_id):
                continue
            if row.case_id not in readable:
                found.append(Access(row.seq, at, who, ids[row.case_id], "recorded", kind=row.kind))
                continue
            found.append(_case_access(row, at, who, ids[row.case_id], payload))
        numbers = _numbers(db, {row.case_id for row in rows if row.case_id is not None})
    return [replace(a, number=numbers[a.entry]) if a.entry in numbers else a for a in found]


_SEALED = "SELECT concern_id FROM concern_keys WHERE holder = ?"


def _vault_event(
    row: Entry,
    at: datetime,
    who: str,
    unlocked: Unlocked,
    listed: tuple[Container[str], Container[int] | None],
) -> Access | None:
    """An entry outside any case as the audit shows it; None for a view of a case that is not
    listed (`listed`: the cases' references), or an event on a concern not sealed to the
    reader (`listed`: the concerns' numbers, None for one's own entries)."""
    cases, sealed = listed
    if row.kind == CASE_VIEWED or row.kind in CASE_FACT:
        ref = str(chronology.open_payload(unlocked.keys.fields, row).get("case", ""))
        action, kind = ("viewed", None) if row.kind == CASE_VIEWED else ("recorded", row.kind)
        return Access(row.seq, at, who, ref, action, kind=kind) if ref in cases else None
    if row.kind == REPORT_MADE:
        return _report(row, at, who, unlocked)
    if row.kind == VAULT_OPENED:
        return Access(row.seq, at, who, "", "opened", kind=row.kind)
    if row.kind in (FILE_VIEWED, FILE_EXPORTED, SAR_MADE):
        data = chronology.open_payload(unlocked.keys.fields, row)
        whose, fmt = f"person {data.get('person')}", data.get("format")
        if row.kind == FILE_VIEWED:
            return Access(row.seq, at, who, whose, "file_viewed", kind=row.kind)
        whose += f", received file {data['received_file']}" if "received_file" in data else ""
        sar, kind = row.kind == SAR_MADE, (SAR_MADE if row.kind == SAR_MADE else None)
        return Access(row.seq, at, who, whose, "exported", str(fmt), sar, data.get("to"), kind)
    if row.kind in _PERSON_EVENTS:
        facts = json.loads(row.facts or "{}")
        person = facts.get("person", facts.get(PERSON_FACT.get(row.kind, "")))
        whose = f"transfer {facts.get('transfer')}" if person is None else f"person {person}"
        return Access(row.seq, at, who, whose, "recorded", kind=row.kind)
    if row.kind in _CONCERN_ACTIONS:
        concern = _concern_of(row)
        if sealed is not None and concern not in sealed:
            return None
        outcome = "no_action" if row.kind == CLOSED else None
        action = _CONCERN_ACTIONS[row.kind]
        return Access(row.seq, at, who, "", action, kind=row.kind, concern=concern, outcome=outcome)
    return Access(row.seq, at, who, "", "recorded", kind=row.kind)


def _concern_of(row: Entry) -> int:
    return int(json.loads(row.facts or "{}")["concern"])


def failed_unlocks(unlocked: Unlocked) -> list[attempts.Attempt]:
    """Every failed attempt to unlock the vault, oldest first, with what of its details was
    sealed to this user's key.  Outside the chronology and unsigned: see `attempts`."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        return attempts.listed(db, unlocked.exchange)


def _numbers(db: Db, case_ids: Collection[int]) -> dict[int, int]:
    """Each entry of these cases' records (by its place in the chronology) and its number in
    its case, as `casefile.file_of` numbers them: counted in the order recorded, without the
    views and changes of access a restricted case's chronology also holds."""
    if not case_ids:  # (`IN ()` is SQLite's alone)
        return {}
    cases = ", ".join("?" for _ in case_ids)
    logged = ", ".join("?" for _ in casefile.ACCESS_LOG)
    counts: dict[int | None, int] = {}
    numbers: dict[int, int] = {}
    for seq, case_id in db.execute(
        f"SELECT seq, case_id FROM entries WHERE case_id IN ({cases}) "
        f"AND kind NOT IN ({logged}) ORDER BY seq",
        *case_ids,
        *casefile.ACCESS_LOG,
    ):
        counts[case_id] = numbers[seq] = counts.get(case_id, 0) + 1
    return numbers


def _report(row: Entry, at: datetime, who: str, unlocked: Unlocked) -> Access:
    """A governors' report made: for which period, in what format, to which file."""
    data = chronology.open_payload(unlocked.keys.fields, row)
    when = f"{data.get('from')} to {data.get('to')}"
    if data.get("term"):
        when = f"{data['term']} ({when})"
    fmt, to = str(data.get("format", "")), (str(data["output"]) if data.get("output") else None)
    return Access(row.seq, at, who, "", "reported", format=fmt, to=to, kind=row.kind, period=when)


def _case_access(
    row: Entry, at: datetime, who: str, ref: str, payload: Callable[[Entry], dict[str, Any]]
) -> Access:
    """What an entry in a case's own chronology shows in the audit."""
    by_recovery = '"signed_by":"recovery"' in (row.facts or "")
    if row.kind == CASE_VIEWED:
        return Access(row.seq, at, who, ref, "viewed")
    if row.kind == ADDED:
        concern = _concern_of(row)
        return Access(row.seq, at, who, ref, CONCERN_TRIAGED, concern=concern, outcome="case")
    if row.kind in (ACCESS_GRANTED, ACCESS_REVOKED):
        data = payload(row)
        action = "granted" if row.kind == ACCESS_GRANTED else "revoked"
        return Access(
            row.seq,
            at,
            who,
            ref,
            action,
            to=str(data.get("user", "")),
            recovery=by_recovery,
        )
    if row.kind == Kind.EXPORT:
        data = payload(row)
        return Access(
            row.seq,
            at,
            who,
            ref,
            "exported",
            format=str(data.get("format", "")),
            redacted=bool(data.get("redacted")),
            to=str(data["to"]) if data.get("to") else None,
        )
    return Access(row.seq, at, who, ref, "recorded", kind=row.kind)


def view(
    unlocked: Unlocked,
    reference: str,
    *,
    categories: Categories | None,
    school: str,
    closures: Container[date] = (),
    now: Callable[[], datetime] | None = None,
    tz: tzinfo | None = None,
) -> timeline.Timeline:
    """A case's timeline for viewing; the view is recorded in the vault-level access log."""
    produced_at = (now or clock.now)()
    case, checkpoint = _viewed(unlocked, reference, produced_at)
    return timeline.build(
        case,
        school=school,
        categories=categories,
        checkpoint=checkpoint,
        produced_at=produced_at,
        produced_by=unlocked.user.name,
        closures=closures,
        tz=tz,
        since=transfers.said_in(transfers.every_sent(unlocked), case, closures),
    )
