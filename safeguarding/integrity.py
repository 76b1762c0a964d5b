"""Verification of a vault's chronology: the hash chain, every signature, the rules on who may
manage users, and the columns kept in clear beside it.

Without a passphrase this checks everything signed (anyone can: the nightly job, a backup's
reader); with the vault's keys it also decrypts every payload, checks the entries written
before signatures, and the roles.  It never writes.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from safeguarding import crypto, storage
from safeguarding.checkpoint import Checkpoint
from safeguarding.chronology import (
    SELF_INTRODUCING,
    EntryRow,
    StoredEntry,
    epoch_of,
    facts_of,
    head,
    iter_rows,
    mac_of,
    open_payload,
    signed_bytes,
)
from safeguarding.concern_checks import (
    ADDED,
    Concerns,
    check_readers,
    sealed_to_holders,
)
from safeguarding.custody import Custody, check_case_state, checkpoint_failed, fail
from safeguarding.db import Case, Db, KeySlot, User
from safeguarding.entry_checks import EntryChecks
from safeguarding.errors import CheckFailed

#: Kinds that only a DSL or the headteacher may write (a reset through the recovery key
#: excepted: whoever holds the school's recovery key acts for the school).
MANAGING_KINDS = frozenset({"user_added", "user_disabled", "passphrase_reset"})
MANAGING_ROLES = frozenset({"dsl", "head"})


def slot_fingerprint(slot: KeySlot) -> str:
    """SHA-256 of everything in a key slot, recorded in the chronology whenever it changes."""
    parts = [
        b"SGK2",
        struct.pack(">QQ", slot.id, slot.user_id or 0),
        slot.purpose.encode(),
        f"{slot.kdf},{slot.kdf_iterations},{slot.kdf_memory_kib},{slot.kdf_lanes}".encode(),
        slot.salt,
        slot.wrapped_key or b"",
        slot.signing_key or b"",
    ]
    if slot.exchange_public is not None or slot.exchange_key is not None:
        parts += [slot.exchange_key or b"", slot.exchange_public or b""]
    return hashlib.sha256(b"".join(struct.pack(">I", len(p)) + p for p in parts)).hexdigest()


@dataclass(frozen=True)
class Secrets:
    """What a passphrase gives the check: the keys to the MACs and payloads, and user names."""

    mac_key: bytes = field(repr=False)
    fields: crypto.KeyRing = field(repr=False)  # the field key of every epoch
    case_keys: dict[int, crypto.KeyRing] = field(repr=False)
    user_ids: dict[str, int] = field(repr=False)  # a user's name (casefolded) -> id
    # Restricted cases the checker is not a member of: checked by signature only.
    unreadable: frozenset[int] = frozenset()
    openers: dict[tuple[int | None, int], crypto.Opener] = field(
        default_factory=dict, repr=False, compare=False
    )
    concern_keys: dict[int, bytes] = field(default_factory=dict, repr=False)  # those held
    entry_keys: dict[int, bytes] = field(default_factory=dict, repr=False)  # staff's, by entry

    @property
    def field_key(self) -> bytes:
        return self.fields.current

    def opener(self, case_id: int | None, epoch: int) -> crypto.Opener:
        """What opens a case's payloads of one key epoch (case None: the vault's own), set up
        once per check."""
        opener = self.openers.get((case_id, epoch))
        if opener is None:
            ring = self.fields if case_id is None else self.case_keys[case_id]
            opener = self.openers[(case_id, epoch)] = crypto.Opener(ring.at(epoch))
        return opener


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: Checkpoint
    before_signatures: int = 0  # entries only a passphrase can check
    unchecked: int = 0  # of those, the ones this check could not (no passphrase)
    unreadable: int = 0  # entries of restricted cases checked by signature only


@dataclass
class _Chronicle:
    """What the chronology says, as it is walked: keys, users, slots and cases."""

    keys: dict[int, bytes] = field(default_factory=dict)
    recovery: bytes | None = None
    added: dict[int, str] = field(default_factory=dict)
    disabled: dict[int, str] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    slots: dict[int, str] = field(default_factory=dict)
    cases: dict[int, tuple[int, int]] = field(default_factory=dict)
    # Each case's state as its entries' kinds (in clear) say: opened (when its disclosure was
    # recorded, if signed), and closed (the last closure's event time) or open.
    opened: dict[int, str] = field(default_factory=dict)
    closed: dict[int, str | None] = field(default_factory=dict)
    signed_from: int | None = None
    custody: Custody = field(default_factory=Custody)  # restricted cases' holders, epochs
    concerns: Concerns = field(default_factory=Concerns)
    unreadable: int = 0  # entries of restricted cases the checker could not decrypt


_fail = fail
#: What follows the walk, given each entry and its payload (None if not opened).
Watcher = Callable[[StoredEntry, dict[str, Any] | None], None]


def verify(
    db: Db,
    *,
    secrets: Secrets | None = None,
    checkpoints: Iterable[Checkpoint] = (),
    watcher: Watcher | None = None,
) -> ChainReport:
    """Walk the whole chronology and compare the vault's clear columns with it; `watcher`, if
    given, is shown every entry as it is walked.

    Raises `CheckFailed` naming the first entry (or row) that was edited, removed, reordered,
    forged or written by someone who could not have written it.
    """
    checks = EntryChecks(
        parallel=head(db).seq >= PARALLEL_FROM,
        batch=_BATCH,
        ahead=_AHEAD,
    )
    try:
        return _walk(db, secrets, checkpoints, checks, watcher)
    except CheckFailed:
        checks.settle()  # an earlier entry failing a check made aside is the first problem
        raise
    finally:
        checks.close()


def _walk(
    db: Db,
    secrets: Secrets | None,
    checkpoints: Iterable[Checkpoint],
    checks: EntryChecks,
    watcher: Watcher | None = None,
) -> ChainReport:
    wanted = {cp.seq: cp for cp in checkpoints}
    seen: dict[int, bytes] = {}
    state = _Chronicle()
    previous = crypto.GENESIS_MAC
    expected = 1
    before = unchecked = 0
    for entry in iter_rows(db):
        if entry.seq != expected:
            raise _fail(f"{_missing(expected, entry.seq - 1)}: the chronology has been cut")
        if entry.signature is None:
            before += 1
            if state.signed_from is not None:
                raise _fail(
                    f"entry {entry.seq} is not signed, though entries are signed from entry "
                    f"{state.signed_from}: it was forged"
                )
            if secrets is None:
                unchecked += 1
            elif not hmac.compare_digest(mac_of(secrets.mac_key, previous, entry), entry.mac):
                raise _fail(
                    f"entry {entry.seq} has been altered, reordered or forged (its MAC does "
                    "not match)"
                )
        else:
            _check_signed(entry, previous, state, checks)
            state.custody.check_epoch(entry)
        payload = None if secrets is None else _check_payload(entry, secrets, state)
        if entry.case_id is not None:
            _follow_case(entry, state)
        if watcher is not None:
            watcher(entry, payload)
        if entry.seq in wanted:
            seen[entry.seq] = entry.mac
        previous, expected = entry.mac, expected + 1

    # What follows is checked while the last batches are: a problem it finds is named after
    # any they find (`verify` settles them first), as if they had been checked before it.
    last = expected - 1
    _check_the_end(db, last, previous, wanted, seen)
    if state.signed_from is not None:
        _check_clear_columns(db, state, secrets)
    checks.settle()
    return ChainReport(
        last, Checkpoint(last, previous.hex()), before, unchecked, unreadable=state.unreadable
    )


def _missing(first: int, last: int) -> str:
    return (
        f"entry {first} is missing" if first == last else f"entries {first} to {last} are missing"
    )


def _check_the_end(
    db: Db,
    last: int,
    previous: bytes,
    wanted: dict[int, Checkpoint],
    seen: dict[int, bytes],
) -> None:
    """The vault's head is the last entry walked, and every checkpoint wanted is one seen."""
    recorded_head = head(db)
    if recorded_head.seq > last:
        raise _fail(f"{_missing(last + 1, recorded_head.seq)}: the chronology's tail was removed")
    if recorded_head.seq < last or not recorded_head.matches(previous):
        short = recorded_head.seq < last and f"names entry {recorded_head.seq}, before"
        raise _fail(f"the vault's head {short or 'lacks the hash of'} its last entry ({last})")
    for seq in sorted(wanted):
        checkpoint = wanted[seq]
        if seq > last:
            raise checkpoint_failed(
                f"entry {seq} from checkpoint {seq}:{checkpoint.mac_hex[:16]} is missing: the "
                f"vault has been rolled back to entry {last}"
            )
        if not checkpoint.matches(seen[seq]):
            raise checkpoint_failed(
                f"entry {seq} does not match checkpoint {seq}:{checkpoint.mac_hex[:16]}: the "
                "chronology was rewritten after it"
            )


