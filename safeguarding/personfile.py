"""The child's file: one person's cover sheet (who they are, who they are linked to, their open
cases, the people who have worked with them, their last transfer) and one chronology across
every case about them that the reader may read, in event order, each entry marked with its case.

Reading it is recorded as reading each of its cases is (a view, or an export entry in each
case), with a vault event naming the person, in the one transaction that reads them: the
checkpoint it shows includes those records.  A restricted case the reader is not a member of is
not in it, and nothing in it says there is one.  Nothing here prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeguarding import (
    casefile,
    chronology,
    clock,
    documents_people,
    export,
    moments,
    people,
    storage,
    summaries,
    timeline,
    transfers,
)
from safeguarding import received as received_files
from safeguarding.access import _record_read
from safeguarding.casefile import VIEWED, CaseFile
from safeguarding.chronology import Checkpoint
from safeguarding.crypto import KeyRing
from safeguarding.db import Case, Db
from safeguarding.entries import Export
from safeguarding.people_rows import FILE_EXPORTED, FILE_VIEWED, PersonInfo
from safeguarding.vocabulary import Kind

if TYPE_CHECKING:
    from safeguarding.categories import Categories
    from safeguarding.vault import Unlocked

#: What the cover says of transfers until the file has been sent to another school.
NO_TRANSFER = "none"


@dataclass(frozen=True)
class ChildFile:
    """A person's file as read: their cover, each case's own timeline, and one chronology."""

    person: PersonInfo
    links: tuple[people.Linked, ...]
    open_cases: tuple[str, ...]
    key_people: tuple[str, ...]
    cases: tuple[timeline.Timeline, ...]
    combined: timeline.Timeline  # the cover sheet, then every case's entries in event order
    order: tuple[tuple[str, timeline.Item], ...]  # each entry with its case, in event order
    # files received from the child's previous schools, and this file's transfers to others
    received: tuple[received_files.ReceivedFile, ...] = ()
    sent: tuple[transfers.Transfer, ...] = ()


@dataclass(frozen=True)
class Layout:
    """How a file is laid out: the school's settings and the moment it is produced."""

    school: str
    categories: Categories | None
    closures: Container[date] = ()
    tz: tzinfo | None = None


#: Records one read of a case in the caller's write transaction.
Recorder = Callable[[Db, Case, KeyRing], None]


@dataclass(frozen=True)
class Read:
    person: PersonInfo
    links: list[people.Linked]
    files: list[CaseFile]
    checkpoint: Checkpoint
    entry: int  # the file's own vault event (0: none, the caller records it)
    received: list[received_files.ReceivedFile] = field(default_factory=list)
    sent: list[transfers.Transfer] = field(default_factory=list)
    #: Every transfer sent, whoever's file it was: its cases' export entries say where, and how.
    every_sent: list[transfers.Transfer] = field(default_factory=list)

    @property
    def case_ids(self) -> list[int]:
        return [found.case_id for found in self.files]


def _read(
    unlocked: Unlocked,
    db: Db,
    text: str,
    record: Recorder,
    event: tuple[str, dict[str, Any]] | None,
) -> Read:
    """The person, their links and their cases, each read recorded by `record` and the file's
    own vault event (`event`: kind, payload) appended, in the caller's write transaction."""
    person = people.find_in(unlocked, db, text)
    links = people.links_in(unlocked, db, person.id)
    found = people.cases_of(unlocked, db, person.id)
    own = 0
    if event is not None:
        kind, payload = event
        own = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=unlocked.keys.fields,
            kind=kind,
            payload={"person": person.id, **payload},
            recorded_at=clock.now(),
        ).seq
    rings = []
    for case, _ in found:
        ring = unlocked.case_ring(db, case, writing=True)
        record(db, case, ring)
        rings.append((case, ring))
    authors = casefile.user_names(db, unlocked.keys.field_key)
    files = [casefile.build(db, case, ring, authors) for case, ring in rings]
    got = received_files.received(unlocked, db, person.id)
    every = transfers.sent(unlocked, db)
    sent = [t for t in every if t.person == person.id]
    return Read(person, links, files, chronology.head(db), own, got, sent, every)


