"""What the chronology says of cases: who holds each restricted one's keys, which key
epochs its entries may be sealed in, and whether each is open.  Part of `verify`
(`safeguarding.integrity`), which walks the chronology and hands each signed entry here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from safeguarding.chronology import StoredEntry, epoch_of, facts_of
from safeguarding.db import Case, Db, Entry
from safeguarding.errors import CheckFailed

RESTORE_HINT = "keep this vault as evidence; restore the newest backup that verifies"
#: The vault events of a case's erasure and of a legal hold placed on it and released, and
#: the fact each names the case's row under.
ERASED, HOLD, RELEASED = "erased", "hold", "hold_released"
CASE_FACT = {ERASED: "erased", HOLD: "held", RELEASED: "released"}
#: A legal hold on a person (every case about them held) and its release, vault events too,
#: and the fact each names the person under.
PERSON_HOLD, PERSON_RELEASED = "person_hold", "person_hold_released"
PERSON_FACT = {PERSON_HOLD: "person_held", PERSON_RELEASED: "person_released"}


def fail(message: str) -> CheckFailed:
    return CheckFailed(message, hint=RESTORE_HINT)


def checkpoint_failed(message: str) -> CheckFailed:
    """A checkpoint this vault does not hold: rewritten or rolled back, unless the checkpoint
    is another vault's (one printed on a file received from another school is theirs)."""
    return CheckFailed(
        message,
        hint="first make sure the checkpoint is this vault's: one printed on a file from another "
        f"school checks that school's vault, not this one; if it is this vault's, {RESTORE_HINT}",
    )


@dataclass
class Custody:
    """Each restricted case's holders (members' user ids, and 0 for the recovery key), and
    each case's lowest key epoch its next entry may be sealed in."""

    restricted: dict[int, set[int]] = field(default_factory=dict)
    floor: dict[int, int] = field(default_factory=dict)
    #: Each erased case's `erased` entry, and each held case's `hold` entry in force.
    erased: dict[int, int] = field(default_factory=dict)
    held: dict[int, int] = field(default_factory=dict)
    #: Each held person's `person_hold` entry in force.
    people_held: dict[int, int] = field(default_factory=dict)

    def follow(self, entry: StoredEntry, facts: dict[str, Any], cases: Collection[int]) -> None:
        """Who holds each restricted case's keys, as the chronology says (`cases`: the cases
        known so far)."""
        try:
            if "vault_epoch" in facts and entry.case_id is None:
                # A re-key gave every case that is not restricted a new key for its next entry.
                for case_id in cases:
                    if case_id not in self.restricted:
                        self.departed(case_id)
            if entry.kind == "disclosure" and "restricted" in facts and entry.case_id is not None:
                self.restricted[entry.case_id] = {int(m) for m in facts["restricted"]} | {0}
            elif entry.kind == "access_granted" and entry.case_id in self.restricted:
                self.restricted[entry.case_id].add(int(facts["user"]))
            elif entry.kind == "access_revoked" and entry.case_id in self.restricted:
                self.restricted[entry.case_id].discard(int(facts["user"]))
                self.departed(entry.case_id)
            for case_id in facts.get("removed_from", []):
                self.restricted.get(int(case_id), set()).discard(int(facts["user"]))
                self.departed(int(case_id))
            for case_id, members in dict(facts.get("restricted_cases", {})).items():
                self.restricted[int(case_id)] = {int(m) for m in members} | {0}
            if entry.kind in CASE_FACT:
                self._erasure_or_hold(entry, int(facts[CASE_FACT[entry.kind]]), cases)
            elif entry.kind in PERSON_FACT:
                follow_person(self.people_held, entry, int(facts[PERSON_FACT[entry.kind]]))
        except (TypeError, ValueError, KeyError):
            raise fail(f"entry {entry.seq}'s record of a restricted case is not readable") from None

    def _erasure_or_hold(self, entry: StoredEntry, case_id: int, cases: Collection[int]) -> None:
        """An erasure takes every key of the case away (no holder is left); a hold forbids it
        until released."""
        seq, kind = entry.seq, entry.kind
        if entry.case_id is not None or case_id in self.erased or case_id not in cases:
            raise fail(
                f"entry {seq} ({kind.replace('_', ' ')}) names an erased case, or none: forged"
            )
        if kind == ERASED:
            if case_id in self.held:
                raise fail(f"entry {seq} erases a case held since entry {self.held[case_id]}")
            self.erased[case_id] = seq
            if case_id in self.restricted:
                self.restricted[case_id] = set()
        elif kind == HOLD:
            if case_id in self.held:
                raise fail(f"entry {seq} holds a case held since entry {self.held[case_id]}")
            self.held[case_id] = seq
        elif self.held.pop(case_id, None) is None:
            raise fail(f"entry {seq} releases a hold on a case that is not held: forged")

    def departed(self, case_id: int) -> None:
        """A member left (or the vault was re-keyed): the case's next entry starts a new epoch."""
        self.floor[case_id] = self.floor.get(case_id, 0) + 1

    def check_epoch(self, entry: StoredEntry) -> None:
        """A case's entries are sealed in ever newer key epochs, never in a key that someone who
        has left since still holds."""
        case_id = entry.case_id
        if case_id is None or entry.signature is None:
            return
        if case_id in self.erased:
            raise fail(
                f"entry {entry.seq} was added to case row {case_id} after its erasure (entry "
                f"{self.erased[case_id]}): forged"
            )
        epoch = epoch_of(entry)
        if epoch < 0:
            raise fail(f"entry {entry.seq} names a key epoch that is not a number: altered")
        if epoch < self.floor.get(case_id, 0):
            raise fail(
                f"entry {entry.seq} was sealed with an older key of case row {case_id} than it "
                "should be, one that a member who has left may still hold: it was written "
                "around the re-key"
            )
        self.floor[case_id] = epoch

    def check_rows(self, db: Db) -> None:
        """Each case is restricted, and to whom, as its chronology says: a member added by
        hand (or a case opened to everyone by hand) is named."""
        holders: dict[int, set[int]] = {}
        for case_id, holder in db.execute("SELECT case_id, holder FROM case_access"):
            holders.setdefault(int(case_id), set()).add(int(holder))
        for case in db.all(Case, order="id"):
            reference = f"SG-{case.year}-{case.number:04d}"
            said = self.restricted.get(case.id)
            if bool(case.restricted) != (said is not None):
                marked = "restricted" if case.restricted else "open to all"
                raise fail(
                    f"case {reference} is marked {marked} but its chronology says otherwise: "
                    "the cases table was altered"
                )
            if said is not None and holders.get(case.id, set()) != said:
                raise fail(
                    f"the members of case {reference} are not the ones its chronology records: "
                    "access was changed by hand"
                )
            self._check_erasure(db, case, reference)
        if set(holders) - set(self.restricted):
            raise fail("a case that is not restricted has members: access was changed by hand")

    def _check_erasure(self, db: Db, case: Case, reference: str) -> None:
        """An erased case, and a held one, are what the chronology says; an erased one holds no
        key and no summary."""
        said = (self.erased.get(case.id), self.held.get(case.id))
        if (case.erased_seq, case.held_seq) != said:
            raise fail(
                f"case {reference} is marked erased or held other than its chronology says: "
                "the cases table was altered"
            )
        if case.erased_seq is None:
            return
        summary = db.value("SELECT COUNT(*) FROM case_summaries WHERE case_id = ?", case.id)
        if case.case_key or summary:
            raise fail(
                f"case {reference} was erased (entry {case.erased_seq}) but the vault holds a "
                "key or a summary of it: put back by hand"
            )


