"""Whom cases are about, and when they were born: the people each listed case's subjects are
linked to, and those people's dates of birth, read once for a whole listing.

A subject is linked by the disclosure (its summary keeps the person's number) or later by a
`subject_linked` entry of the case, sealed with the case's key; the last link of each subject
stands.  Dates of birth are opened only for the people asked for, one sealed field each.
Nothing here writes or prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from safeguarding import chronology, crypto
from safeguarding.casestate import CaseState
from safeguarding.crypto import KeyRing
from safeguarding.db import Db, Entry
from safeguarding.people_rows import SUBJECT_LINKED, same_name, subject_people


def _from_summary(state: CaseState) -> dict[str, int]:
    """The disclosure's links, as a summary keeps them (every value text)."""
    found: dict[str, int] = {}
    for subject in state.subjects:
        person = subject.get("person", "")
        if person.isascii() and person.isdigit():
            found[same_name(subject.get("name", ""))] = int(person)
    return found


def linked(db: Db, cases: Mapping[int, tuple[CaseState, KeyRing]]) -> dict[int, frozenset[int]]:
    """The people each case's subjects are linked to, by case id (`cases`: each case's state
    from its summary and its keys); a case with no linked subject is left out."""
    links = {case_id: _from_summary(state) for case_id, (state, _) in cases.items()}
    if cases:
        rows = db.all(Entry, "kind = ?", SUBJECT_LINKED, order="seq")
        for row in rows:
            if row.case_id is None or row.case_id not in cases:
                continue
            payload = chronology.open_payload(cases[row.case_id][1], row)
            links[row.case_id].update(subject_people(row.kind, payload))
    return {case_id: frozenset(found.values()) for case_id, found in links.items() if found}


def of_case(db: Db, case_id: int, ring: KeyRing) -> frozenset[int]:
    """The people one case's subjects are linked to, read from its entries."""
    found: dict[str, int] = {}
    rows = db.all(
        Entry, "case_id = ? AND kind IN (?, ?)", case_id, "disclosure", SUBJECT_LINKED, order="seq"
    )
    for row in rows:
        found.update(subject_people(row.kind, chronology.open_payload(ring, row)))
    return frozenset(found.values())


def of_people(db: Db, field_key: bytes, people: Iterable[int]) -> dict[int, date]:
    """The dates of birth of `people`, by number (one unknown is left out)."""
    found: dict[int, date] = {}
    for person in sorted(set(people)):
        sealed = db.value("SELECT dob FROM people WHERE id = ?", person)
        if sealed is None:
            continue
        text = crypto.open_text(field_key, bytes(sealed), table="people", row=person, column="dob")
        found[person] = date.fromisoformat(text)
    return found


def latest(people: Iterable[int], dates: Mapping[int, date]) -> date | None:
    """The latest date of birth among `people` (the youngest is kept longest); None: none
    recorded."""
    return max((dates[p] for p in people if p in dates), default=None)