#: Every signed entry that introduces, changes or retires a key or records a slot.
_KEY_ENTRIES = """
SELECT e.seq, e.case_id, e.kind, e.event_at, e.recorded_at, e.author_id, e.payload, e.mac,
       e.facts, e.signature, (SELECT p.mac FROM entries p WHERE p.seq = e.seq - 1)
FROM entries e
WHERE e.signature IS NOT NULL AND e.facts IS NOT NULL
  AND (e.kind = 'user_disabled' OR e.facts LIKE '%"slots"%' OR e.facts LIKE '%signing_key%'
       OR e.facts LIKE '%recovery_key%' OR e.facts LIKE '%"readers"%')
ORDER BY e.seq
"""


def recorded_slots(db: Db) -> dict[int, str] | None:
    """Each key slot's fingerprint as the signed chronology last records it, read from the
    entries about keys alone (a few per user), each signature checked against its author's
    key as the chronology gives it; None for a vault from before signatures.  Raises
    `CheckFailed` if one of those entries does not hold."""
    state = _Chronicle()
    checks = EntryChecks(parallel=False, batch=_BATCH, ahead=1)
    for row in db.execute(_KEY_ENTRIES):
        previous = row[10] if row[10] is not None else crypto.GENESIS_MAC
        _check_signed(EntryRow._make(row[:10]), bytes(previous), state, checks)
    checks.settle()
    return None if state.signed_from is None else state.slots