def follow_person(held: dict[int, int], entry: StoredEntry, person: int) -> None:
    """`held` (each held person: the entry of their hold) once `entry`, a hold on `person` or
    its release, is taken in."""
    if entry.kind == PERSON_HOLD:
        if person in held:
            raise fail(f"entry {entry.seq} holds person {person}, held since entry {held[person]}")
        held[person] = entry.seq
    elif held.pop(person, None) is None:
        raise fail(f"entry {entry.seq} releases a hold on person {person}, who is not held")


def people_held(db: Db) -> dict[int, int]:
    """Each person held now, with the entry of their hold, as the chronology says."""
    held: dict[int, int] = {}
    for row in db.all(Entry, "kind IN (?, ?)", PERSON_HOLD, PERSON_RELEASED, order="seq"):
        facts = facts_of(row)
        follow_person(held, row, int(facts[PERSON_FACT[row.kind]]))
    return held


def check_case_state(case: Case, opened: dict[int, str], closed: dict[int, str | None]) -> None:
    """A case's cached open or closed state, and when it was opened and closed, are what its
    entries' kinds say (`opened`, `closed`: by case, as the walk found them): hiding an open
    case, or a missed deadline, is named."""
    closed_at = closed.get(case.id)
    status = "open" if closed_at is None else "closed"
    if case.status != status or case.closed_at != closed_at:
        raise fail(
            f"case SG-{case.year}-{case.number:04d} is marked {case.status!r} but its "
            f"chronology says {status!r}: the cases table was altered"
        )
    opened_at = opened.get(case.id)
    if opened_at is not None and case.opened_at != opened_at:
        raise fail(
            f"case SG-{case.year}-{case.number:04d} says it was opened at {case.opened_at} but "
            f"its chronology says {opened_at}: the cases table was altered"
        )
