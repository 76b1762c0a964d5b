"""Concerns: what any member of staff reports, for the safeguarding team to triage.

A concern is a signed entry of the chronology, written by its author, its payload sealed with a
key of its own; that key is sealed to the X25519 key of every DSL, deputy and headteacher (the
readers the chronology last recorded), to the author's and to the recovery key's, so a member
of staff (whose slot holds no vault key) can write one and read back only their own.  It is
triaged once: added to a case (an entry of that case carrying the concern with its author's
signature) or closed with no further action.  Nothing here prints or prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from safeguarding import (
    attempts,
    casefile,
    chronology,
    clock,
    concern_holders,
    crypto,
    slots,
    storage,
    summaries,
)
from safeguarding.chronology import Signer
from safeguarding.concern_checks import (
    ADDED,
    CLOSED,
    READ,
    REPORTED,
    content_of,
    open_key,
    place,
    signed_bytes,
)
from safeguarding.db import Case, Concern, ConcernKey, Db, Entry
from safeguarding.entry_fields import SubjectRole, choice, long_text, short
from safeguarding.errors import Damaged, NotAllowed, NotFound, UsageError
from safeguarding.restricted import RECOVERY
from safeguarding.roster import READING_ROLES, STAFF_SLOT
from safeguarding.vocabulary import Role

if TYPE_CHECKING:
    from safeguarding.casestate import CaseState
    from safeguarding.vault import Unlocked, Vault
    from safeguarding.vault_file import VaultFile

OUTCOMES = {"case": "added to a case", "no_action": "no further action"}


@dataclass(frozen=True)
class About:
    name: str
    role: str


@dataclass(frozen=True)
class Content:
    """What a concern says: who it is about, when and where, what they saw or heard (the
    child's own words), kept apart their own view, and what they have done so far."""

    about: tuple[About, ...]
    at: str
    where: str
    text: str
    observations: str = ""
    done: str = ""

    @classmethod
    def checked(
        cls,
        about: Sequence[About],
        at: datetime,
        where: str,
        text: str,
        observations: str = "",
        done: str = "",
    ) -> Content:
        if not about:
            raise UsageError("a concern must say who it is about", hint="give --about NAME")
        people = tuple(
            About(short(a.name, "who it is about"), choice(a.role, SubjectRole.ALL, "role"))
            for a in about
        )
        return cls(
            people,
            clock.to_text(at),
            short(where, "where it happened"),
            long_text(text, "what you saw or heard"),
            long_text(observations, "your own view") if observations else "",
            long_text(done, "what you have done so far") if done else "",
        )

    def payload(self) -> dict[str, Any]:
        return {
            "about": [{"name": a.name, "role": a.role} for a in self.about],
            "at": self.at,
            "where": self.where,
            "text": self.text,
            "observations": self.observations,
            "done": self.done,
        }

    @classmethod
    def of(cls, payload: dict[str, Any]) -> Content:
        return cls(
            tuple(About(str(a["name"]), str(a["role"])) for a in payload["about"]),
            str(payload["at"]),
            str(payload["where"]),
            str(payload["text"]),
            str(payload.get("observations", "")),
            str(payload.get("done", "")),
        )


@dataclass
class Reporter:
    """Who reports: a member of staff opened with their own keys alone, or any other user;
    `missed`: the failed attempts to unlock as them since they last did, to be told."""

    vault: VaultFile
    user_id: int
    signer: Signer
    exchange: X25519PrivateKey
    missed: attempts.Pending | None = None

    def close(self) -> None:
        self.vault.close()


@dataclass(frozen=True)
class Reported:
    number: int
    entry: int
    recorded_at: str
    readers: int  # the safeguarding team's members (or chairs of governors) it is sealed to
    left_out: int = 0  # those it could not be sealed to: no exchange key yet
    kept_from: int = 0  # those of the team it is about, never sealed to them

    @property
    def unread(self) -> bool:
        """No one but its author and the recovery key can open it: it is about every member of
        the team who could have (the chair of governors must be told)."""
        return self.readers == 0 and self.kept_from > 0


@dataclass(frozen=True)
class Decision:
    """Who triaged a concern and when: to a case (its entry's number there), or why not."""

    by: str
    at: str
    case: str | None = None
    number: int | None = None
    reason: str | None = None

    def __str__(self) -> str:
        if self.case is not None:
            return f"added to {self.case} as its entry {self.number}"
        return "no further action"


@dataclass(frozen=True)
class Item:
    """A concern as someone who holds its key reads it, with its state (and `decided`)."""

    number: int
    entry: int
    author: str
    recorded_at: str
    content: Content
    seen_at: str | None
    triaged_entry: int | None
    outcome: str | None
    decided: Decision | None = None

    @property
    def state(self) -> str:
        if self.outcome is not None:
            return OUTCOMES[self.outcome]
        return "seen" if self.seen_at else "waiting"


def reporter(vault: Vault, name: str, passphrase: str) -> Reporter:
    """Open the vault for reporting as `name`: a member of staff with their own keys (their
    slot holds no vault key), anyone else by an ordinary unlock.  Either way a wrong
    passphrase is recorded as a failed attempt, and earlier failures slow it."""
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        user = vault._lookup_user(db, name)
        slot = None if user is None else vault._user_slot(db, user)
    if user is None or slot is None or slot.purpose != STAFF_SLOT:
        unlocked = vault.unlock(name, passphrase)  # an unknown name is refused there
        found = unlocked.user.id
        return Reporter(vault, found, unlocked.signer, unlocked.exchange, unlocked.missed)
    with attempts.watching(vault.connection, name, attempts.PASSPHRASE) as watch:
        if user.disabled_at is not None:
            raise NotAllowed(f"user {name!r} is disabled")
        holder = slots.open_own(slot, passphrase)
        if holder is None:
            raise NotAllowed(f"wrong passphrase for {name!r}; nothing was changed")
    signer = Signer.of(user.id, holder.signing)
    if signer.public != user.signing_key:
        raise Damaged(
            f"{name!r}'s signing key is not the one the vault records: altered",
            summary="a user's signing key was altered",
        )
    return watch.tell(Reporter(vault, user.id, signer, holder.exchange))


def report(who: Reporter, content: Content, at: datetime | None = None) -> Reported:
    """Write a concern, signed by its author and sealed to its holders."""
    vault = who.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        decided = concern_holders.decide(
            db, who.user_id, crypto.public_bytes(who.exchange), [a.name for a in content.about]
        )
        holders = decided.keys
        number = db.next_id(Concern)
        now = clock.now()
        recorded = clock.to_text(now)
        body = content.payload()
        signature = who.signer.key.sign(signed_bytes(number, who.user_id, recorded, body))
        key = crypto.new_key()
        entry = chronology.append(
            db,
            signer=who.signer,
            payload_key=key,
            kind=REPORTED,
            payload={"concern": number, **body, "signature": signature.hex()},
            facts={"concern": number, "holders": sorted(holders)},
            event_at=at or now,
            recorded_at=now,
        )
        db.insert(Concern(id=number, seq=entry.seq, author_id=who.user_id, recorded_at=recorded))
        for holder, public in sorted(holders.items()):
            sealed = crypto.seal_to(public, key, place=place(number, holder))
            db.insert(ConcernKey(concern_id=number, holder=holder, sealed=sealed))
    readers_sealed = len(set(holders) - {who.user_id, RECOVERY})
    return Reported(
        number, entry.seq, recorded, readers_sealed, decided.left_out, decided.kept_from
    )


def _open(
    db: Db, row: Concern, holder: int, exchange: X25519PrivateKey, author: str
) -> tuple[Item, dict[str, Any]] | None:
    """A concern this holder has a key to, and its payload; None if they have none."""
    box = db.get(ConcernKey, row.id, holder)
    if box is None:
        return None
    key = open_key(box.sealed, row.id, holder, exchange)
    entry = db.get(Entry, row.seq)
    if key is None or entry is None:
        raise Damaged(f"concern {row.id} does not open: altered", summary="a concern was altered")
    payload = chronology.open_payload(key, entry)
    item = Item(
        row.id,
        row.seq,
        author,
        row.recorded_at,
        Content.of(payload),
        row.seen_at,
        row.triaged_seq,
        row.outcome,
    )
    return item, payload


def mine(who: Reporter) -> list[Item]:
    """The author's own concerns, oldest first, with what became of each."""
    with storage.guarded(who.vault.path), storage.reading(who.vault.connection) as db:
        rows = db.all(Concern, "author_id = ?", who.user_id, order="id")
        found = [_open(db, row, who.user_id, who.exchange, "") for row in rows]
    return [opened[0] for opened in found if opened is not None]


@dataclass(frozen=True)
class Waiting:
    number: int
    recorded_at: datetime


def waiting(vault: VaultFile, holder: int | None = None) -> list[Waiting]:
    """The concerns not yet triaged, oldest first: read without a passphrase, naming no one.
    With `holder`, only those sealed to them: a member of the team a concern is about must
    not learn from a count that it exists."""
    where, args = "triaged_seq IS NULL", []
    if holder is not None:
        where += " AND id IN (SELECT concern_id FROM concern_keys WHERE holder = ?)"
        args = [holder]
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        rows = db.execute(
            f"SELECT id, recorded_at FROM concerns WHERE {where} ORDER BY id", *args
        ).fetchall()
    return [Waiting(int(number), clock.from_text(str(at))) for number, at in rows]


#: Who reads and triages the concerns sealed to them: the safeguarding team, and the chair of
#: governors, who receives those about a headteacher.
RECEIVING_ROLES = READING_ROLES | {Role.CHAIR}


def _reader(unlocked: Unlocked) -> None:
    if not unlocked.signer.recovery and unlocked.user.role not in RECEIVING_ROLES:
        raise NotAllowed(
            f"only a DSL, a deputy, the headteacher or the chair of governors reads and "
            f"triages concerns; {unlocked.user.name} is not one"
        )


def inbox(unlocked: Unlocked) -> list[Item]:
    """The concerns waiting for triage that this reader holds a key to, oldest first."""
    _reader(unlocked)
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        names = casefile.user_names(db, unlocked.keys.field_key)
        found = []
        for row in db.all(Concern, "triaged_seq IS NULL", order="id"):
            opened = _open(db, row, unlocked.holder, unlocked.exchange, names[row.author_id])
            if opened is not None:
                found.append(opened[0])
    return found


def _find(db: Db, unlocked: Unlocked, number: int) -> tuple[Item, dict[str, Any]]:
    # One answer whether it does not exist or is not sealed to this reader (it may be about
    # them): nothing tells them apart.
    row = db.get(Concern, number)
    opened, names = None, casefile.user_names(db, unlocked.keys.field_key)
    if row is not None and db.get(ConcernKey, number, unlocked.holder) is not None:
        opened = _open(db, row, unlocked.holder, unlocked.exchange, names[row.author_id])
    if opened is None:
        raise NotFound(
            f"there is no concern {number}",
            hint="'safeguard inbox' lists those waiting for you",
        )
    item, payload = opened
    if item.triaged_entry is not None:
        item = replace(item, decided=_decision(db, unlocked, item, names))
    return item, payload


def _decision(db: Db, unlocked: Unlocked, item: Item, names: dict[int, str]) -> Decision:
    """Who triaged the concern and when; the case and its entry's number there, or the reason
    (sealed with the concern's own key)."""
    entry = db.get_one(Entry, item.triaged_entry)
    by = names.get(entry.author_id, f"user {entry.author_id}")
    if entry.case_id is None:
        payload = chronology.open_payload(_concern_key(db, unlocked, item.number), entry)
        return Decision(by, entry.recorded_at, reason=str(payload.get("reason", "")))
    case = db.get_one(Case, entry.case_id)
    logged = ", ".join("?" for _ in casefile.ACCESS_LOG)
    number = db.value(
        f"SELECT count(*) FROM entries WHERE case_id = ? AND seq <= ? AND kind NOT IN ({logged})",
        case.id,
        entry.seq,
        *casefile.ACCESS_LOG,
    )
    reference = casefile.format_reference(case.year, case.number)
    return Decision(by, entry.recorded_at, reference, int(number))


def read(unlocked: Unlocked, number: int) -> Item:
    """One concern in full; its reading is recorded (the first marks it seen)."""
    _reader(unlocked)
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        item, _ = _find(db, unlocked, number)
        entry = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=unlocked.keys.fields,
            kind=READ,
            payload={"concern": number},
            facts={"concern": number},
        )
        if item.seen_at is None:
            db.execute("UPDATE concerns SET seen_at = ? WHERE id = ?", entry.recorded_at, number)
    return item