def _cover(made: ChildFile, school: str) -> tuple[tuple[str, str], ...]:
    person = made.person
    linked = [f"{link.person.label}: {link.relation}" for link in made.links]
    cases = [
        f"{t.reference} ({t.status}, {t.category_title or t.category_code})" for t in made.cases
    ]
    nothing = "none here (see Received from)" if made.received else "none"
    return (
        ("School", school),
        ("Name", person.name),
        ("Date of birth", person.dob.isoformat()),
        ("Year group", person.year_group or "—"),
        ("UPN", person.upn or "—"),
        ("Role", person.role),
        ("Linked people", "\n".join(linked) or "none"),
        ("Open cases", "\n".join(made.open_cases) or nothing),
        ("Cases", "\n".join(cases) or nothing),
        ("Key people", "\n".join(made.key_people) or "none"),
        *_received(made.received),
        ("Last transfer", _last_transfer(made.sent)),
    )


def _received(received: Sequence[received_files.ReceivedFile]) -> list[tuple[str, str]]:
    """Where the child's earlier files came from, what each held and who they were linked to
    there."""
    lines = []
    for r in received:
        came = f"passed on by {r.via}" if r.via else f"imported {moments.local_text(r.received_at)}"
        lines.append(
            f"{r.school}: sent {moments.local_text(r.sent_at)} by {r.sent_by}, {came} by "
            f"{r.received_by} (their checkpoint {r.checkpoint.split(':')[0]}:"
            f"{r.checkpoint.split(':')[-1][:16]})"
        )
        lines += [f"  case {case}" for case in r.cases]
        lines += [f"  linked there: {', '.join(r.linked)}"] if r.linked else []
    return [("Received from", "\n".join(lines))] if lines else []


def sending(made: ChildFile, transfer: str) -> ChildFile:
    """The file as it goes to another school: its cover names this transfer as its last."""
    cover = tuple(
        (label, f"{transfer} (this file)" if label == "Last transfer" else value)
        for label, value in made.combined.cover
    )
    return replace(made, combined=replace(made.combined, cover=cover))


def _last_transfer(sent: Sequence[transfers.Transfer]) -> str:
    last = transfers.last_standing(sent)
    if last is None:
        return NO_TRANSFER
    return f"to {last.school}, {moments.local_text(last.sent_at)} ({last.state})"


def assemble(read: Read, layout: Layout, produced: tuple[datetime, str]) -> ChildFile:
    """The file from what was read: each case's timeline, then one chronology of them all."""
    person, links, files, checkpoint = read.person, read.links, read.files, read.checkpoint
    produced_at, produced_by = produced
    views = tuple(
        timeline.build(
            case,
            school=layout.school,
            categories=layout.categories,
            checkpoint=checkpoint,
            produced_at=produced_at,
            produced_by=produced_by,
            closures=layout.closures,
            tz=layout.tz,
            since=transfers.said_in(read.every_sent, case, layout.closures),
        )
        for case in files
    )
    marked = [
        (view.reference, replace(item, title=f"{view.reference} · {item.title}"))
        for view in views
        for item in view.items
    ]
    marked.sort(key=lambda pair: (pair[1].at, pair[1].id))
    theirs = received_files.items(read.received)
    items = sorted([item for _, item in marked] + theirs, key=lambda item: (item.at, item.id))
    authors = {item.author for item in items if item.kind != Kind.EXPORT}
    combined = _combined(person, views, items, layout, read)
    combined = replace(combined, produced_at=produced_at, produced_by=produced_by)
    made = ChildFile(
        person=person,
        links=tuple(links),
        open_cases=tuple(v.reference for v in views if v.status == "open"),
        key_people=tuple(sorted(authors, key=str.casefold)),
        cases=views,
        combined=combined,
        order=tuple(marked),
        received=tuple(read.received),
        sent=tuple(read.sent),
    )
    return replace(made, combined=replace(combined, cover=_cover(made, layout.school)))


