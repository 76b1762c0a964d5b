"""A referral or a decision not to refer, and the advice that follows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.casestate import CaseState
from safeguarding.categories import ROUTE_TITLES
from safeguarding.entries.kind import Draft, Fact, Standing
from safeguarding.entry_fields import check_no_referral_details, choice, short
from safeguarding.vocabulary import Kind, Route, Stage


@dataclass(frozen=True, kw_only=True)
class Referral(Draft):
    """A referral (who was contacted, their reference, what was said), or with route `none` a
    decision not to refer, whose reason is the text."""

    kind = Kind.REFERRAL
    title = "Referral"
    named = (("contact", "Contact"),)
    codes = frozenset({"route"})
    shape = (
        ("route", (str,)),
        ("contact", (str,)),
        ("reference", (str,)),
    )
    always = frozenset({"route"})

    route: str
    contact: str | None = None
    their_reference: str | None = None

    def __post_init__(self) -> None:
        self._set("route", Route(choice(self.route, tuple(r.value for r in Route), "route")).value)
        check_no_referral_details(self.route, self.contact, self.their_reference)
        self._check_text()
        referred = self.route != Route.NONE
        contact, reference = (self.contact, self.their_reference) if referred else (None, None)
        self._set("contact", short(contact, "who was contacted") if contact else None)
        self._set("their_reference", short(reference, "their reference") if reference else None)

    def about(self) -> str:
        return "the reason for not referring" if self.route == Route.NONE else "what was said"

    def payload(self, standing: Standing) -> dict[str, Any]:
        payload = {"route": self.route, **super().payload(standing)}
        if self.contact:
            payload["contact"] = self.contact
        if self.their_reference:
            payload["reference"] = self.their_reference
        return payload

    @classmethod
    def apply(cls, state: CaseState, entry: CaseEntry) -> None:
        if entry.data.get("route") == Route.NONE:
            state.decided_not_to_refer = True
        else:
            state.referrals.append(entry.id)
            state.routes.append(Route(entry.data["route"]))
        super().apply(state, entry)

    @classmethod
    def progress(cls, stage: Stage, entry: CaseEntry) -> Stage:
        if entry.data.get("route") == Route.NONE:
            return Stage.NOT_REFERRED if stage is Stage.DISCLOSED else stage
        return Stage.REFERRED if stage in (Stage.DISCLOSED, Stage.NOT_REFERRED) else stage

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        d = entry.data
        if d.get("route") == Route.NONE:
            yield Fact("Decision", "not to refer")
            return
        yield Fact("To", route_title(str(d.get("route"))))
        if d.get("contact"):
            yield Fact("Contact", str(d["contact"]))
        if d.get("reference"):
            yield Fact("Their reference", str(d["reference"]))

    @staticmethod
    def line(entry: CaseEntry, tz: tzinfo | None) -> str:
        """The referral in one line, for a timeline's header."""
        d = entry.data
        when = entry.event_at.astimezone(tz).strftime("%Y-%m-%d")
        route = str(d.get("route"))
        if route == Route.NONE:
            return f"{when}: decision not to refer"
        try:
            name = ROUTE_NAMES.get(Route(route), route)
        except ValueError:
            name = route
        parts = [f"{when}: {name}"]
        if d.get("reference"):
            parts.append(f"their reference {d['reference']}")
        if d.get("contact"):
            parts.append(f"contact {d['contact']}")
        return ", ".join(parts)


#: Short names of the referral routes, for a timeline's header.
ROUTE_NAMES = {
    Route.LADO: "LADO",
    Route.MASH: "children's social care (MASH)",
    Route.POLICE: "police",
    Route.COUNTY: "County Safeguarding team",
    Route.HEADTEACHER: "headteacher",
    Route.OTHER_SCHOOL: "other school",
    Route.OTHER: "another agency",
}


def route_title(route: str) -> str:
    try:
        return ROUTE_TITLES[Route(route)]
    except ValueError:
        return route


@dataclass(frozen=True, kw_only=True)
class Advice(Draft):
    kind = Kind.ADVICE
    title = "Advice"
    named = (("source", "Adviser"),)
    shape = (("source", (str,)),)
    always = frozenset(name for name, _ in shape)
    about_text = "the advice"

    source: str

    def __post_init__(self) -> None:
        self._set("source", short(self.source, "who gave the advice"))
        self._check_text()

    def payload(self, standing: Standing) -> dict[str, Any]:
        return {"source": self.source, **super().payload(standing)}

    @classmethod
    def apply(cls, state: CaseState, entry: CaseEntry) -> None:
        state.advice += 1
        super().apply(state, entry)

    @classmethod
    def progress(cls, stage: Stage, entry: CaseEntry) -> Stage:
        return Stage.ADVISED

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        yield Fact("From", str(entry.data.get("source", "")))
