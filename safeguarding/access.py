"""Who read what: a case's timeline read for viewing (a vault-level `case_viewed` entry) or for
an export (an `export` entry in the case's own chronology), and the audit that lists them.

Both are ordinary chronology entries, so the access log is append-only and MAC-chained like
every record; nothing here writes anywhere else or prints.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from safeguarding import casefile, chronology, clock, storage, timeline
from safeguarding.casefile import KIND_TITLES, CaseFile
from safeguarding.chronology import Checkpoint
from safeguarding.models import Case, Entry
from safeguarding.timeline import CASE_VIEWED, EXPORT

if TYPE_CHECKING:
    from safeguarding.categories import Categories
    from safeguarding.vault import Unlocked


@dataclass(frozen=True)
class Snapshot:
    """A case read inside the transaction that recorded the read, and the head after it."""

    case: CaseFile
    checkpoint: Checkpoint
    entry: int
    session: Session


@contextmanager
def reading_case(
    unlocked: Unlocked,
    reference: str,
    kind: str,
    payload: dict[str, Any],
    now: Callable[[], datetime] | None = None,
) -> Iterator[Snapshot]:
    """Record one read of a case and yield the case as it then stands, in one write transaction.

    `kind` is `CASE_VIEWED` (a vault-level entry sealed with the field key) or `EXPORT` (an entry
    of the case, sealed with its key).  If the block raises, nothing is recorded.
    """
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.engine) as session:
        case = casefile.find_case(session, reference)
        case_key = unlocked.case_key(case)
        reference = casefile.format_reference(case.year, case.number)
        in_case = kind != CASE_VIEWED
        entry = chronology.append(
            session,
            signer=unlocked.signer,
            payload_key=case_key if in_case else unlocked.keys.field_key,
            kind=kind,
            payload=payload if in_case else {"case": reference, **payload},
            case_id=case.id if in_case else None,
            recorded_at=(now or clock.now)(),
        )
        authors = casefile.user_names(session, unlocked.keys.field_key)
        built = casefile.build(session, case, case_key, authors)
        yield Snapshot(built, chronology.head(session), entry.seq, session)


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
    """Read a case for `kind` (an `EXPORT`, an entry of the case, recorded `at`) without
    taking the write lock, so that laying a long case out as a PDF keeps no one else waiting.
    Nothing is written: `recording` writes the prepared entry if the head has not moved."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.engine) as session:
        case = casefile.find_case(session, reference)
        case_key = unlocked.case_key(case)
        after = chronology.head(session)
        row = chronology.prepare(
            session,
            signer=unlocked.signer,
            payload_key=case_key,
            kind=kind,
            payload=payload,
            case_id=case.id,
            recorded_at=at,
        )
        authors = casefile.user_names(session, unlocked.keys.field_key)
        rows = [*casefile.entry_rows(session, case), row]
        built = casefile.assemble(case, case_key, authors, rows)
    return Prepared(built, Checkpoint(row.seq, row.mac.hex()), row.seq, row, after)


@contextmanager
def recording(unlocked: Unlocked, prepared: Prepared) -> Iterator[bool]:
    """Take the write lock and, if the head is still the one the case was read after, write the
    prepared entry and yield True: it is committed when the block ends without an error, and
    not at all if the block raises.  If anyone wrote meanwhile, yield False and write nothing
    (the case must be read again)."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.engine) as session:
        if chronology.head(session) != prepared.after:
            yield False
            return
        chronology.insert(session, prepared.row)
        yield True


@dataclass(frozen=True)
class Access:
    """One view or export of a case, or (in one's own list) one entry one recorded."""

    entry: int
    at: datetime
    who: str
    case: str
    action: str  # "viewed", "exported" or "recorded"
    format: str | None = None
    redacted: bool = False
    to: str | None = None
    kind: str | None = None  # what was recorded

    @property
    def what(self) -> str:
        if self.action == "viewed":
            return "viewed the timeline"
        if self.action == "recorded":
            kind = str(self.kind)
            title = KIND_TITLES.get(kind, kind.replace("_", " ").capitalize())
            return f"recorded: {title.lower()}"
        text = f"exported {self.format}"
        if self.redacted:
            text += ", redacted"
        if self.to:
            text += f", to {timeline.destination(self.to)}"
        return text


def audit(unlocked: Unlocked, reference: str | None = None, *, mine: bool = False) -> list[Access]:
    """Every view and export, oldest first; only those of `reference` if given.

    With `mine`, every entry the acting user wrote instead (views and exports included): the
    chronology's own record of who wrote what, read back as their receipts."""
    vault = unlocked.vault
    found: list[Access] = []
    with storage.guarded(vault.path), storage.reading(vault.engine) as session:
        wanted: int | None = None
        if reference is not None:
            wanted = casefile.find_case(session, reference).id
        cases = {c.id: c for c in session.exec(select(Case)).all()}
        ids = {c.id: casefile.format_reference(c.year, c.number) for c in cases.values()}
        by_ref = {ref: case_id for case_id, ref in ids.items()}
        authors = casefile.user_names(session, unlocked.keys.field_key)
        query = select(Entry).order_by(col(Entry.seq))
        if mine:
            query = query.where(Entry.author_id == unlocked.user.id)
        else:
            query = query.where(col(Entry.kind).in_([CASE_VIEWED, EXPORT]))
        for row in session.exec(query).all():
            who = authors.get(row.author_id, f"user {row.author_id}")
            at = clock.from_text(row.recorded_at)
            if row.kind == CASE_VIEWED:
                data = chronology.open_payload(unlocked.keys.field_key, row)
                ref = str(data.get("case", ""))
                if wanted is None or by_ref.get(ref) == wanted:
                    found.append(Access(row.seq, at, who, ref, "viewed"))
            elif row.case_id is None:
                if wanted is None:
                    found.append(Access(row.seq, at, who, "", "recorded", kind=row.kind))
            elif wanted is None or row.case_id == wanted:
                if row.kind != EXPORT:
                    found.append(
                        Access(row.seq, at, who, ids[row.case_id], "recorded", kind=row.kind)
                    )
                    continue
                data = chronology.open_payload(unlocked.case_key(cases[row.case_id]), row)
                found.append(
                    Access(
                        row.seq,
                        at,
                        who,
                        ids[row.case_id],
                        "exported",
                        format=str(data.get("format", "")),
                        redacted=bool(data.get("redacted")),
                        to=str(data["to"]) if data.get("to") else None,
                    )
                )
    return found


def view(
    unlocked: Unlocked,
    reference: str,
    *,
    categories: Categories | None,
    school: str,
    closures: Collection[date] = (),
    now: Callable[[], datetime] | None = None,
    tz: tzinfo | None = None,
) -> timeline.Timeline:
    """A case's timeline for viewing; the view is recorded in the vault-level access log."""
    produced_at = (now or clock.now)()
    with reading_case(unlocked, reference, CASE_VIEWED, {}, now=lambda: produced_at) as snap:
        return timeline.build(
            snap.case,
            school=school,
            categories=categories,
            checkpoint=snap.checkpoint,
            produced_at=produced_at,
            produced_by=unlocked.user.name,
            closures=closures,
            tz=tz,
        )
