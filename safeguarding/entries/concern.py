"""A concern a member of staff reported, added to a case when the safeguarding team triaged
it: it carries the concern as its author signed it (checked by `verify`), and cannot be
amended (a note adds to it)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from safeguarding import clock, moments
from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.entries.kind import EntryKind, Fact
from safeguarding.vocabulary import Kind


@dataclass(frozen=True)
class ConcernAdded(EntryKind):
    kind = Kind.CONCERN_ADDED
    title = "Concern reported by staff"
    named = (("reported_by", "Staff member"),)
    codes = frozenset({"concern", "signature", "reported_at", "at"})
    shape = (
        ("concern", (int,)),
        ("about", (list,)),
        ("at", (str,)),
        ("where", (str,)),
        ("observations", (str,)),
        ("done", (str,)),
        ("signature", (str,)),
        ("reported_at", (str,)),
        ("reported_by", (str,)),
    )
    always = frozenset({"concern", "about", "where", "reported_by"})

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        data = entry.data
        yield Fact("Concern", str(data.get("concern", "")))
        yield Fact("Reported by", str(data.get("reported_by", "")))
        reported = data.get("reported_at")
        if reported:
            yield Fact("Reported", moments.local_text(clock.from_text(str(reported))))
        about = ", ".join(f"{a.get('name')} ({a.get('role')})" for a in data.get("about", []))
        yield Fact("About", about)
        yield Fact("Where", str(data.get("where", "")))

    @classmethod
    def after(cls, entry: CaseEntry) -> Iterator[Fact]:
        """After the account (what they saw or heard, the child's own words): their own view,
        then what they have done so far."""
        data = entry.data
        if data.get("observations"):
            yield Fact("Their own view", str(data["observations"]))
        if data.get("done"):
            yield Fact("Done so far", str(data["done"]))

    @classmethod
    def opinion(cls, entry: CaseEntry) -> str:
        return ""  # their own view is shown as theirs, above, never as the recorder's

    @classmethod
    def byline(cls, entry: CaseEntry) -> str:
        return f"reported by {entry.data.get('reported_by', '')}, added by {entry.author}"
