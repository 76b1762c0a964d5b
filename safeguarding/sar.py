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
the request was received, the day the answer is due, the file's name and format, the cases),
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
    storage,
)
from safeguarding import received as received_files
from safeguarding.casefile import CaseFile
from safeguarding.db import Case, Db, Entry
from safeguarding.entries import Export, kind_of
from safeguarding.errors import NotAllowed, NotFound, UsageError
from safeguarding.people_rows import SAR_DONE, SAR_MADE, PersonInfo
from safeguarding.timeline import Item
from safeguarding.vocabulary import Kind

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


def _held(
    unlocked: Unlocked,
    db: Db,
    person: PersonInfo,
    payload: dict[str, Any],
    leave_out: Sequence[str] = (),
) -> list[CaseFile]:
    """Every case about `person` the reader may read, and every other one that names them,
    but those to `leave_out` (references), each recorded by an export entry (`payload`) in
    it; `UsageError` for a case to leave out that the answer would not hold."""
    authors = casefile.user_names(db, unlocked.keys.field_key)
    pattern = _naming(person.name)
    found = []
    for case, ring, linked in people.case_links(unlocked, db):
        built = casefile.build(db, case, ring, authors)
        if person.id in linked.values() or _names(built, pattern):
            found.append((case, built))
    left = {reference.strip().upper() for reference in leave_out}
    unknown = left - {built.reference for _, built in found}
    if unknown:
        raise UsageError(
            f"{', '.join(sorted(unknown))} is not among the cases this answer holds; nothing "
            "was written"
        )
    found = [(case, built) for case, built in found if built.reference not in left]
    for case, _ in found:
        _record(unlocked, db, case, payload)
    return [built for _, built in found]


def _record(unlocked: Unlocked, db: Db, case: Case, payload: dict[str, Any]) -> None:
    """The case's part in a request: a redacted export entry in it."""
    personfile.exporter(unlocked, payload)(db, case, unlocked.case_ring(db, case, writing=True))


def _received_names(received: list[received_files.ReceivedFile]) -> list[tuple[str, str]]:
    """The names a received file holds besides its subject's: its authors and senders, the
    people its cases are about, and those its entries name (as the kind of each names them,
    as this vault's own are found)."""
    found = [(r.sent_by, "Staff member") for r in received]
    found += [(r.received_by, "Staff member") for r in received]
    for r in received:
        for case in r.document.get("cases", []):
            found += _listed(case.get("subjects"), "Subject")
            for entry in case.get("entries", []):
                found.append((str(entry.get("author", "")), "Staff member"))
                data = entry.get("data")
                if isinstance(data, dict):
                    found += _listed(data.get("subjects"), "Subject")
                    found += _listed(data.get("about"), "Person")
                    for field_name, _ in kind_of(str(entry.get("kind"))).named:
                        if isinstance(data.get(field_name), str):
                            found.append((data[field_name], "Person"))
    return found


def _listed(people: Any, label: str) -> list[tuple[str, str]]:
    """The names in a list of people as a payload holds them (each with its `name`)."""
    if not isinstance(people, list):
        return []
    return [(str(p.get("name", "")), label) for p in people if isinstance(p, dict)]


def _redact_item(item: Item, redactor: Redactor) -> Item:
    """An entry of a received file with every name but the person's replaced."""
    return replace(
        item,
        title=redactor.text(item.title),
        author=redactor.text(item.author),
        facts=tuple(replace(f, value=redactor.text(f.value)) for f in item.facts),
        text=redactor.text(item.text),
        observations=redactor.text(item.observations),
        after=tuple(replace(f, value=redactor.text(f.value)) for f in item.after),
        byline=redactor.text(item.byline),
        data=redactor.value(item.data),
    )


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


def _to_review(files: Sequence[CaseFile]) -> tuple[str, ...]:
    """Each case whose contents may have to be withheld: one still open (what is said in it
    may prejudice an inquiry, or put the child at risk), one about a member of staff."""
    found = []
    for case in files:
        why = []
        if case.status == "open":
            why.append("still open")
        disclosure = next((e for e in case.entries if e.kind == Kind.DISCLOSURE), None)
        subjects = disclosure.data.get("subjects", []) if disclosure else []
        if any(str(s.get("role")) in ("staff", "volunteer") for s in subjects):
            why.append("about a member of staff")
        if why:
            found.append(f"{case.reference} ({', '.join(why)})")
    return tuple(found)


