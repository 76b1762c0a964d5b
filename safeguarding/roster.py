"""The vault's users as its records know them: names, roles, passphrases, the recovery key."""

from __future__ import annotations

import base64
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from safeguarding import crypto, restricted
from safeguarding.db import Db, User, VaultMeta
from safeguarding.errors import NotAllowed, UsageError, VaultUnusable
from safeguarding.slots import Keys
from safeguarding.vocabulary import Role

MIN_PASSPHRASE_LENGTH = 12


MAX_NAME_LENGTH = 100


RECOVERY_KEY_BYTES = 20  # 160 bits, 32 base32 characters in 8 groups of 4


ROLE_TITLES = {
    Role.DSL: "Designated Safeguarding Lead",
    Role.DEPUTY: "Deputy DSL",
    Role.HEAD: "Headteacher",
    Role.CHAIR: "Chair of governors",
    Role.STAFF: "Member of staff",
}


#: Roles that may add and disable users or set another user's passphrase.
MANAGING_ROLES = frozenset({Role.DSL, Role.HEAD})

#: Roles whose holders every concern is sealed to: the safeguarding team's inbox.
READING_ROLES = frozenset({Role.DSL, Role.DEPUTY, Role.HEAD})

#: The key slot's purpose for a member of staff: their own key pairs, never the vault key.
STAFF_SLOT = "staff"

STAFF_ONLY = (
    "a member of staff may only report a concern ('safeguard concern'), list their own "
    "('safeguard concerns') and change their own passphrase ('safeguard user passwd')"
)


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    role: Role
    created_at: str
    disabled_at: str | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def normalise_name(name: str) -> str:
    """A user name as stored: NFC, trimmed, one line, not empty."""
    text = unicodedata.normalize("NFC", name).strip()
    if not text:
        raise UsageError("a user name cannot be empty")
    if len(text) > MAX_NAME_LENGTH:
        raise UsageError(f"a user name can be at most {MAX_NAME_LENGTH} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise UsageError("a user name cannot contain control characters or line breaks")
    return text


def check_passphrase(name: str, passphrase: str) -> None:
    """Refuse passphrases that are too short or equal to the user's name."""
    text = unicodedata.normalize("NFC", passphrase)
    if len(text) < MIN_PASSPHRASE_LENGTH:
        raise UsageError(
            f"that passphrase is too short: use at least {MIN_PASSPHRASE_LENGTH} characters",
            hint="a few unrelated words make a good passphrase",
        )
    if text.strip().casefold() == name.strip().casefold():
        raise UsageError("a passphrase cannot be the user's own name")


def new_recovery_key() -> str:
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_KEY_BYTES)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalise_recovery_key(text: str) -> str:
    compact = "".join(ch for ch in text.upper() if ch not in "- \t\r\n")
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    if len(compact) != 32 or not set(compact) <= alphabet:
        raise NotAllowed(
            "that is not a recovery key",
            hint="it is 8 groups of 4 letters and digits, as printed by 'safeguard init'",
        )
    return "-".join(compact[i : i + 4] for i in range(0, 32, 4))


def _meta(db: Db) -> VaultMeta:
    meta = db.get(VaultMeta, 1)
    if meta is None:
        raise VaultUnusable("the vault has no metadata row", hint="restore from a backup")
    return meta


def _same_name(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()


def people(db: Db, keys: Keys) -> list[restricted.Person]:
    """Every user as the membership rules of restricted cases see them."""
    found = []
    for row in db.all(User, order="id"):
        info = _user_info(keys, row)
        found.append(restricted.Person(info.id, info.name, info.role.value, info.active))
    return found


def refuse_alike(everyone: Sequence[restricted.Person], name: str) -> None:
    """Refuse a new user's name that differs from a user's only in spacing or letter case, as
    a subject of an allegation is matched to users that way."""
    for person in everyone:
        if restricted.same_name(person.name) == restricted.same_name(name):
            raise UsageError(
                f"{name!r} differs from the user {person.name!r} only in spacing or letter "
                "case; nothing was changed",
                hint="names are compared that way when a subject is matched to a user",
            )


def readers(db: Db, keys: Keys) -> list[int]:
    """The active users every new concern is sealed to (DSLs, deputies, headteachers), as the
    facts of the entries that add or disable a user record them."""
    return [
        info.id
        for info in (_user_info(keys, row) for row in db.all(User, order="id"))
        if info.active and info.role in READING_ROLES
    ]


def team_facts(db: Db, keys: Keys) -> dict[str, list[int]]:
    """Who receives concerns, as the facts of an entry that adds or disables a user record
    it: the `readers`, and beside them the active headteachers (`heads`) and chairs of
    governors (`chairs`), so that whoever reports a concern, with no key to read roles, can
    keep one about a headteacher from them and seal it to the chair instead."""
    active = [
        info for info in (_user_info(keys, row) for row in db.all(User, order="id")) if info.active
    ]
    return {
        "readers": readers(db, keys),
        "heads": [info.id for info in active if info.role is Role.HEAD],
        "chairs": [info.id for info in active if info.role is Role.CHAIR],
    }


def _user_info(keys: Keys, user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        name=crypto.open_text(keys.field_key, user.name, table="users", row=user.id, column="name"),
        role=Role(
            crypto.open_text(keys.field_key, user.role, table="users", row=user.id, column="role")
        ),
        created_at=user.created_at,
        disabled_at=user.disabled_at,
    )