#: The facts of an entry that has none: shared, and never written to.
_NO_FACTS: dict[str, Any] = {}


def _check_signed(
    entry: StoredEntry, previous: bytes, state: _Chronicle, checks: EntryChecks
) -> None:
    seq, author = entry.seq, entry.author_id
    if not all(isinstance(v, bytes) for v in (entry.payload, entry.signature, entry.mac)):
        raise _fail(f"entry {seq}'s payload, signature or hash is not bytes: altered by hand")
    if state.signed_from is None:
        first_kind = "vault_created" if seq == 1 else "upgraded"
        if entry.kind != first_kind:
            raise _fail(f"entry {seq} is the first signed entry but not '{first_kind}': forged")
        state.signed_from = seq
    try:
        facts = facts_of(entry) if entry.facts else _NO_FACTS
    except ValueError:
        raise _fail(f"entry {seq}'s public facts are not readable: altered") from None
    by_recovery = facts.get("signed_by") == "recovery"
    if entry.kind in SELF_INTRODUCING:
        if by_recovery:
            if state.recovery is not None:
                raise _fail(f"entry {seq} introduces a second recovery key: forged")
            state.recovery = _public(facts, "recovery_key", seq)
        else:
            if facts.get("user") != author or author in state.keys:
                raise _fail(f"entry {seq} introduces a key for user {author}, who has one: forged")
            state.keys[author] = _public(facts, "signing_key", seq)
        if entry.kind == "upgraded":
            _take_snapshot(facts, state, seq)
    if entry.kind == "vault_created":
        state.recovery = _public(facts, "recovery_key", seq)
    key = state.recovery if by_recovery else state.keys.get(author)
    if key is None:
        who = "the recovery key" if by_recovery else f"user {author}"
        raise _fail(f"entry {seq} is signed by {who}, who had no key then: forged")
    if not by_recovery and author in state.disabled:
        raise _fail(
            f"entry {seq} was written by user {author} after they were disabled "
            f"({state.disabled[author]}): forged"
        )
    # The signature, then the stored hash (what a checkpoint names), checked aside.
    checks.signed(seq, key, entry.signature or b"", signed_bytes(entry, previous), entry.mac)
    if facts:  # most entries (notes, actions) have none
        _apply_facts(entry, facts, state)