def _letter(person: PersonInfo, school: str, received: date, due: date, cases: int) -> str:
    return (
        f"Dear {person.name},\n\n"
        f"On {received.isoformat()} you asked {school} for the personal information it holds "
        f"about you. This is all of it that the school's safeguarding records hold: "
        f"{cases} case{'s' if cases != 1 else ''} about you or naming you, each entry as it was "
        "recorded. The names of other people have been withheld, each replaced by a label in "
        "square brackets, such as [Discloser] or [DSL], to protect their information.\n\n"
        f"The school answers within one calendar month of your request: by {due.isoformat()}."
    )


def _cover(
    made: personfile.ChildFile, school: str, received: date, due: date
) -> tuple[tuple[str, str], ...]:
    person = made.person
    return (
        ("School", school),
        ("Subject access request of", f"{person.name} (born {person.dob.isoformat()})"),
        ("Request received", received.isoformat()),
        ("Response due", due.isoformat()),
        ("Letter", _letter(person, school, received, due, len(made.cases))),
        ("Cases", "\n".join(f"{t.reference} ({t.status})" for t in made.cases) or "none"),
    )


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
            received = _received(unlocked, db, person, received, again)
            payload = Export(format=fmt, redacted=True, to=output.name).payload()
            files = _held(unlocked, db, person, payload, leave_out)
            got = received_files.received(unlocked, db, person.id)
            entries = [e for f in files for e in f.entries]
            redactor = redaction.Redactor.for_person(
                person.name, entries, users, _received_names(got)
            )
            files = [redactor.case(f) for f in files]
            asked = (received, fmt, output.name)
            seq, number = _append(unlocked, db, person, asked, files, sorted(leave_out), again)
            read = personfile.Read(person, [], files, chronology.head(db), seq, got, [])
            produced = (clock.now(), redactor.label(unlocked.user.name))
            made = _laid_out(personfile.assemble(read, layout, produced), redactor, layout)
            request = {r.number: r for r in _recorded(unlocked, db)}[number]
            made = replace(
                made,
                combined=replace(
                    made.combined, cover=_cover(made, layout.school, received, request.due)
                ),
            )
            data, unshown = _render(made, request, fmt)
            target.write(data)
        target.commit("the vault's chronology", seq)
    except BaseException:
        target.discard()
        raise
    return Made(
        request, output, str(read.checkpoint), unshown, _to_review(files), again is not None
    )


def _received(
    unlocked: Unlocked, db: Db, person: PersonInfo, received: date, again: int | None
) -> date:
    """When the request was received: `received`, or for a request answered again
    (`again`, of the same person, not yet done) its own day; never before the person's birth."""
    if again is not None:
        request = _unanswered(unlocked, db, again)
        if request.person != person.id:
            raise UsageError(
                f"subject access request {again} is about person {request.person}, not "
                f"{person.id}; nothing was written",
                hint="give the request's own person, or leave out --again for a new request",
            )
        received = request.received
    if received < person.dob:
        raise UsageError(
            f"the request cannot have been received on {received.isoformat()}, before person "
            f"{person.id} was born ({person.dob.isoformat()}); nothing was written"
        )
    return received


def _append(
    unlocked: Unlocked,
    db: Db,
    person: PersonInfo,
    asked: tuple[date, str, str],
    files: list[CaseFile],
    left_out: list[str],
    again: int | None = None,
) -> tuple[int, int]:
    """The request's own vault event (`asked`: when it was received, the answer's format and
    file): its place in the chronology, and its number.  `again`: the number of the request
    answered again, whose event this is too."""
    received, fmt, to = asked
    number = again if again is not None else _next_number(db)
    payload: dict[str, Any] = {
        "sar": number,
        "person": person.id,
        "name": person.name,
        "received": received.isoformat(),
        "due": response_due(received).isoformat(),
        "format": fmt,
        "to": to,
        "cases": [f.reference for f in files],
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
    items = tuple(i if i.id > 0 else _redact_item(i, redactor) for i in made.combined.items)
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
