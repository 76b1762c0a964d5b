"""Children's files received from other schools, as their entries are shown here.

Each import is a signed vault event (`FILE_RECEIVED`) that keeps what the package held, whole.
A file that came to the sending school from a school before it is inside what it sent (its
`received`): it is shown too, as that earlier school's, so a child's history reads whole however
many schools it passed through.  A file sent again, later, by the same school repeats what its
earlier one held: each entry is shown once, from the newest file.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from safeguarding import casefile, chronology, clock, moments
from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.casestate import CaseState
from safeguarding.db import Db, Entry
from safeguarding.entries import Fact, kind_of, title_of
from safeguarding.errors import NotFound, UsageError
from safeguarding.timeline import ActionRow, Item
from safeguarding.vocabulary import Kind

if TYPE_CHECKING:
    from safeguarding.unlocked import Unlocked

FILE_RECEIVED = "file_received"


@dataclass(frozen=True)
class ReceivedFile:
    """A child's file received from another school, as it was sent: `document` is the sending
    vault's `safeguard.file` document.  `via`: the school that passed it on, for a file that
    came inside another school's (empty for one imported here)."""

    person: int
    transfer: str
    school: str
    sent_by: str
    sent_at: datetime
    checkpoint: str
    received_at: datetime
    received_by: str
    document: dict[str, Any]
    via: str = ""

    @property
    def cases(self) -> list[str]:
        """Its cases as they stood when it was sent: reference, status, and category as the
        sending school's own cover gives them."""
        found = []
        for case in self.document.get("cases", []):
            category = case.get("category")
            named = (
                category.get("title") or category.get("code") if isinstance(category, dict) else ""
            )
            found.append(f"{case.get('case')} ({case.get('status')} when sent, {named or '?'})")
        return found

    @property
    def linked(self) -> list[str]:
        """The people linked to the child there, and how."""
        return [
            f"{link.get('name')} ({link.get('as')})" for link in self.document.get("linked", [])
        ]


def received(unlocked: Unlocked, db: Db, person: int | None = None) -> list[ReceivedFile]:
    """The files this vault has imported (only those of `person`, if given), oldest first,
    each followed by the files that came inside it."""
    where = "case_id IS NULL AND kind = ?"
    params: list[Any] = [FILE_RECEIVED]
    if person is not None:
        where += " AND facts = ?"
        params.append(chronology.canonical({"person": person}))
    rows = db.all(Entry, where, *params, order="seq")
    if not rows:
        return []
    authors = casefile.user_names(db, unlocked.keys.field_key)
    found = []
    for entry in rows:
        payload = chronology.open_payload(unlocked.keys.fields, entry)
        imported = _file(entry, payload, authors)
        found += [imported, *_inside(imported)]
    return found


def _file(entry: Entry, payload: dict[str, Any], authors: dict[int, str]) -> ReceivedFile:
    """A file imported here, as its vault event keeps it."""
    contents = payload["contents"]
    return ReceivedFile(
        person=int(payload["person"]),
        transfer=str(payload["transfer"]),
        school=str(contents["from"]["school"]),
        sent_by=str(contents["from"]["sent_by"]),
        sent_at=datetime.fromisoformat(str(contents["sent_at"])),
        checkpoint=str(contents["from"]["checkpoint"]),
        received_at=clock.from_text(entry.recorded_at),
        received_by=authors.get(entry.author_id, f"user {entry.author_id}"),
        document=contents["file"],
    )


@dataclass(frozen=True)
class Imported:
    """A package imported here, numbered 1, 2, … in the order this vault imported them: the
    file it held, the files from earlier schools inside it, and the PDF its sender made."""

    number: int
    entry: int  # its vault event's place in the chronology
    file: ReceivedFile
    earlier: tuple[str, ...]  # the schools whose files came inside it
    pdf: bytes | None  # as the sending school made it, byte for byte; None if it held none


def imported(unlocked: Unlocked, db: Db) -> list[Imported]:
    """Every package this vault has imported, oldest first."""
    rows = db.all(Entry, "case_id IS NULL AND kind = ?", FILE_RECEIVED, order="seq")
    authors = casefile.user_names(db, unlocked.keys.field_key) if rows else {}
    found = []
    for number, entry in enumerate(rows, start=1):
        payload = chronology.open_payload(unlocked.keys.fields, entry)
        file = _file(entry, payload, authors)
        sent = payload["contents"].get("pdf")
        pdf = base64.b64decode(str(sent), validate=True) if sent else None
        earlier = tuple(inner.school for inner in _inside(file))
        found.append(Imported(number, entry.seq, file, earlier, pdf))
    return found