#: From how many entries the checks of single entries are made on every core: below it,
#: starting the processes (about 20 ms) costs more than they save.
PARALLEL_FROM = 2_000
#: Checks per batch sent to a worker (up to about 0.06 s of work): small enough that the cores
#: finish nearly together, large enough that sending a batch costs next to nothing.
_BATCH = 1000
#: Batches sent but not yet answered, per worker: enough to keep every core busy while the walk
#: goes on, few enough that memory stays flat and a forgery is named soon after it is found.
_AHEAD = 4


def _public(facts: dict[str, Any], name: str, seq: int) -> bytes:
    try:
        value = bytes.fromhex(str(facts[name]))
    except (KeyError, ValueError):
        raise _fail(f"entry {seq} lacks a readable {name.replace('_', ' ')}: altered") from None
    if len(value) != 32:
        raise _fail(f"entry {seq} holds a {name.replace('_', ' ')} of the wrong size: altered")
    return value


def _take_snapshot(facts: dict[str, Any], state: _Chronicle, seq: int) -> None:
    """The `upgraded` entry vouches for what entries before signatures left in clear."""
    try:
        for user_id, user in dict(facts.get("users", {})).items():
            state.added[int(user_id)] = str(user["created_at"])
            if user.get("disabled_at"):
                state.disabled[int(user_id)] = str(user["disabled_at"])
        for case_id, (year, number) in dict(facts.get("cases", {})).items():
            state.cases[int(case_id)] = (int(year), int(number))
    except (TypeError, ValueError, KeyError):
        raise _fail(
            f"entry {seq}'s record of the vault before signatures is not readable"
        ) from None


def _apply_facts(entry: StoredEntry, facts: dict[str, Any], state: _Chronicle) -> None:
    seq, kind = entry.seq, entry.kind
    subject = facts.get("user")
    if kind == "user_added" and isinstance(subject, int):
        if subject in state.added:
            raise _fail(f"entry {seq} adds user {subject} a second time: forged")
        state.added[subject] = entry.recorded_at
        if "signing_key" in facts:
            if subject in state.keys:
                raise _fail(f"entry {seq} gives user {subject} a second first key: forged")
            state.keys[subject] = _public(facts, "signing_key", seq)
    elif kind == "passphrase_reset" and isinstance(subject, int) and "signing_key" in facts:
        state.keys[subject] = _public(facts, "signing_key", seq)
    elif kind == "passphrase_changed" and "signing_key" in facts:
        if subject != entry.author_id:
            raise _fail(f"entry {seq} changes another user's passphrase as their own: forged")
        state.keys[entry.author_id] = _public(facts, "signing_key", seq)
    elif kind == "user_disabled" and isinstance(subject, int):
        state.disabled[subject] = entry.recorded_at
    if "recovery_key" in facts and kind not in SELF_INTRODUCING:
        state.recovery = _public(facts, "recovery_key", seq)
    for slot_id, fingerprint in dict(facts.get("slots", {})).items():
        state.slots[int(slot_id)] = str(fingerprint)
    reference = facts.get("case")
    if entry.case_id is not None and isinstance(reference, list) and len(reference) == 2:
        state.cases[entry.case_id] = (int(reference[0]), int(reference[1]))
    state.custody.follow(entry, facts, state.cases)
    state.concerns.follow(entry, state.keys)


def _follow_case(entry: StoredEntry, state: _Chronicle) -> None:
    case_id = entry.case_id
    assert case_id is not None
    if entry.kind == "disclosure":
        if entry.signature is not None:
            state.opened[case_id] = entry.recorded_at
        state.closed[case_id] = None
    elif entry.kind == "closure":
        state.closed[case_id] = entry.event_at
    elif entry.kind == "reopening":
        state.closed[case_id] = None


