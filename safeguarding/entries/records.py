"""The records kept throughout: conversations, notes, and amendments that correct an entry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.entries.kind import Draft, Fact, Standing, kind_of, title_of
from safeguarding.entry_fields import CHANNELS, choice, short
from safeguarding.errors import NotAllowed
from safeguarding.vocabulary import Kind


@dataclass(frozen=True, kw_only=True)
class Conversation(Draft):
    kind = Kind.CONVERSATION
    title = "Conversation"
    named = (("with", "Person spoken with"),)
    codes = frozenset({"channel"})
    shape = (
        ("with", (str,)),
        ("channel", (str,)),
    )
    always = frozenset(name for name, _ in shape)
    about_text = "what was said"

    with_whom: str
    channel: str

    def __post_init__(self) -> None:
        self._set("with_whom", short(self.with_whom, "who the conversation was with"))
        self._set("channel", choice(self.channel, CHANNELS, "channel"))
        self._check_text()

    def payload(self, standing: Standing) -> dict[str, Any]:
        return {"with": self.with_whom, "channel": self.channel, **super().payload(standing)}

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        yield Fact("With", str(entry.data.get("with", "")))
        yield Fact("Channel", str(entry.data.get("channel", "")))


@dataclass(frozen=True, kw_only=True)
class Note(Draft):
    kind = Kind.NOTE
    title = "Note"
    when_closed = True
    about_text = "the note"

    def __post_init__(self) -> None:
        self._check_text()


@dataclass(frozen=True, kw_only=True)
class Amendment(Draft):
    """A correction of entry `target` of the case, by the case's own numbering (as its
    timeline shows it); the original stays as it was.  Its payload names the original by its
    place in the vault's chronology, which no later entry can change."""

    kind = Kind.AMENDMENT
    title = "Amendment"
    codes = frozenset({"target"})
    shape = (("target", (int,)),)
    always = frozenset(name for name, _ in shape)
    when_closed = True
    about_text = "the correction"
    reads_case = True

    target: int

    def __post_init__(self) -> None:
        self._check_text()

    def check(self, standing: Standing) -> None:
        """Only what someone recorded can be corrected: an export entry is safeguard's own
        record of who took the case out of the vault, and stays exactly as it was written."""
        case = standing.whole
        kind = case.numbered(self.target).kind
        if not kind_of(kind).amendable:
            raise NotAllowed(
                f"entry {self.target} of {case.reference} is safeguard's own record of an "
                f"{kind}, and cannot be amended",
                hint=f"to add to the record, use 'safeguard note {case.reference}'",
            )
        super().check(standing)

    def payload(self, standing: Standing) -> dict[str, Any]:
        return {"target": standing.whole.numbered(self.target).id, **super().payload(standing)}

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        original = next((e for e in case.entries if e.id == entry.amends), None)
        if original is None:  # not in what is shown (it always is in a whole case)
            yield Fact("Corrects", "an entry not shown here")
            return
        yield Fact("Corrects", f"entry {original.number} ({title_of(original.kind)})")