def find_imported(found: list[Imported], text: str) -> Imported:
    """The package imported as number `text` (`UsageError` if it is not a number, `NotFound`
    if there is none)."""
    cleaned = text.strip()
    if not (cleaned.isascii() and cleaned.isdigit() and len(cleaned) < 10):
        raise UsageError(f"{text!r} is not a received file's number", hint=_LISTED)
    for one in found:
        if one.number == int(cleaned):
            return one
    raise NotFound(f"no received file is numbered {cleaned}", hint=_LISTED)


_LISTED = "'safeguard import list' lists the files received, with their numbers"


def _inside(outer: ReceivedFile) -> Iterator[ReceivedFile]:
    """The files that came to `outer`'s school from schools before it, and so on back."""
    for earlier in outer.document.get("received", []):
        nested = ReceivedFile(
            person=outer.person,
            transfer=outer.transfer,
            school=str(earlier["school"]),
            sent_by=str(earlier["sent_by"]),
            sent_at=datetime.fromisoformat(str(earlier["sent_at"])),
            checkpoint=str(earlier["their_checkpoint"]),
            received_at=datetime.fromisoformat(str(earlier["received_at"])),
            received_by=str(earlier["received_by"]),
            document=earlier["file"],
            via=outer.school,
        )
        yield nested
        yield from _inside(nested)


def imported_before(unlocked: Unlocked, db: Db, transfer: str) -> tuple[str, int] | None:
    """When, and into which person, the package of `transfer` was imported before, if it was."""
    for earlier in received(unlocked, db):
        if earlier.transfer == transfer and not earlier.via:
            return moments.local_text(earlier.received_at), earlier.person
    return None


def items(files: list[ReceivedFile]) -> list[Item]:
    """The entries of received files as items of this vault's timelines, each once (from the
    newest file that holds it): headed with the school that wrote it and its case there, by
    its author there, with its text as it was sent and its facts as its kind shows this
    vault's own (an entry of a kind this release does not know, or of another shape, lists
    its fields as they were sent).  Their ids are below 0, so they never meet this vault's
    own, and within a file follow the order the sending school recorded its entries in, so a
    correction comes after what it corrects there as it does here."""
    shown: list[Item] = []
    seen: set[tuple[str, str, int]] = set()
    for file in sorted(files, key=lambda f: f.sent_at, reverse=True):
        shown += _items_of(file, -1 - len(shown), seen)
    return shown


def _items_of(file: ReceivedFile, start: int, seen: set[tuple[str, str, int]]) -> list[Item]:
    fresh = []
    for case in file.document.get("cases", []):
        for entry in case.get("entries", []):
            key = (file.school, str(case.get("case")), int(entry["id"]))
            if key not in seen:
                seen.add(key)
                fresh.append((case, entry))
    # The sending vault's ids, in its order, onto this file's block below `start`.
    sent = sorted({int(entry["id"]) for _, entry in fresh})
    ids = {sent_id: start - len(sent) + 1 + place for place, sent_id in enumerate(sent)}
    views = {id(case): _view(file, case) for case, _ in fresh}
    read = {(key, e.id): (e, view) for key, view in views.items() for e in view.entries}
    return [
        _item(file, case, entry, ids, read[id(case), int(entry["id"])]) for case, entry in fresh
    ]


def _item(
    file: ReceivedFile,
    case: dict[str, Any],
    entry: dict[str, Any],
    ids: dict[int, int],
    read: tuple[CaseEntry, CaseFile],
) -> Item:
    sent = entry.get("data")
    data = dict(sent) if isinstance(sent, dict) else {}
    observations = str(data.pop("observations", "") or "")
    facts, byline = tuple(_facts(data)), ""
    after: tuple[Fact, ...] = ()
    own = _as_own(*read)
    if own is not None:
        facts, after, observations, byline = own
    said = entry.get("since")  # what the sending school said of it since (a transfer withdrawn)
    since = tuple(
        Fact(str(n["label"]), str(n["value"]))
        for n in (said if isinstance(said, list) else [])
        if isinstance(n, dict) and "label" in n and "value" in n
    )
    amends = entry.get("amends")
    return Item(
        id=ids[int(entry["id"])],
        number=int(entry["number"]),
        kind=str(entry["kind"]),
        title=f"{file.school}, {case['case']} · {title_of(str(entry['kind']))}",
        at=datetime.fromisoformat(str(entry["at"])),
        recorded_at=datetime.fromisoformat(str(entry["recorded_at"])),
        late=bool(entry.get("late")),
        author=_author(file, entry),
        facts=facts,
        text=str(entry.get("text") or ""),
        observations=observations,
        amends=None if amends is None else ids.get(int(amends)),
        amended_by=tuple(ids[int(i)] for i in entry.get("amended_by", []) if int(i) in ids),
        data=data,
        after=(*after, *since),
        byline=byline,
        since=since,
    )


