"""One class per kind of case entry: its fields, checked as it is made; the payload it is sealed
as; what it needs of the case and what it changes in the case's state; the facts a timeline
shows; and the people it names, for redaction.  Adding a kind is adding a class (and its word to
`vocabulary.Kind`): the case file, the flow, the timeline and redaction go through `kind_of`.

An instance is an entry about to be written (a draft, its `text` None until it is typed); a
stored entry is read through its kind's class methods.  Nothing here touches storage or the
clock.
"""

from safeguarding.entries.actions import Action, ActionDone
from safeguarding.entries.closing import Closure, Reopening
from safeguarding.entries.concern import ConcernAdded
from safeguarding.entries.disclosure import Disclosure, Subject
from safeguarding.entries.exports import FORMAT_TITLES, Export, destination
from safeguarding.entries.kind import (
    Draft,
    EntryKind,
    Fact,
    Standing,
    kind_of,
    kinds,
    title_of,
)
from safeguarding.entries.linking import SubjectLinked
from safeguarding.entries.records import Amendment, Conversation, Note
from safeguarding.entries.referral import ROUTE_NAMES, Advice, Referral, route_title

__all__ = [
    "FORMAT_TITLES",
    "ROUTE_NAMES",
    "Action",
    "ActionDone",
    "Advice",
    "Amendment",
    "Closure",
    "ConcernAdded",
    "Conversation",
    "Disclosure",
    "Draft",
    "EntryKind",
    "Export",
    "Fact",
    "Note",
    "Referral",
    "Reopening",
    "Standing",
    "Subject",
    "SubjectLinked",
    "destination",
    "kind_of",
    "kinds",
    "route_title",
    "title_of",
]
