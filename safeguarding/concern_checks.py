"""What the chronology says of concerns reported by staff: each one's author, the key they
signed it with, whether the safeguarding team has read it, and how it was triaged.  Part of
`verify` (`safeguarding.integrity`), which hands each signed entry here; nothing here writes.

A concern's own signature (format 1), over its content alone, so that it can travel inside the
entry that triages it and still be checked there::

    b"SGC1" | concern id u64 | author id u64 | recorded_at | content

each integer big-endian, `recorded_at` and `content` (canonical JSON: sorted keys, no spaces)
each preceded by its length as u32; ``signature = Ed25519(author's key, those bytes)``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from safeguarding import crypto
from safeguarding.chronology import StoredEntry, facts_of, open_payload
from safeguarding.custody import CASE_FACT, ERASED, fail
from safeguarding.db import Concern, ConcernKey, Db
from safeguarding.vocabulary import Role

MAGIC = b"SGC1"
#: The vault-level kinds about a concern: reported (sealed with the concern's own key), read
#: by the safeguarding team (sealed with the field key), and closed with no further action
#: (sealed with the concern's key).  A concern added to a case is an entry of that case.
REPORTED, READ, CLOSED, ADDED = "concern", "concern_read", "concern_closed", "concern_added"
#: Kinds whose payload is sealed with the concern's own key.
SEALED_TO_HOLDERS = frozenset({REPORTED, CLOSED})
TRIAGES = {ADDED: "case", CLOSED: "no_action"}
#: A member of staff's own passphrase change: its payload is sealed with a key of its own,
#: sealed to each holder of the vault key in the entry's facts under `SEALED_TO`.
PASSPHRASE_CHANGED, SEALED_TO = "passphrase_changed", "sealed_to"
#: What a concern says, as its author signed it; the entries that report and triage it carry
#: these beside `concern`, `signature`, `reported_at` and `reported_by`.
CONTENT_KEYS = ("about", "at", "where", "text", "observations", "done")


def content_of(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: payload[key] for key in CONTENT_KEYS}


def canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


def signed_bytes(concern: int, author: int, recorded_at: str, content: dict[str, Any]) -> bytes:
    body, moment = canonical(content), recorded_at.encode()
    return b"".join(
        (
            MAGIC,
            struct.pack(">QQI", concern, author, len(moment)),
            moment,
            struct.pack(">I", len(body)),
            body,
        )
    )


def place(concern: int, holder: int) -> str:
    """Where a concern's key sealed to one holder lives (the sealed box's associated data)."""
    return f"concern={concern};holder={holder}"


def passphrase_place(user: int, holder: int) -> str:
    """Where the key of a member of staff's passphrase change, sealed to one holder, lives."""
    return f"passphrase_changed;user={user};holder={holder}"


def sealed_to_holders(entry: StoredEntry) -> bool:
    """Whether the entry's payload is sealed with a key of its own: a concern's (reported,
    closed), or, sealed in its facts, a member of staff's passphrase change's."""
    return entry.kind in SEALED_TO_HOLDERS or _own_passphrase(entry)


def _own_passphrase(entry: StoredEntry) -> bool:
    return entry.kind == PASSPHRASE_CHANGED and f'"{SEALED_TO}"' in (entry.facts or "")


def concern_of(entry: StoredEntry) -> int:
    try:
        value = json.loads(entry.facts or "{}")["concern"]
    except (ValueError, KeyError, TypeError):
        raise fail(f"entry {entry.seq} does not say which concern it is about: altered") from None
    if not isinstance(value, int):
        raise fail(f"entry {entry.seq} names a concern that is not a number: altered")
    return value


