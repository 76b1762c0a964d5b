"""What every kind of case entry knows of itself (`EntryKind`), what an entry added to an open
case does besides (`Draft`), and the register of kinds that the case file, the flow, the
timeline and redaction read entries through."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from safeguarding import moments
from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.casestate import CaseState
from safeguarding.categories import Category
from safeguarding.entry_fields import long_text
from safeguarding.errors import NotAllowed
from safeguarding.vocabulary import Stage

_KINDS: dict[str, type[EntryKind]] = {}


@dataclass(frozen=True)
class Fact:
    """A structured fact of an entry: who, with whom, by which channel, and so on."""

    label: str
    value: str


@dataclass(frozen=True)
class Standing:
    """A case as it stands when an entry is to be added to it, at `at` (the event's time).
    `case` is the whole case, read only for a kind that `reads_case` (None otherwise: the
    state comes from the case's summary)."""

    case: CaseFile | None
    state: CaseState
    category: Category
    at: datetime

    @property
    def whole(self) -> CaseFile:
        """The whole case, for a kind that `reads_case`."""
        if self.case is None:
            raise LookupError("the case was not read whole for this entry")
        return self.case


@dataclass(frozen=True)
class EntryKind:
    """What every kind knows of itself.  This class itself stands for a kind it does not know
    (one written by a later release, say): no facts, no names, nothing changed, not amendable."""

    kind: ClassVar[str]
    #: How a timeline heads the entry, and (if not the same) how the audit lists it.
    title: ClassVar[str]
    receipt: ClassVar[str | None] = None
    #: The payload's fields that name a person, each with the role label redaction gives them.
    named: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: The payload's fields that hold codes, dates or numbers, never a name.
    codes: ClassVar[frozenset[str]] = frozenset()
    #: Whether an amendment may correct it: what someone recorded may be, safeguard's own
    #: records may not.
    amendable: ClassVar[bool] = False
    #: The payload's fields but its text, each with the types of value it is written with, and
    #: those every entry of the kind holds: the shape an entry sent from another school's vault
    #: must have to be shown as this release shows its own (`fits`).
    shape: ClassVar[tuple[tuple[str, tuple[type, ...]], ...]] = ()
    always: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            _KINDS[cls.kind] = cls

    @classmethod
    def fits(cls, data: Mapping[str, Any]) -> bool:
        """Whether `data` (an entry's fields but its text) has the shape this release writes
        the kind with: every field it always holds, none it does not know, each of a type it
        gives it.  A kind this release does not know (`EntryKind` itself) fits nothing."""
        if "kind" not in cls.__dict__:
            return False
        shape = dict(cls.shape)
        return cls.always <= data.keys() and all(
            type(value) in shape.get(key, ()) for key, value in data.items()
        )

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        """The entry's structured facts as a timeline shows them (its text is shown apart)."""
        return iter(())

    @classmethod
    def after(cls, entry: CaseEntry) -> Iterator[Fact]:
        """Facts a timeline shows after the entry's text, in place of the recorder's
        observations (a concern reported by staff: their own view, what they did)."""
        return iter(())

    @classmethod
    def opinion(cls, entry: CaseEntry) -> str:
        """The recorder's own view, shown apart as their opinion."""
        return str(entry.data.get("observations", ""))

    @classmethod
    def byline(cls, entry: CaseEntry) -> str:
        """Who a page says wrote the entry, if not just its author (`Item.author`)."""
        return ""

    @classmethod
    def apply(cls, state: CaseState, entry: CaseEntry) -> None:
        """What the entry changes in `state`; entries are applied in the order recorded."""
        if state.stage is not Stage.CLOSED:
            state.stage = cls.progress(state.stage, entry)
            state.reopen_stage = state.stage

    @classmethod
    def progress(cls, stage: Stage, entry: CaseEntry) -> Stage:
        """The stage an open case moves to with this entry."""
        return stage

    def _set(self, name: str, value: object) -> None:
        """Keep a field as checked (spaces trimmed, text normalised): the draft is frozen."""
        object.__setattr__(self, name, value)


def kind_of(kind: str) -> type[EntryKind]:
    """The class of a stored kind; `EntryKind` itself for one this release does not know."""
    return _KINDS.get(kind, EntryKind)


def kinds() -> tuple[type[EntryKind], ...]:
    """Every kind this release knows."""
    return tuple(_KINDS.values())


def title_of(kind: str, *, receipt: bool = False) -> str:
    """A kind as a timeline heads it, or with `receipt` as the audit lists it."""
    found = _KINDS.get(kind)
    if found is None:
        return kind.replace("_", " ").capitalize()
    return (found.receipt or found.title) if receipt else found.title


@dataclass(frozen=True, kw_only=True)
class Draft(EntryKind):
    """An entry to add to an open case (`Casebook.add`).  Made without its text, it is what
    the command line checks before asking for the text (`Casebook.preflight`)."""

    amendable = True
    #: Whether it may be added to a closed case, and if not, what the refusal says.
    when_closed: ClassVar[bool] = False
    closed_refusal: ClassVar[str] = "added to"
    #: How a refusal names its text ("the note cannot be empty").
    about_text: ClassVar[str]
    #: Whether its checks need the whole case (its entries), not only where it stands.
    reads_case: ClassVar[bool] = False

    text: str | None = None

    def _check_text(self) -> None:
        if self.text is not None:
            self._set("text", long_text(self.text, self.about()))

    def about(self) -> str:
        return self.about_text

    def written(self, text: str) -> Self:
        """This draft with its text, checked."""
        return dataclasses.replace(self, text=text)

    def early(self, standing: Standing) -> None:
        """What is refused before the text is asked for (the case is found already): by
        default, what `check` refuses, which asks nothing of the text."""
        self.check(standing)

    def check(self, standing: Standing) -> None:
        """Refuse the entry if the case, as it stands at `standing.at`, does not allow it."""
        self.may_follow(standing.state, standing.at)

    @classmethod
    def may_follow(cls, state: CaseState, at: datetime) -> None:
        """Refuse this kind on a closed case (unless it may be), or dated before the
        disclosure."""
        if state.stage is Stage.CLOSED and not cls.when_closed:
            raise NotAllowed(
                f"{state.reference} is closed ({state.outcome}); it cannot be {cls.closed_refusal}",
                hint=f"reopen it first: safeguard reopen {state.reference}",
            )
        if at < state.disclosed_at:
            raise NotAllowed(
                f"that is before the disclosure of {state.reference} "
                f"({moments.local_text(state.disclosed_at)}); a case's entries follow its "
                "disclosure"
            )

    def payload(self, standing: Standing) -> dict[str, Any]:
        """The sealed payload, once `check` has passed."""
        return {"text": long_text(self.text, self.about())}

    def number(self, payload: dict[str, Any]) -> int | None:
        """The number the entry gives what it adds (an action's), if any."""
        return None