def _combined(
    person: PersonInfo,
    views: Sequence[timeline.Timeline],
    items: Sequence[timeline.Item],
    layout: Layout,
    read: Read,
) -> timeline.Timeline:
    """One chronology of every case's entries (`items`, in event order), their actions each
    marked with its case: the received files' first, then this school's own."""
    first = min((item.at for item in items), default=clock.from_text(person.created_at))
    return timeline.Timeline(
        school=layout.school,
        reference=f"File of {person.name}",
        category_code="",
        category_title="",
        section="",
        subjects=((person.name, person.role),),
        status="",
        stage="",
        opened_at=first,
        closed_at=None,
        outcome=None,
        referrals=(),
        next_title="",
        next_due=None,
        next_overdue=False,
        overdue=(),
        items=tuple(items),
        actions=(
            *received_files.actions(read.received),
            *(
                replace(action, text=f"{v.reference}: {action.text}")
                for v in views
                for action in v.actions
            ),
        ),
        checkpoint=read.checkpoint,
        produced_at=first,
        produced_by="",
        tz=layout.tz,
    )


def view(unlocked: Unlocked, text: str, layout: Layout) -> ChildFile:
    """A person's file for viewing: each of its cases' views recorded as `timeline` records
    one, and the file's own, in one transaction."""

    def record(db: Db, case: Case, ring: KeyRing) -> None:
        _record_read(unlocked, db, case, ring, VIEWED, {}, clock.now())

    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        read = _read(unlocked, db, text, record, (FILE_VIEWED, {}))
    return assemble(read, layout, (clock.now(), unlocked.user.name))


@dataclass(frozen=True)
class FileExported:
    person: PersonInfo
    format: str
    path: Path | None
    data: bytes | None  # the export itself when it goes to standard output
    checkpoint: str
    cases: tuple[str, ...]
    entry: int  # the file's own vault event
    unshown: int = 0


def render(made: ChildFile, fmt: str, width: int) -> tuple[bytes, int]:
    """The file's bytes in `fmt`: the json is one structured document (`safeguard.file`)."""
    if fmt == "json":
        document = documents_people.child_file(made)
        return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), 0
    return export.render_counted(made.combined, fmt, width)


def export_file(
    unlocked: Unlocked,
    text: str,
    *,
    fmt: str,
    output: Path | None,
    layout: Layout,
    force: bool = False,
    width: int = export.DEFAULT_WIDTH,
) -> FileExported:
    """Export a person's file to `output` (None: return the bytes), recorded as an export
    entry in each of its cases and a vault event naming the person, in the transaction that
    reads them; the file is written before that commits, and named only after."""
    fmt = export.check_format(fmt)
    width = export.check_width(width)
    target = export.Target(output, force) if output is not None else None
    to = output.name if output else "-"
    payload = Export(format=fmt, redacted=False, to=to).payload()
    vault = unlocked.vault
    try:
        with storage.guarded(vault.path), storage.writing(vault.connection) as db:
            unlocked.require_epoch(db)
            event = (FILE_EXPORTED, {"format": fmt, "to": to})
            read = _read(unlocked, db, text, exporter(unlocked, payload), event)
            made = assemble(read, layout, (clock.now(), unlocked.user.name))
            data, unshown = render(made, fmt, width)
            if target is not None:
                target.write(data)
        if target is not None:
            target.commit("the vault's chronology", read.entry)
    except BaseException:
        if target is not None:
            target.discard()
        raise
    return FileExported(
        person=made.person,
        format=fmt,
        path=output,
        data=None if target is not None else data,
        checkpoint=str(read.checkpoint),
        cases=tuple(view.reference for view in made.cases),
        entry=read.entry,
        unshown=unshown,
    )


def exporter(unlocked: Unlocked, payload: dict[str, Any]) -> Recorder:
    """Records a case's part in an export of a file: an export entry in the case."""

    def record(db: Db, case: Case, ring: KeyRing) -> None:
        reference = casefile.format_reference(case.year, case.number)
        entry = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=ring,
            kind=Kind.EXPORT,
            payload=payload,
            case_id=case.id,
            recorded_at=clock.now(),
        )
        summaries.follow(db, case.id, reference, ring, entry, payload)

    return record


def read_for_export(unlocked: Unlocked, db: Db, text: str, payload: dict[str, Any]) -> Read:
    """A person's file read to be taken out of the vault (an export entry with `payload` in
    each of its cases), its own vault event left to the caller, in its write transaction."""
    return _read(unlocked, db, text, exporter(unlocked, payload), None)