@dataclass
class Concerns:
    """Each concern as the chronology reports it: its entry, author and the author's key then,
    when it was recorded, first read, and triaged."""

    reported: dict[int, tuple[int, int, bytes | None, str]] = field(default_factory=dict)
    seen: dict[int, str] = field(default_factory=dict)
    triaged: dict[int, tuple[int, str]] = field(default_factory=dict)
    #: Whom each concern's key was sealed to, as its signed report says.
    holders: dict[int, frozenset[int]] = field(default_factory=dict)
    #: The case each concern was added to, and the concerns whose case was erased: their keys
    #: went with it.
    added_to: dict[int, int] = field(default_factory=dict)
    erased: set[int] = field(default_factory=set)

    def follow(self, entry: StoredEntry, keys: dict[int, bytes]) -> None:
        """Take a signed entry about a concern into account (`keys`: each user's key now)."""
        kind = entry.kind
        if kind == ERASED:
            case_id = facts_of(entry).get(CASE_FACT[ERASED])
            self.erased |= {n for n, c in self.added_to.items() if c == case_id}
        if kind not in (REPORTED, READ, CLOSED, ADDED):
            return
        number, seq = concern_of(entry), entry.seq
        if kind == REPORTED:
            if number in self.reported:
                raise fail(f"entry {seq} reports concern {number} a second time: forged")
            author = entry.author_id
            self.reported[number] = (seq, author, keys.get(author), entry.recorded_at)
            self.holders[number] = frozenset(facts_of(entry).get("holders", ()))
            return
        if number not in self.reported:
            raise fail(f"entry {seq} is about concern {number}, which was never reported")
        if kind == READ:
            self.seen.setdefault(number, entry.recorded_at)
            return
        if number in self.triaged:
            raise fail(f"entry {seq} triages concern {number} a second time: forged")
        self.triaged[number] = (seq, TRIAGES[kind])
        if kind == ADDED and entry.case_id is not None:
            self.added_to[number] = entry.case_id

    def sealed(
        self, entry: StoredEntry, keys: dict[int, bytes], entry_keys: dict[int, bytes]
    ) -> bool:
        """Check an entry sealed under a key of its own (`sealed_to_holders`), if `keys` (by
        concern) or `entry_keys` (by entry) hold it (False: this checker cannot read it)."""
        if _own_passphrase(entry):
            if json.loads(entry.facts or "{}").get("user") != entry.author_id:
                raise fail(f"entry {entry.seq} changes another's passphrase as their own: forged")
            key = entry_keys.get(entry.seq)
        else:
            key = keys.get(concern_of(entry))
        if key is None:
            return False
        try:
            payload = open_payload(key, entry)
        except crypto.DecryptionError:
            raise fail(f"entry {entry.seq} does not decrypt: its payload was altered") from None
        if not _own_passphrase(entry):
            self.carried(entry, payload)
        return True

    def carried(self, entry: StoredEntry, payload: dict[str, Any]) -> None:
        """The concern's own signature, in the entry that reports or triages it: the content
        must be what its author signed, at the time it was recorded."""
        number = concern_of(entry)
        seq, author, key, recorded_at = self.reported[number]
        try:
            content = content_of(payload)
            signature = bytes.fromhex(str(payload["signature"]))
            said_at = str(payload.get("reported_at", recorded_at))
        except (KeyError, TypeError, ValueError):
            raise fail(
                f"entry {entry.seq} does not carry concern {number} whole: altered"
            ) from None
        message = signed_bytes(number, author, said_at, content)
        if (
            key is None
            or said_at != recorded_at
            or not crypto.signature_holds(key, signature, message)
        ):
            raise fail(
                f"concern {number} in entry {entry.seq} is not what its author signed "
                f"(reported in entry {seq}): altered"
            )

    def check_rows(self, db: Db) -> None:
        """The concerns table is what the chronology says: none added, removed or re-dated by
        hand, none marked read or triaged other than as recorded."""
        rows = {row.id: row for row in db.all(Concern, order="id")}
        sealed: dict[int, set[int]] = {}
        for key in db.all(ConcernKey):
            sealed.setdefault(key.concern_id, set()).add(key.holder)
        for number in sorted(set(self.reported) - set(rows)):
            raise fail(f"concern {number}'s row was removed from the vault by hand")
        for number, row in rows.items():
            said = self.reported.get(number)
            if said is None:
                raise fail(f"concern {number} is not in the chronology: added by hand")
            if (row.seq, row.author_id, row.recorded_at) != (said[0], said[1], said[3]):
                raise fail(f"concern {number}'s row was changed by hand (see entry {said[0]})")
            holders = frozenset() if number in self.erased else self.holders[number]
            if sealed.get(number, set()) != holders:
                raise fail(f"concern {number}'s keys are not those entry {said[0]} sealed")
            triaged = self.triaged.get(number)
            state = (row.triaged_seq, row.outcome) if row.triaged_seq is not None else None
            if row.seen_at != self.seen.get(number) or state != triaged:
                raise fail(
                    f"concern {number} is marked read or triaged other than its chronology "
                    "says: the concerns table was altered"
                )