def check_open(unlocked: Unlocked, number: int) -> Item:
    """The concern, to triage: refused, before anything is asked, if it is unknown
    (`NotFound`) or triaged already (`NotAllowed`)."""
    _reader(unlocked)
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        item, _ = _find(db, unlocked, number)
    _untriaged(item)
    return item


def _untriaged(item: Item) -> None:
    if item.decided is not None:
        raise NotAllowed(
            f"concern {item.number} was triaged already ({item.decided}); nothing was changed"
        )


@dataclass(frozen=True)
class Triaged:
    number: int
    entry: int
    outcome: str
    case: str | None
    case_entry: int | None = None  # added to a case: the entry's number there,
    state: CaseState | None = None  # and where the case now stands


def triage(
    unlocked: Unlocked,
    number: int,
    *,
    case: str | None = None,
    reason: str | None = None,
) -> Triaged:
    """Triage a concern once: added to the case `case`, or (`reason`) no further action."""
    _reader(unlocked)
    if (case is None) == (reason is None):
        raise UsageError("say what becomes of the concern: --case CASE, or --no-action")
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        if case is not None:
            return into_case(db, unlocked, number, unlocked.readable_case(db, case))
        item, payload = _find(db, unlocked, number)
        _untriaged(item)
        entry = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=_concern_key(db, unlocked, number),
            kind=CLOSED,
            payload={**_carried(item, payload), "reason": long_text(reason, "the reason")},
            facts={"concern": number},
        )
        return _triaged(db, item, entry, None)


