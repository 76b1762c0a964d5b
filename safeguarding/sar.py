"""Subject access requests (UK GDPR, article 15): everything the vault holds about a person,
with every other person's name withheld, written to a file with a cover letter, and the
response date (one calendar month from the request) tracked until the request is marked done.

What is held about a person: every case about them (their file, with the files received from
their earlier schools), and every other case the reader may read that names them (as the one
who disclosed, or in any text: their full name as a whole phrase, in any letter case).  Each
name but theirs is replaced by a role label, as `export --redact` does.  A restricted case the
reader is not a member of is not there for them, and nothing says there is one: a request is
best answered by someone who may read every case.

A request is a signed vault event (`sar_made`, sealed with the field key: the person, the day
the request was received, the day the answer is due, the file's name and format, the cases,
the received files' cases, and those left out: see `sar_held`),
written in the transaction that reads the cases, with an export entry in each of them; `sar_done`
closes it.  Nothing here prints.
"""

from __future__ import annotations

import calendar
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeguarding import (
    casefile,
    chronology,
    clock,
    export,
    moments,
    people,
    personfile,
    redaction,
    sar_held,
    storage,
)
from safeguarding import received as received_files
from safeguarding.casefile import CaseFile
from safeguarding.db import Case, Db, Entry
from safeguarding.entries import Export
from safeguarding.errors import NotAllowed, NotFound, UsageError
from safeguarding.people_rows import SAR_DONE, SAR_MADE, PersonInfo

if TYPE_CHECKING:
    from safeguarding.redaction import Redactor
    from safeguarding.unlocked import Unlocked

FORMATS = ("pdf", "html", "json")