def actions(files: list[ReceivedFile]) -> list[ActionRow]:
    """The actions of received files' cases, each case's once (from the newest file that
    holds it), the oldest file's first: as the sending school's timeline lists them, each
    marked with its school and its case there.  Only that school could record one done, so
    one it had not is open here, never overdue."""
    seen: set[tuple[str, str]] = set()
    newest_first: list[list[ActionRow]] = []
    for file in sorted(files, key=lambda f: f.sent_at, reverse=True):
        rows: list[ActionRow] = []
        for case in file.document.get("cases", []):
            if (file.school, str(case.get("case"))) not in seen:
                seen.add((file.school, str(case.get("case"))))
                rows += _actions_of(file, _view(file, case))
        newest_first.append(rows)
    return [row for rows in reversed(newest_first) for row in rows]


def _actions_of(file: ReceivedFile, view: CaseFile) -> list[ActionRow]:
    """A case's actions as its action entries leave them, each read as this vault reads its
    own (an entry of another shape, or one done of an action the case does not hold, is left
    out: it shows its fields as they were sent)."""
    state = CaseState(view.reference, "", view.opened_at, [])
    for entry in sorted(view.entries, key=lambda e: e.id):
        kind = kind_of(entry.kind)
        if entry.kind not in (Kind.ACTION, Kind.ACTION_DONE) or not kind.fits(
            {key: value for key, value in entry.data.items() if key != "text"}
        ):
            continue
        try:
            kind.apply(state, entry)
        except (LookupError, TypeError, ValueError):
            continue
    return [
        ActionRow(
            number=a.number,
            text=f"{file.school}, {view.reference}: {a.text}",
            owner=a.owner,
            due=a.due,
            set_at=a.added_at,
            done_at=a.done_at,
            overdue=False,
            school=file.school,
        )
        for a in sorted(state.actions.values(), key=lambda a: a.number)
    ]


def _author(file: ReceivedFile, entry: dict[str, Any]) -> str:
    return f"{entry['author']} ({file.school})"


def _view(file: ReceivedFile, case: dict[str, Any]) -> CaseFile:
    """A case as it was sent, read as this vault reads its own: its entries with their
    fields and text, the disclosure with the case's subjects (a case's document gives them
    once, at its head), each by the sending vault's ids, which its amendments name."""
    entries = []
    for entry in case.get("entries", []):
        sent = entry.get("data")
        data = dict(sent) if isinstance(sent, dict) else {}
        subjects = case.get("subjects")
        if entry.get("kind") == Kind.DISCLOSURE and "subjects" not in data and subjects:
            data["subjects"] = subjects
        entries.append(
            CaseEntry(
                id=int(entry["id"]),
                kind=str(entry["kind"]),
                event_at=datetime.fromisoformat(str(entry["at"])),
                recorded_at=datetime.fromisoformat(str(entry["recorded_at"])),
                author=_author(file, entry),
                data={**data, "text": str(entry.get("text") or "")},
                number=int(entry["number"]),
            )
        )
    return CaseFile(
        reference=str(case.get("case")),
        case_id=0,
        opened_at=min((e.event_at for e in entries), default=file.sent_at),
        status=str(case.get("status")),
        entries=tuple(entries),
    )


Own = tuple[tuple[Fact, ...], tuple[Fact, ...], str, str]


def _as_own(entry: CaseEntry, view: CaseFile) -> Own | None:
    """An entry's facts, the facts after its text, its recorder's view and its byline as this
    vault shows its own entries of the kind; None for a kind this release does not know, or
    an entry whose fields are not what this release writes it with (a field missing, of
    another type, or one it does not know: the sending release was older or newer)."""
    kind = kind_of(entry.kind)
    if not kind.fits({key: value for key, value in entry.data.items() if key != "text"}):
        return None
    try:
        return (
            tuple(kind.facts(entry, view)),
            tuple(kind.after(entry)),
            kind.opinion(entry),
            kind.byline(entry),
        )
    except (LookupError, TypeError, ValueError, AttributeError):
        return None  # a value of the right type that the kind cannot read


def _facts(data: dict[str, Any]) -> list[Fact]:
    """An entry's fields as it was sent, each a fact: what was recorded, as it was."""
    found = []
    for key, value in data.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        if isinstance(value, str | int | float) and str(value):
            found.append(Fact(key.replace("_", " ").capitalize(), str(value)))
    return found
