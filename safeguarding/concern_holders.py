"""Who a concern is sealed to: the safeguarding team as the signed chronology last recorded it,
never a user the concern is about, the chair of governors in place of a headteacher it is about,
its author and the recovery key.  Decided without a vault key (a member of staff holds none);
nothing here writes or prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from safeguarding import crypto, restricted, vouched
from safeguarding.db import Db, KeySlot, VaultMeta
from safeguarding.errors import NotAllowed
from safeguarding.restricted import RECOVERY

#: The facts that record who receives concerns, written together by every entry that records
#: any of them.
TEAM_FACTS = ("readers", "heads", "chairs")


@dataclass(frozen=True)
class Team:
    """Who receives concerns, as the signed facts of the last entry to record it say: the
    active DSLs, deputies and headteachers (`readers`), the headteachers among them, and the
    active chairs of governors."""

    readers: frozenset[int]
    heads: frozenset[int]
    chairs: frozenset[int]


def team(db: Db) -> Team:
    """The team the signed chronology last recorded (when a user was added or disabled)."""
    facts = db.value(
        "SELECT facts FROM entries WHERE signature IS NOT NULL AND facts LIKE '%\"readers\"%' "
        "ORDER BY seq DESC LIMIT 1"
    )
    said = json.loads(facts) if facts is not None else {}
    return Team(*(frozenset(int(u) for u in said.get(k, [])) for k in TEAM_FACTS))


def named_users(db: Db, names: Iterable[str]) -> set[int]:
    """The users a concern names as those it is about.

    Matched by the vault's name lookup tag, as the vault finds the user who unlocks it: the
    reporter may be a member of staff, whose keys cannot open users' names, and the tag needs
    only the salt kept in clear.  A tag is a salted hash of the name NFKC-normalised,
    case-folded and stripped; `restricted.same_name` (how a subject of a restricted case is
    matched to a user) also collapses runs of spaces inside a name, so each name is looked up
    as given and with its spaces collapsed too.  No two users' names differ only in spacing
    or case (`user add` refuses such a name), so a name finds one user at most."""
    salt = db.get_one(VaultMeta, 1).lookup_salt
    found: set[int] = set()
    for name in names:
        for form in {name, restricted.same_name(name)}:
            tag = crypto.lookup_tag(salt, form)
            found.update(int(u) for u in db.values("SELECT id FROM users WHERE name_tag = ?", tag))
    return found


@dataclass(frozen=True)
class Holders:
    """Each holder's X25519 public key (a user's id, or `RECOVERY`), how many of those who
    should receive the concern have no exchange key yet, and how many of the team it is kept
    from because it is about them."""

    keys: dict[int, bytes]
    left_out: int
    kept_from: int


def decide(db: Db, author: int, own: bytes, about: Iterable[str]) -> Holders:
    """Whom a new concern by `author` (whose X25519 public key is `own`), about the people
    named `about`, is sealed to.

    The team's readers, less every user it is about; the chairs of governors too when it is
    about a headteacher (the case manager of an allegation about the headteacher).  If no one
    remains who can receive it because it is about them, it is still sealed to its author and
    the recovery key; if no one can receive it for any other reason, nothing is saved."""
    vouched.require(db)  # every slot sealed to is the one the signed chronology records
    recorded = team(db)
    named = named_users(db, about)
    wanted = set(recorded.readers) - named
    if named & recorded.heads:
        wanted |= recorded.chairs - named
    kept_from = len((recorded.readers | recorded.chairs) & named)
    found = {author: own}
    for slot in db.all(KeySlot, "wrapped_key IS NOT NULL AND exchange_public IS NOT NULL"):
        assert slot.exchange_public is not None
        if slot.purpose == "recovery":
            found[RECOVERY] = slot.exchange_public
        elif slot.user_id in wanted:
            found[slot.user_id] = slot.exchange_public
    if not wanted & set(found) and not kept_from:
        raise NotAllowed(
            "no DSL, deputy or headteacher can receive a concern in this vault yet; nothing "
            "was saved",
            hint="ask the DSL: each of them receives concerns once they have unlocked the vault",
        )
    return Holders(found, len(wanted - set(found)), kept_from)
