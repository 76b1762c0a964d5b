"""The disclosure: what `record` captures, and the entry that opens a case."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.entries.kind import EntryKind, Fact
from safeguarding.entry_fields import SubjectRole, choice, long_text, short
from safeguarding.errors import UsageError
from safeguarding.vocabulary import Kind


@dataclass(frozen=True)
class Subject:
    """Who a case is about, and the person they are, if linked to one (`person`: their
    number; `people.resolve` gives one that is still to be matched or added its number)."""

    name: str
    role: str
    person: int | None = None


@dataclass(frozen=True)
class Disclosure(EntryKind):
    """What `record` captures, and what opens a case.  `text` is the account in the
    discloser's own words; `observations` the recorder's own, kept apart.  `received_by`
    None: the recorder received it."""

    kind = Kind.DISCLOSURE
    title = "Disclosure"
    named = (("disclosed_by", "Discloser"), ("received_by", "Recipient"))
    codes = frozenset({"category"})
    shape = (
        ("category", (str,)),
        ("subjects", (list,)),
        ("disclosed_by", (str,)),
        ("relationship", (str,)),
        ("received_by", (str,)),
        ("where", (str,)),
        ("observations", (str,)),
    )
    always = frozenset({"subjects", "disclosed_by", "relationship", "received_by", "where"})
    amendable = True

    category: str
    subjects: tuple[Subject, ...]
    disclosed_by: str
    relationship: str
    where: str
    text: str
    observations: str = ""
    received_by: str | None = None

    def __post_init__(self) -> None:
        if not self.subjects:
            raise UsageError("name at least one subject (--subject NAME)")
        subjects = tuple(
            Subject(
                short(s.name, "a subject's name"),
                choice(s.role, SubjectRole.ALL, "subject role"),
                s.person,
            )
            for s in self.subjects
        )
        self._set("subjects", subjects)
        self._set("disclosed_by", short(self.disclosed_by, "who disclosed"))
        self._set("relationship", short(self.relationship, "their relationship"))
        if self.received_by:
            self._set("received_by", short(self.received_by, "who received it"))
        else:
            self._set("received_by", None)
        self._set("where", short(self.where, "where it was disclosed"))
        self._set("text", long_text(self.text, "the account"))
        self._set("observations", long_text(self.observations, "observations", required=False))

    def payload(self, category: str, recorder: str) -> dict[str, Any]:
        """The sealed payload, in `category` (its code), received by the recorder unless
        someone else is named."""
        payload: dict[str, Any] = {
            "category": category,
            "subjects": [_subject(s) for s in self.subjects],
            "disclosed_by": self.disclosed_by,
            "relationship": self.relationship,
            "received_by": self.received_by or recorder,
            "where": self.where,
            "text": self.text,
        }
        if self.observations:
            payload["observations"] = self.observations
        return payload

    @staticmethod
    def clear_facts(year: int, number: int, members: Sequence[int] | None) -> dict[str, Any]:
        """What the signed chronology holds in clear: the case's reference, so a number changed
        by hand in the cases table is caught, and a restricted case's members."""
        facts: dict[str, Any] = {"case": [year, number]}
        if members is not None:
            facts["restricted"] = list(members)
        return facts

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        d = entry.data
        about = [f"{s.get('name')} ({s.get('role')})" for s in d.get("subjects", [])]
        yield Fact("About", ", ".join(about))
        yield Fact("Disclosed by", f"{d.get('disclosed_by')} ({d.get('relationship')})")
        yield Fact("Received by", str(d.get("received_by", "")))
        yield Fact("Where", str(d.get("where", "")))


def _subject(subject: Subject) -> dict[str, Any]:
    """A subject as the payload holds it: with the person they are linked to, if any."""
    found: dict[str, Any] = {"name": subject.name, "role": subject.role}
    if subject.person is not None:
        found["person"] = subject.person
    return found
