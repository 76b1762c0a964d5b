"""The vocabulary: every closed set of words the records use, each defined once."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """The kinds of case entry, stored in clear as the chronology's `kind`: what a user records,
    and `EXPORT`, safeguard's own record of a case taken out of the vault.  What each kind holds
    and means is its class in `entries`."""

    DISCLOSURE = "disclosure"
    REFERRAL = "referral"
    ADVICE = "advice"
    ACTION = "action"
    ACTION_DONE = "action_done"
    CONVERSATION = "conversation"
    NOTE = "note"
    AMENDMENT = "amendment"
    CLOSURE = "closure"
    REOPENING = "reopening"
    EXPORT = "export"
    #: A concern a member of staff reported, added to the case at its triage.
    CONCERN_ADDED = "concern_added"
    #: A subject of the case linked to a person (`safeguard person link-case`).
    SUBJECT_LINKED = "subject_linked"


class Route(StrEnum):
    """Who a concern is referred to; `NONE` is a recorded decision not to refer."""

    LADO = "lado"
    MASH = "mash"
    POLICE = "police"
    COUNTY = "county"
    HEADTEACHER = "headteacher"
    OTHER_SCHOOL = "other-school"
    OTHER = "other"
    NONE = "none"


class Stage(StrEnum):
    DISCLOSED = "disclosed"
    REFERRED = "referred"
    NOT_REFERRED = "not referred"
    ADVISED = "advised"
    CLOSED = "closed"


class Role(StrEnum):
    DSL = "dsl"
    DEPUTY = "deputy"
    HEAD = "head"
    CHAIR = "chair"
    #: A member of staff: reports concerns, reads none but their own, holds no vault key.
    STAFF = "staff"
