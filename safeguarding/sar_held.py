"""What a subject access answer holds, case by case: this school's own cases and those of the
files received from the person's earlier schools (as each stood when it was sent), named in the
cover letter, read before the answer is sent, and left out of it when told.

A case to leave out is given by its reference, or as SCHOOL:REFERENCE where two of the cases
held share a reference (this school's own named by this school's name).  The request's event
records each as a token: a reference alone for this school's own, SCHOOL:REFERENCE for a
received one.  Nothing here opens the vault or prints.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from safeguarding import received as received_files
from safeguarding.casefile import CaseFile
from safeguarding.entries import kind_of
from safeguarding.errors import UsageError
from safeguarding.people_rows import PersonInfo
from safeguarding.timeline import Item
from safeguarding.vocabulary import Kind

if TYPE_CHECKING:
    from safeguarding.personfile import ChildFile
    from safeguarding.redaction import Redactor

STAFF = ("staff", "volunteer")


@dataclass(frozen=True)
class Held:
    """A case an answer holds: this school's own (`school` empty), or one of a received file's,
    its `status` as it was sent.  `staff`: a member of staff is among those it is about."""

    reference: str
    status: str
    school: str = ""
    staff: bool = False

    @property
    def token(self) -> str:
        """How the request's `left_out` records it."""
        return f"{self.school}:{self.reference}" if self.school else self.reference

    @property
    def label(self) -> str:
        return shown(self.token)


def shown(token: str) -> str:
    """A recorded case as the output names it: "SG-2026-0003 (received from Caldecote …)"."""
    school, _, reference = token.rpartition(":")
    return f"{reference} (received from {school})" if school else reference


def own(files: Iterable[CaseFile]) -> list[Held]:
    """This school's cases, each with its state and whether it is about a member of staff."""
    found = []
    for case in files:
        disclosure = next((e for e in case.entries if e.kind == Kind.DISCLOSURE), None)
        subjects = disclosure.data.get("subjects", []) if disclosure else []
        found.append(Held(case.reference, case.status, "", _any_staff(subjects)))
    return found


def received(files: Sequence[received_files.ReceivedFile]) -> list[Held]:
    """The received files' cases, each once (as the newest file from its school sent it)."""
    found: dict[tuple[str, str], Held] = {}
    for file in sorted(files, key=lambda f: f.sent_at, reverse=True):
        for case in file.document.get("cases", []):
            reference = str(case.get("case"))
            if (file.school, reference) not in found:
                staff = _any_staff(case.get("subjects"))
                held = Held(reference, str(case.get("status")), file.school, staff)
                found[file.school, reference] = held
    return sorted(found.values(), key=lambda h: (h.school, h.reference))


def _any_staff(subjects: Any) -> bool:
    listed = subjects if isinstance(subjects, list) else []
    return any(isinstance(s, dict) and str(s.get("role")) in STAFF for s in listed)


def without(
    files: Sequence[received_files.ReceivedFile], tokens: Iterable[str]
) -> list[received_files.ReceivedFile]:
    """The received files with the cases of `tokens` taken out (their entries with them)."""
    out = set(tokens)
    return [replace(f, document={**f.document, "cases": _kept(f, out)}) for f in files]


def _kept(file: received_files.ReceivedFile, out: set[str]) -> list[Any]:
    cases = file.document.get("cases", [])
    return [case for case in cases if f"{file.school}:{case.get('case')}" not in out]


def left_out(
    held: Sequence[Held], asked: Sequence[str], carried: Sequence[str], school: str
) -> list[str]:
    """The tokens of the cases to leave out: those `asked` (each a case `held`: `UsageError`
    otherwise, or where its reference is more than one's) and those `carried` from the answer
    made before, which stay left out."""
    tokens = {_carried(token) for token in carried}
    tokens |= {_one(held, text, school).token for text in asked}
    return sorted(tokens)


def _carried(token: str) -> str:
    school, _, reference = token.rpartition(":")
    return f"{school}:{reference.strip().upper()}" if school else reference.strip().upper()


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _one(held: Sequence[Held], text: str, school: str) -> Held:
    """The case held that `text` names: its reference, or SCHOOL:REFERENCE."""
    where, _, reference = text.strip().rpartition(":")
    reference = reference.strip().upper()
    found = [h for h in held if h.reference == reference]
    if where.strip():
        found = [h for h in found if _fold(h.school or school) == _fold(where)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError(
            f"{text.strip()} is not among the cases this answer holds; nothing was written",
            hint="give a case the answer names, by its reference",
        )
    choices = ", ".join(f"'{h.school or school}:{h.reference}'" for h in found)
    raise UsageError(
        f"{reference} is the reference of {len(found)} cases this answer holds; nothing was "
        "written",
        hint=f"name one as SCHOOL:REFERENCE: {choices}",
    )


def to_review(held: Sequence[Held]) -> tuple[str, ...]:
    """Each case whose contents may have to be withheld: one still open (what is said in it
    may prejudice an inquiry, or put the child at risk; a received one as it was sent), one
    about a member of staff."""
    found = []
    for case in held:
        why = ["still open"] if case.status == "open" else []
        if case.staff:
            why.append("about a member of staff")
        if why and case.school:
            found.append(f"{case.reference} (received from {case.school}: {', '.join(why)})")
        elif why:
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


def cover(
    made: ChildFile, school: str, dates: tuple[date, date], held: Sequence[Held]
) -> tuple[tuple[str, str], ...]:
    """The answer's cover: the school, the person, the dates (received, due), the letter, and
    every case it holds, a received one with its state as sent and its school."""
    person = made.person
    received, due = dates
    cases = [
        f"{h.reference} ({h.status} when sent, received from {h.school})"
        if h.school
        else f"{h.reference} ({h.status})"
        for h in held
    ]
    return (
        ("School", school),
        ("Subject access request of", f"{person.name} (born {person.dob.isoformat()})"),
        ("Request received", received.isoformat()),
        ("Response due", due.isoformat()),
        ("Letter", _letter(person, school, received, due, len(held))),
        ("Cases", "\n".join(cases) or "none"),
    )


def received_names(received: list[received_files.ReceivedFile]) -> list[tuple[str, str]]:
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


def redact_item(item: Item, redactor: Redactor) -> Item:
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