#: The roles every new concern is sealed to (`roster.READING_ROLES`).
RECEIVING = frozenset({Role.DSL.value, Role.DEPUTY.value, Role.HEAD.value})
#: The facts beside `readers`, each with the one role it lists: the headteachers, whom a concern
#: about them is kept from, and the chairs of governors, who receive it in their place.
MANAGERS = {"heads": frozenset({Role.HEAD.value}), "chairs": frozenset({Role.CHAIR.value})}


def check_readers(entry: StoredEntry, roles: dict[int, str], disabled: Container[int]) -> None:
    """The readers an entry records (whom every later concern is sealed to) must be the active
    DSLs, deputies and headteachers, by their roles as the chronology records them (`roles`,
    `disabled`: as the walk has them at this entry); the `heads` and `chairs` beside them
    (absent from entries written before they were recorded) the active headteachers and
    chairs of governors."""
    if not entry.facts or '"readers"' not in entry.facts:
        return
    try:
        facts = json.loads(entry.facts)
    except ValueError:
        raise fail(f"entry {entry.seq}'s readers of concerns are not readable: altered") from None
    for key, wanted in (("readers", RECEIVING), *MANAGERS.items()):
        if key not in facts and key != "readers":
            continue
        try:
            said = sorted(int(user) for user in facts[key])
        except (KeyError, TypeError, ValueError):
            raise fail(f"entry {entry.seq}'s {key} of concerns are not readable: altered") from None
        expected = sorted(u for u, role in roles.items() if role in wanted and u not in disabled)
        if said != expected:
            raise fail(
                f"entry {entry.seq} records users {said} as {_AS[key]}, but by the roles "
                f"the chronology records they are {expected}: forged"
            )


_AS = {
    "readers": "receiving concerns",
    "heads": "the headteachers concerns about whom go to the chair",
    "chairs": "the chairs of governors receiving concerns about a headteacher",
}


def open_key(sealed: bytes, concern: int, holder: int, exchange: X25519PrivateKey) -> bytes | None:
    try:
        return crypto.open_from(exchange, sealed, place=place(concern, holder))
    except crypto.DecryptionError:
        return None


def keys_held(db: Db, holder: int, exchange: X25519PrivateKey | None) -> dict[int, bytes]:
    """Every concern's key this holder can open, for `verify`."""
    found: dict[int, bytes] = {}
    if exchange is None:
        return found
    for box in db.all(ConcernKey, "holder = ?", holder):
        key = open_key(box.sealed, box.concern_id, holder, exchange)
        if key is not None:
            found[box.concern_id] = key
    return found


def entry_keys_held(db: Db, holder: int, exchange: X25519PrivateKey | None) -> dict[int, bytes]:
    """The key of each member of staff's passphrase change (by entry) this holder opens."""
    found: dict[int, bytes] = {}
    if exchange is None:
        return found
    for seq, user, facts in db.execute(
        "SELECT seq, author_id, facts FROM entries WHERE kind = ? AND facts LIKE ?",
        PASSPHRASE_CHANGED,
        f'%"{SEALED_TO}"%',
    ):
        try:
            box = bytes.fromhex(str(json.loads(facts)[SEALED_TO][str(holder)]))
            found[int(seq)] = crypto.open_from(exchange, box, place=passphrase_place(user, holder))
        except (ValueError, KeyError, TypeError, crypto.DecryptionError):
            continue  # not sealed to this holder, or altered: `verify` says which
    return found