def _check_payload(
    entry: StoredEntry, secrets: Secrets, state: _Chronicle
) -> dict[str, Any] | None:
    """The entry's payload, opened (None: a restricted case the checker cannot read)."""
    seq = entry.seq
    if sealed_to_holders(entry):  # under a key of its own, if this checker has it
        if not state.concerns.sealed(entry, secrets.concern_keys, secrets.entry_keys):
            state.unreadable += 1
        return None
    if entry.case_id is not None and entry.case_id not in secrets.case_keys:
        if entry.case_id in secrets.unreadable:
            state.unreadable += 1
            return None
        raise _fail(f"entry {seq} belongs to a case the vault does not hold")
    try:
        payload = open_payload(secrets.opener(entry.case_id, epoch_of(entry)), entry)
    except crypto.DecryptionError:
        raise _fail(f"entry {seq} does not decrypt: its payload was altered or moved") from None
    author, kind = entry.author_id, entry.kind
    if kind == ADDED:
        state.concerns.carried(entry, payload)
    if kind == "vault_created":
        state.roles[author] = "dsl"
    if kind in MANAGING_KINDS and not _by_recovery(entry) and not _own_reset(entry, payload):
        role = state.roles.get(author)
        if role not in MANAGING_ROLES:
            raise _fail(
                f"entry {seq} ({kind.replace('_', ' ')}) was written by user {author}, "
                f"{'a ' + role if role else 'who has no role'}: only a DSL or the headteacher "
                "may manage users"
            )
    if kind == "user_added":
        subject = secrets.user_ids.get(str(payload.get("user", "")).casefold())
        if subject is not None:
            state.roles[subject] = str(payload.get("role"))
    check_readers(entry, state.roles, state.disabled)
    return payload


def _by_recovery(entry: StoredEntry) -> bool:
    return entry.signature is not None and facts_of(entry).get("signed_by") == "recovery"


def _own_reset(entry: StoredEntry, payload: dict[str, Any]) -> bool:
    return entry.kind == "passphrase_reset" and "via" in payload and entry.signature is None


APPEND_ONLY_TRIGGERS = frozenset({"entries_no_update", "entries_no_delete"})


def _check_clear_columns(db: Db, state: _Chronicle, secrets: Secrets | None) -> None:
    """Every clear column that matters must be what the (verified) chronology says."""
    for user in db.all(User, order="id"):
        if user.id not in state.added:
            raise _fail(f"user {user.id} is not in the chronology: added by hand")
        if user.created_at != state.added[user.id]:
            raise _fail(
                f"user {user.id}'s creation time was changed by hand (the chronology says "
                f"{state.added[user.id]})"
            )
        if user.disabled_at != state.disabled.get(user.id):
            said = "disabled" if user.id in state.disabled else "active"
            raise _fail(
                f"user {user.id} is marked {'disabled' if user.disabled_at else 'active'} but "
                f"the chronology says {said}: changed by hand"
            )
        if user.signing_key is not None and user.signing_key != state.keys.get(user.id):
            raise _fail(f"user {user.id}'s signing key is not the one the chronology records")
        if secrets is not None and user.id in state.roles:
            role = crypto.open_text(
                secrets.field_key, user.role, table="users", row=user.id, column="role"
            )
            if role != state.roles[user.id]:
                raise _fail(
                    f"user {user.id}'s role was changed by hand (the chronology says "
                    f"{state.roles[user.id]})"
                )
    for slot in db.all(KeySlot, order="id"):
        recorded = state.slots.get(slot.id)
        if recorded is None or recorded != slot_fingerprint(slot):
            what = "recovery slot" if slot.purpose == "recovery" else f"key slot {slot.id}"
            raise _fail(f"the {what} was changed outside the chronology")
    wanted = getattr(db.connection, "APPEND_ONLY", APPEND_ONLY_TRIGGERS)  # a server's, or these
    if not storage.triggers(db.connection, "entries") >= wanted:
        raise _fail("the chronology's append-only triggers were removed: it was edited by hand")
    state.custody.check_rows(db)
    state.concerns.check_rows(db)
    for case in db.all(Case, order="id"):
        check_case_state(case, state.opened, state.closed)
        reference = state.cases.get(case.id)
        if reference is None:
            raise _fail(f"case row {case.id} is not in the chronology: added by hand")
        if reference != (case.year, case.number):
            raise _fail(
                f"case row {case.id} is numbered {case.year}-{case.number:04d} but its "
                f"chronology says SG-{reference[0]}-{reference[1]:04d}: renumbered by hand"
            )