def response_due(received: date) -> date:
    """One calendar month after `received`: the same day of the next month, or that month's
    last day if it has no such day (31 January: 28 or 29 February)."""
    year, month = (
        (received.year + 1, 1) if received.month == 12 else (received.year, received.month + 1)
    )
    return date(year, month, min(received.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Request:
    """A subject access request as the chronology records it."""

    number: int
    person: int
    name: str
    received: date
    due: date
    entry: int
    at: datetime
    by: str
    format: str
    to: str
    cases: tuple[str, ...]
    done: int | None = None  # the entry that marked it done
    done_at: datetime | None = None
    done_by: str = ""
    #: The received files' cases it holds (school, reference), and the cases left out of it
    #: (a reference, or SCHOOL:REFERENCE for a received one).
    received_cases: tuple[tuple[str, str], ...] = ()
    left_out: tuple[str, ...] = ()

    @property
    def named(self) -> tuple[str, ...]:
        """Every case it holds, a received one with its school."""
        theirs = (sar_held.shown(f"{school}:{case}") for school, case in self.received_cases)
        return (*self.cases, *theirs)

    def state(self, today: date) -> str:
        """done, overdue (its response date has passed), or open."""
        if self.done is not None:
            return "done"
        return "overdue" if today > self.due else "open"


def _recorded(unlocked: Unlocked, db: Db) -> list[Request]:
    authors = casefile.user_names(db, unlocked.keys.field_key)
    found: dict[int, Request] = {}
    where = "case_id IS NULL AND kind IN (?, ?)"  # vault events: read through their index
    for row in db.all(Entry, where, SAR_MADE, SAR_DONE, order="seq"):
        data = chronology.open_payload(unlocked.keys.fields, row)
        number, at = int(data["sar"]), clock.from_text(row.recorded_at)
        by = authors.get(row.author_id, f"user {row.author_id}")
        if row.kind == SAR_MADE:
            found[number] = Request(
                number,
                int(data["person"]),
                str(data["name"]),
                date.fromisoformat(str(data["received"])),
                date.fromisoformat(str(data["due"])),
                row.seq,
                at,
                by,
                str(data["format"]),
                str(data["to"]),
                tuple(str(c) for c in data.get("cases", [])),
                received_cases=tuple(
                    (str(c["school"]), str(c["case"])) for c in data.get("received_cases", [])
                ),
                left_out=tuple(str(c) for c in data.get("left_out", [])),
            )
        elif number in found:
            found[number] = replace(found[number], done=row.seq, done_at=at, done_by=by)
    return [found[n] for n in sorted(found)]


def requests(unlocked: Unlocked) -> list[Request]:
    """Every subject access request, oldest first."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        return _recorded(unlocked, db)


def overdue(unlocked: Unlocked, today: date) -> list[Request]:
    """The requests not marked done whose response date has passed."""
    return [r for r in requests(unlocked) if r.state(today) == "overdue"]


def what(request: Request) -> str:
    """What an overdue request is, as `cases --overdue` lists it."""
    return f"response to the subject access request of person {request.person}"


def done(unlocked: Unlocked, number: int) -> Request:
    """Mark request `number` answered: `NotFound` (exit 4) if there is none, `NotAllowed`
    (exit 3) if it was marked already."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        found = _unanswered(unlocked, db, number)
        chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=unlocked.keys.fields,
            kind=SAR_DONE,
            payload={"sar": number, "person": found.person},
            facts={"sar": number},
            recorded_at=clock.now(),
        )
        return {r.number: r for r in _recorded(unlocked, db)}[number]


def _unanswered(unlocked: Unlocked, db: Db, number: int) -> Request:
    """Request `number`, not yet marked done: `NotFound` (exit 4) if there is none,
    `NotAllowed` (exit 3) if it was marked already."""
    found = {r.number: r for r in _recorded(unlocked, db)}.get(number)
    if found is None:
        raise NotFound(
            f"there is no subject access request {number}",
            hint="'safeguard sar list' lists them",
        )
    if found.done is not None:
        raise NotAllowed(
            f"subject access request {number} was marked done already (entry {found.done}); "
            "nothing was changed"
        )
    return found


# Finding what is held ------------------------------------------------------------------------


def _naming(name: str) -> re.Pattern[str]:
    """A person's full name as a whole phrase, in any letter case and spacing."""
    words = [re.escape(w) for w in unicodedata.normalize("NFC", name).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def _names(case: CaseFile, pattern: re.Pattern[str]) -> bool:
    texts = redaction._strings([e.data for e in case.entries])
    return any(pattern.search(unicodedata.normalize("NFC", t)) for t in texts)


@dataclass(frozen=True)
class _Chosen:
    """What an answer holds: this school's cases (each with its view), the received files
    (the cases left out taken out of them, `got` whole), and the tokens of those left out."""

    cases: list[tuple[Case, CaseFile]]
    received: list[received_files.ReceivedFile]
    got: list[received_files.ReceivedFile]
    left_out: list[str]


def _chosen(
    unlocked: Unlocked,
    db: Db,
    person: PersonInfo,
    leave_out: tuple[Sequence[str], Sequence[str]],
    school: str,
) -> _Chosen:
    """Every case about `person` the reader may read, every other one that names them, and
    the files received from their earlier schools, but the cases to leave out (`leave_out`:
    those asked, and those carried from the answer made before); `UsageError` for a case to
    leave out that the answer would not hold, or one whose reference is more than one's."""
    authors = casefile.user_names(db, unlocked.keys.field_key)
    pattern = _naming(person.name)
    found = []
    for case, ring, linked in people.case_links(unlocked, db):
        built = casefile.build(db, case, ring, authors)
        if person.id in linked.values() or _names(built, pattern):
            found.append((case, built))
    got = received_files.received(unlocked, db, person.id)
    held = [*sar_held.own(built for _, built in found), *sar_held.received(got)]
    asked, carried = leave_out
    tokens = sar_held.left_out(held, asked, carried, school)
    kept = [(case, built) for case, built in found if built.reference not in tokens]
    return _Chosen(kept, sar_held.without(got, tokens), got, tokens)


def check(
    unlocked: Unlocked,
    text: str,
    received: date,
    again: int | None,
    leave_out: tuple[Sequence[str], str],
) -> None:
    """What `make` would refuse, checked before anything is written: the person, the
    request answered again, the day it was received, the cases to leave out (`leave_out`:
    those asked, and this school's name)."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        person = people.find_in(unlocked, db, text)
        _, carried = _received(unlocked, db, person, received, again)
        asked, school = leave_out
        if asked:
            _chosen(unlocked, db, person, (asked, carried), school)


def _record(unlocked: Unlocked, db: Db, case: Case, payload: dict[str, Any]) -> None:
    """The case's part in a request: a redacted export entry in it."""
    personfile.exporter(unlocked, payload)(db, case, unlocked.case_ring(db, case, writing=True))


@dataclass(frozen=True)
class Made:
    """A request answered: the request, its file's bytes, and how many characters the PDF
    could not show."""

    request: Request
    path: Path
    checkpoint: str
    unshown: int = 0
    #: The cases it holds that call for a careful reading before it is sent, and why.
    review: tuple[str, ...] = ()
    again: bool = False  # an earlier request answered again


def check_received(text: str | None, today: date) -> date:
    """The day the request was received (default `today`), never after it."""
    if text is None:
        return today
    day = moments.parse_day(text)
    if day > today:
        raise UsageError(
            f"the request's date {day.isoformat()} is in the future; nothing was written",
            hint="give the day the request was received, e.g. 2026-03-14",
        )
    return day


def check_format(fmt: str) -> str:
    cleaned = fmt.strip().lower()
    if cleaned not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return cleaned


def make(
    unlocked: Unlocked,
    text: str,
    *,
    received: date,
    fmt: str,
    output: Path,
    layout: personfile.Layout,
    force: bool = False,
    leave_out: Sequence[str] = (),
    again: int | None = None,
) -> Made:
    """Answer a subject access request of the person `text` names, received on `received`:
    everything held about them, other people's names withheld, written to `output` in `fmt`
    behind a cover letter; recorded (the request, and an export entry in each case) in the
    transaction that reads it, the file written before that commits and named only after.
    `again`: answer that request again (in another format, or with cases left out), not yet
    marked done and of the same person, with its own dates."""
    fmt = check_format(fmt)
    target = export.Target(output, force)
    users = [(u.name, u.role.value) for u in unlocked.users()]
    vault = unlocked.vault
    try:
        with storage.guarded(vault.path), storage.writing(vault.connection) as db:
            unlocked.require_epoch(db)
            person = people.find_in(unlocked, db, text)
            received, carried = _received(unlocked, db, person, received, again)
            chosen = _chosen(unlocked, db, person, (leave_out, carried), layout.school)
            payload = Export(format=fmt, redacted=True, to=output.name).payload()
            for case, _ in chosen.cases:
                _record(unlocked, db, case, payload)
            entries = [e for _, f in chosen.cases for e in f.entries]
            redactor = redaction.Redactor.for_person(
                person.name, entries, users, sar_held.received_names(chosen.got)
            )
            files = [redactor.case(f) for _, f in chosen.cases]
            held = [*sar_held.own(files), *sar_held.received(chosen.received)]
            asked = (received, fmt, output.name)
            seq, number = _append(unlocked, db, person, asked, (held, chosen.left_out), again)
            got = chosen.received
            read = personfile.Read(person, [], files, chronology.head(db), seq, got, [])
            produced = (clock.now(), redactor.label(unlocked.user.name))
            made = _laid_out(personfile.assemble(read, layout, produced), redactor, layout)
            request = {r.number: r for r in _recorded(unlocked, db)}[number]
            cover = sar_held.cover(made, layout.school, (received, request.due), held)
            made = replace(made, combined=replace(made.combined, cover=cover))
            data, unshown = _render(made, request, fmt)
            target.write(data)
        target.commit("the vault's chronology", seq)
    except BaseException:
        target.discard()
        raise
    review = sar_held.to_review(held)
    return Made(request, output, str(read.checkpoint), unshown, review, again is not None)


def _received(
    unlocked: Unlocked, db: Db, person: PersonInfo, received: date, again: int | None
) -> tuple[date, tuple[str, ...]]:
    """When the request was received: `received`, or for a request answered again
    (`again`, of the same person, not yet done) its own day; never before the person's birth.
    With it, the cases left out of the answer made before (none for a new request), which
    stay left out."""
    carried: tuple[str, ...] = ()
    if again is not None:
        request = _unanswered(unlocked, db, again)
        if request.person != person.id:
            raise UsageError(
                f"subject access request {again} is about person {request.person}, not "
                f"{person.id}; nothing was written",
                hint="give the request's own person, or leave out --again for a new request",
            )
        received, carried = request.received, request.left_out
    if received < person.dob:
        raise UsageError(
            f"the request cannot have been received on {received.isoformat()}, before person "
            f"{person.id} was born ({person.dob.isoformat()}); nothing was written"
        )
    return received, carried


def _append(
    unlocked: Unlocked,
    db: Db,
    person: PersonInfo,
    asked: tuple[date, str, str],
    cases: tuple[list[sar_held.Held], list[str]],
    again: int | None = None,
) -> tuple[int, int]:
    """The request's own vault event (`asked`: when it was received, the answer's format and
    file; `cases`: those it holds, and the tokens of those left out): its place in the
    chronology, and its number.  `again`: the number of the request answered again, whose
    event this is too."""
    received, fmt, to = asked
    held, left_out = cases
    number = again if again is not None else _next_number(db)
    payload: dict[str, Any] = {
        "sar": number,
        "person": person.id,
        "name": person.name,
        "received": received.isoformat(),
        "due": response_due(received).isoformat(),
        "format": fmt,
        "to": to,
        "cases": [h.reference for h in held if not h.school],
        "received_cases": [
            {"school": h.school, "case": h.reference, "status": h.status} for h in held if h.school
        ],
        "left_out": left_out,
    }
    if again is not None:
        payload["again"] = True
    entry = chronology.append(
        db,
        signer=unlocked.signer,
        payload_key=unlocked.keys.fields,
        kind=SAR_MADE,
        payload=payload,
        facts={"sar": number},
        recorded_at=clock.now(),
    )
    return entry.seq, number


def _next_number(db: Db) -> int:
    """One more than the highest request's number (an answer made again keeps its own)."""
    rows = db.all(Entry, "case_id IS NULL AND kind = ?", SAR_MADE)
    return max((int(json.loads(row.facts or "{}").get("sar", 0)) for row in rows), default=0) + 1


def _laid_out(
    made: personfile.ChildFile, redactor: Redactor, layout: personfile.Layout
) -> personfile.ChildFile:
    """The file as a request's answer: the received files' entries and actions redacted (the
    cases' were before they were laid out), headed as the request."""
    items = tuple(i if i.id > 0 else sar_held.redact_item(i, redactor) for i in made.combined.items)
    actions = tuple(
        replace(a, text=redactor.text(a.text), owner=redactor.text(a.owner)) if a.school else a
        for a in made.combined.actions
    )
    combined = replace(
        made.combined,
        items=items,
        actions=actions,
        redacted=True,
        notice=f"REDACTED: every name but {made.person.name}'s is replaced by a role label.",
        reference=f"Subject access request: {made.person.name}",
    )
    return replace(made, combined=combined, links=(), key_people=())


def _render(made: personfile.ChildFile, request: Request, fmt: str) -> tuple[bytes, int]:
    if fmt == "json":
        from safeguarding import documents_sar, jsontext

        return (jsontext.dumps(documents_sar.answer(made, request)) + "\n").encode("utf-8"), 0
    return export.render_counted(made.combined, fmt)
