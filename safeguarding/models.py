"""The vault's tables, as SQLModel models: the schema Alembic migrates and checks against.

Columns typed `bytes` hold ciphertext (see `safeguarding.crypto`) or MACs and salts.  Plaintext
is limited to what storage needs for order and integrity: ids, sequence numbers, timestamps,
entry kinds, KDF parameters.  Nothing here may hold a name, a text or a category in clear.
"""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class VaultMeta(SQLModel, table=True):
    """One row: the vault's format, its name-lookup salt and the chronology head."""

    __tablename__ = "vault_meta"

    id: int = Field(default=1, primary_key=True)
    format: int
    created_at: str
    lookup_salt: bytes
    head_seq: int
    head_mac: bytes
    # The vault key's epoch (one more at every re-key), the keys of earlier epochs sealed under
    # the current field key, and whether a re-key waits for every slot to have an X25519 key.
    key_epoch: int = 0
    previous_keys: bytes | None = None
    rekey_due: int = 0


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int = Field(primary_key=True)
    name_tag: bytes = Field(unique=True)
    name: bytes
    role: bytes
    created_at: str
    disabled_at: str | None = None
    # The user's Ed25519 public key, cached from the chronology (which `verify` checks it
    # against); None until they are issued one.
    signing_key: bytes | None = None


class KeySlot(SQLModel, table=True):
    """The vault key wrapped for one user's passphrase, or for the recovery key.

    A disabled user's slot loses its wrapped key, so the passphrase no longer opens the vault.
    """

    __tablename__ = "key_slots"

    id: int = Field(primary_key=True)
    purpose: str  # "passphrase" or "recovery"
    user_id: int | None = Field(default=None, foreign_key="users.id", unique=True)
    kdf: str
    kdf_iterations: int
    kdf_memory_kib: int
    kdf_lanes: int
    salt: bytes
    wrapped_key: bytes | None = None
    updated_at: str
    # The slot's Ed25519 private key, sealed under the same passphrase-derived key.
    signing_key: bytes | None = None
    # The slot's X25519 key: private sealed like the signing key, public in clear (and in the
    # chronology).  Once a slot has one, `wrapped_key` is the vault key sealed to it.
    exchange_key: bytes | None = None
    exchange_public: bytes | None = None


class Case(SQLModel, table=True):
    """A case's reference number and its keys (every epoch's), wrapped by the vault's field key;
    a restricted case's are not (empty here): they are sealed to each member in `case_access`."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: int = Field(primary_key=True)
    year: int
    number: int
    opened_at: str
    case_key: bytes
    # Cached from the case's chronology (which `verify` checks it against): "open" or "closed".
    status: str = Field(default="open", index=True)
    closed_at: str | None = None
    # Cached from the chronology: whether only its members can read it, and whether a member
    # left and its next entry must start a new key epoch.
    restricted: int = 0
    rekey_due: int = 0


class CaseAccess(SQLModel, table=True):
    """A restricted case's keys sealed to one member's X25519 key (holder: their user id), or to
    the recovery key's (holder 0).  No sealed box yet: a member whose key is still to come."""

    __tablename__ = "case_access"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    holder: int = Field(primary_key=True)
    sealed: bytes | None = None


class Entry(SQLModel, table=True):
    """One link of the append-only chronology; triggers refuse UPDATE and DELETE."""

    __tablename__ = "entries"

    seq: int = Field(primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    kind: str
    event_at: str
    recorded_at: str
    author_id: int = Field(foreign_key="users.id")
    payload: bytes
    # Before signatures: the chain MAC.  Since: the entry's SHA-256 hash (see chronology).
    mac: bytes
    # What anyone may read and check without a passphrase (public keys, slot fingerprints, a
    # case's reference), as signed JSON; None before signatures.
    facts: str | None = None
    signature: bytes | None = None


class UnlockAttempt(SQLModel, table=True):
    """A failed attempt to unlock: unsigned, outside the chronology (whoever failed held no
    key).  The name as given, the account and the terminal are sealed to the key slots'
    X25519 keys in `details`; the name's lookup tag counts its failures since its last unlock."""

    __tablename__ = "unlock_attempts"

    id: int = Field(primary_key=True)
    at: str
    tried: str  # "passphrase" or "recovery key"
    name_tag: bytes = Field(index=True)
    details: str
    # When that name next unlocked: from then on the attempt no longer slows anyone down.
    cleared_at: str | None = None


class CaseSummary(SQLModel, table=True):
    """Where a case stands, as its entries leave it, sealed with the case's key (of epoch
    `epoch`): derived data, written with each of its entries and checked by `verify`.  `seq`
    is the case's last entry (any kind), as the entries table already says in clear."""

    __tablename__ = "case_summaries"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    seq: int
    epoch: int
    summary: bytes


class Concern(SQLModel, table=True):
    """A concern a member of staff reported: the chronology entry that holds it (`seq`, its
    payload sealed with the concern's own key), and its state, cached from the chronology
    (which `verify` checks it against): first read by the safeguarding team, and triaged."""

    __tablename__ = "concerns"

    id: int = Field(primary_key=True)
    seq: int = Field(foreign_key="entries.seq", unique=True)
    author_id: int = Field(foreign_key="users.id")
    recorded_at: str
    seen_at: str | None = None
    triaged_seq: int | None = None
    outcome: str | None = None


class ConcernKey(SQLModel, table=True):
    """A concern's key sealed to one holder's X25519 key: a reader's or its author's user id,
    or 0 for the recovery key."""

    __tablename__ = "concern_keys"

    concern_id: int = Field(foreign_key="concerns.id", primary_key=True)
    holder: int = Field(primary_key=True)
    sealed: bytes


class Person(SQLModel, table=True):
    """A person a case may be about: the `person_added` entry that records them (`seq`), their
    fields sealed with the field key, and their name's lookup tag (not unique)."""

    __tablename__ = "people"

    id: int = Field(primary_key=True)
    seq: int = Field(foreign_key="entries.seq", unique=True)
    name_tag: bytes = Field(index=True)
    name: bytes
    dob: bytes
    year_group: bytes
    upn: bytes
    role: bytes
    created_at: str


class PersonLink(SQLModel, table=True):
    """Two people linked (`relation`, sealed), as the `person_linked` entry `seq` records it."""

    __tablename__ = "person_links"

    id: int = Field(primary_key=True)
    seq: int = Field(foreign_key="entries.seq", unique=True)
    person_a: int = Field(foreign_key="people.id")
    person_b: int = Field(foreign_key="people.id")
    relation: bytes
