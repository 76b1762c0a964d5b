"""`verify`'s checks of people: every row of `people` and `person_links` is what a signed vault
event of the chronology recorded, nothing more and nothing less, and every subject a case links
to a person links to one the chronology had added by then; and every receipt or withdrawal of a
transfer is of one the chronology had sent, and neither received nor withdrawn before.

`PeopleWatch` follows the walk of the chronology (an `integrity.Watcher`); `check` then holds
the rows to what it saw: without a key, their ids, entries and times; with the field key, every
sealed field and the name's lookup tag as well.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from safeguarding import crypto
from safeguarding.chronology import StoredEntry, facts_of
from safeguarding.custody import fail
from safeguarding.db import Db, Person, PersonLink
from safeguarding.people_rows import (
    PAYLOAD_KEYS,
    PERSON_ADDED,
    PERSON_LINKED,
    name_tag,
    opened,
    opened_link,
    subject_people,
)


@dataclass
class _Seen:
    seq: int
    at: str
    payload: dict[str, Any] | None


#: The vault events of a child's file sent to another school, its receipt, and its withdrawal
#: (`safeguarding.transfers`): each names its transfer's number in its facts.
FILE_TRANSFERRED = "file_transferred"
TRANSFER_CONFIRMED = "transfer_confirmed"
TRANSFER_WITHDRAWN = "transfer_withdrawn"
_TRANSFER_EVENTS = (FILE_TRANSFERRED, TRANSFER_CONFIRMED, TRANSFER_WITHDRAWN)


@dataclass
class TransferWatch:
    """The transfers the chronology records, and how each ended (from their facts, in clear)."""

    ended: dict[int, str | None] = field(default_factory=dict)  # None: still awaited

    def __call__(self, entry: StoredEntry) -> None:
        try:
            number = facts_of(entry).get("transfer") if entry.facts else None
        except ValueError:
            number = None
        if not isinstance(number, int):
            raise fail(f"entry {entry.seq} names no transfer: forged")
        if entry.kind == FILE_TRANSFERRED:
            if number in self.ended:
                raise fail(f"entry {entry.seq} sends transfer {number} a second time: forged")
            self.ended[number] = None
            return
        what = "withdraws" if entry.kind == TRANSFER_WITHDRAWN else "records the receipt of"
        if number not in self.ended:
            raise fail(f"entry {entry.seq} {what} transfer {number}, never sent: forged")
        ended = self.ended[number]
        if ended is not None:
            raise fail(f"entry {entry.seq} {what} transfer {number}, {ended} before: forged")
        self.ended[number] = "withdrawn" if entry.kind == TRANSFER_WITHDRAWN else "received"


@dataclass
class PeopleWatch:
    """The people and links the chronology records, as `verify` walks it."""

    people: dict[int, _Seen] = field(default_factory=dict)
    links: dict[int, tuple[_Seen, int, int]] = field(default_factory=dict)
    transfers: TransferWatch = field(default_factory=TransferWatch)

    def __call__(self, entry: StoredEntry, payload: dict[str, Any] | None) -> None:
        if entry.case_id is not None:
            if payload is not None:
                self._subjects(entry, payload)
            return
        if entry.kind in _TRANSFER_EVENTS:
            self.transfers(entry)
            return
        if entry.kind not in (PERSON_ADDED, PERSON_LINKED):
            return
        try:
            facts = facts_of(entry) if entry.facts else {}
        except ValueError:
            facts = {}
        seen = _Seen(entry.seq, entry.recorded_at, payload)
        if entry.kind == PERSON_ADDED:
            person = facts.get("person")
            if not isinstance(person, int) or person in self.people:
                raise fail(f"entry {entry.seq} adds person {person} a second time: forged")
            self.people[person] = seen
            return
        link, pair = facts.get("link"), facts.get("people") or []
        if not isinstance(link, int) or link in self.links or not _pair(pair):
            raise fail(f"entry {entry.seq} records a link between people that cannot be: forged")
        a, b = int(pair[0]), int(pair[1])
        if a not in self.people or b not in self.people or a == b:
            raise fail(f"entry {entry.seq} links people the chronology never added: forged")
        self.links[link] = (seen, a, b)

    def _subjects(self, entry: StoredEntry, payload: dict[str, Any]) -> None:
        for person in subject_people(entry.kind, payload).values():
            if person not in self.people:
                raise fail(
                    f"entry {entry.seq} links a subject to person {person}, whom the "
                    "chronology had not added: forged"
                )

    def check(self, db: Db, field_key: bytes | None, salt: bytes) -> None:
        """Every row against the chronology just walked (`field_key` None: what can be checked
        without a passphrase).  Raises `CheckFailed` naming the first that does not hold."""
        rows = {row.id: row for row in db.all(Person, order="id")}
        for person_id, seen in self.people.items():
            if person_id not in rows:
                raise fail(f"person {person_id} (entry {seen.seq}) was removed by hand")
        for row in rows.values():
            seen_person = self.people.get(row.id)
            if seen_person is None:
                raise fail(f"person {row.id} is not in the chronology: added by hand")
            if row.seq != seen_person.seq or row.created_at != seen_person.at:
                raise fail(f"person {row.id}'s row does not match entry {seen_person.seq}")
            if field_key is not None:
                _same_person(row, field_key, salt, seen_person.payload)
        links = {row.id: row for row in db.all(PersonLink, order="id")}
        if set(links) != set(self.links):
            odd = min(set(links) ^ set(self.links))
            raise fail(f"link {odd} between people was added or removed by hand")
        for link in links.values():
            seen_link, a, b = self.links[link.id]
            if (link.seq, link.person_a, link.person_b) != (seen_link.seq, a, b):
                raise fail(f"link {link.id} between people was changed by hand")
            if field_key is not None:
                _same_link(link, field_key, seen_link.payload)


def _pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)


def _same_person(row: Person, key: bytes, salt: bytes, payload: dict[str, Any] | None) -> None:
    try:
        person = opened(key, row)
    except (crypto.DecryptionError, ValueError):
        raise fail(f"person {row.id} does not decrypt: altered or moved") from None
    if payload is not None and person.payload() != _as_recorded(payload):
        raise fail(
            f"person {row.id} was changed by hand (it does not say what entry {row.seq} records)"
        )
    if not hmac.compare_digest(row.name_tag, name_tag(salt, person.name)):
        raise fail(f"person {row.id}'s name lookup tag was changed by hand")


def _as_recorded(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: payload.get(k) for k in PAYLOAD_KEYS}


def _same_link(row: PersonLink, key: bytes, payload: dict[str, Any] | None) -> None:
    try:
        link = opened_link(key, row)
    except (crypto.DecryptionError, ValueError):
        raise fail(f"link {row.id} between people does not decrypt: altered or moved") from None
    if payload is not None and payload.get("as") != link.relation:
        raise fail(f"link {row.id} between people was changed by hand")


#: What follows `verify`'s walk (as `integrity.Watcher`): each entry and its payload, if opened.
Watcher = Callable[[StoredEntry, dict[str, Any] | None], None]


def both(first: Watcher, second: Watcher) -> Watcher:
    """One watcher that shows each entry to `first`, then to `second`."""

    def watch(entry: StoredEntry, payload: dict[str, Any] | None) -> None:
        first(entry, payload)
        second(entry, payload)

    return watch