def into_case(db: Db, unlocked: Unlocked, number: int, case: Case) -> Triaged:
    """In the transaction `db`, add the concern to `case` (one just opened from it, or one
    that exists): an entry of the case carrying the concern as its author signed it."""
    _reader(unlocked)
    item, payload = _find(db, unlocked, number)
    _untriaged(item)
    reference = casefile.format_reference(case.year, case.number)
    if case.status == "closed":
        raise NotAllowed(
            f"{reference} is closed; a concern cannot be added to it",
            hint=f"reopen it first: safeguard reopen {reference}",
        )
    ring = unlocked.case_ring(db, case, writing=True)
    carried = _carried(item, payload)
    entry = chronology.append(
        db,
        signer=unlocked.signer,
        payload_key=ring,
        kind=ADDED,
        payload=carried,
        facts={"concern": number},
        case_id=case.id,
        event_at=clock.from_text(item.content.at),  # when what they saw happened
    )
    summary = summaries.follow(db, case.id, reference, ring, entry, carried)
    done = _triaged(db, item, entry, reference)
    return replace(done, case_entry=summary.entries, state=summary.state)


def _carried(item: Item, payload: dict[str, Any]) -> dict[str, Any]:
    """The concern as its author signed it, with who and when, for the entry that triages it."""
    return {
        "concern": item.number,
        **content_of(payload),
        "signature": payload["signature"],
        "reported_at": item.recorded_at,
        "reported_by": item.author,
    }


def _triaged(db: Db, item: Item, entry: Entry, reference: str | None) -> Triaged:
    outcome = "no_action" if reference is None else "case"
    db.execute(
        "UPDATE concerns SET triaged_seq = ?, outcome = ? WHERE id = ?",
        entry.seq,
        outcome,
        item.number,
    )
    return Triaged(item.number, entry.seq, outcome, reference)


def _concern_key(db: Db, unlocked: Unlocked, number: int) -> bytes:
    box = db.get_one(ConcernKey, number, unlocked.holder)
    key = open_key(box.sealed, number, unlocked.holder, unlocked.exchange)
    assert key is not None  # `_find` opened it in this transaction
    return key
