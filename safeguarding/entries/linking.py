"""A case's subject linked to a person after the case was opened: a signed entry of the case,
sealed with its key, so that only those who may read the case learn whom it is about."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.entries.kind import EntryKind, Fact
from safeguarding.vocabulary import Kind


@dataclass(frozen=True)
class SubjectLinked(EntryKind):
    """Which subject, and the person they are (their number, name and date of birth as they
    stood when linked).  Not amendable: linking the subject again replaces it."""

    kind = Kind.SUBJECT_LINKED
    title = "Subject linked to a person"
    codes = frozenset({"person", "dob"})
    shape = (
        ("subject", (str,)),
        ("person", (int,)),
        ("name", (str,)),
        ("dob", (str,)),
    )
    always = frozenset(name for name, _ in shape)

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        data = entry.data
        yield Fact("Subject", str(data.get("subject", "")))
        yield Fact(
            "Person",
            f"{data.get('name', '')} (born {data.get('dob', '')}), person {data.get('person')}",
        )
