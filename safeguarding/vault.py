"""The vault: its key, the users' key slots and signing keys, the recovery slot, per-case keys.

A vault is one SQLite file.  Its random vault key never touches the disk unwrapped: each user's
slot wraps it under their passphrase (Argon2id), the recovery slot under the recovery key, and
each slot also seals its holder's Ed25519 signing key under the same passphrase-derived key.
Nothing here may store a passphrase, a key or a name in clear, or print anything.
"""

from __future__ import annotations

import base64
import os
import secrets
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from safeguarding import chronology, clock, crypto, integrity, scratch, storage
from safeguarding.chronology import Signer
from safeguarding.errors import (
    CheckFailed,
    Damaged,
    NotAllowed,
    NotFound,
    UsageError,
    VaultUnusable,
)
from safeguarding.models import Case, Entry, KeySlot, User, VaultMeta

VAULT_FORMAT = 1
MIN_PASSPHRASE_LENGTH = 12
MAX_NAME_LENGTH = 100
RECOVERY_KEY_BYTES = 20  # 160 bits, 32 base32 characters in 8 groups of 4


class Role(StrEnum):
    DSL = "dsl"
    DEPUTY = "deputy"
    HEAD = "head"


ROLE_TITLES = {
    Role.DSL: "Designated Safeguarding Lead",
    Role.DEPUTY: "Deputy DSL",
    Role.HEAD: "Headteacher",
}

#: Roles that may add and disable users or set another user's passphrase.
MANAGING_ROLES = frozenset({Role.DSL, Role.HEAD})


@dataclass(frozen=True)
class Keys:
    """The vault key and the purpose keys derived from it.  Never printed."""

    vault_key: bytes = field(repr=False)
    field_key: bytes = field(repr=False)
    mac_key: bytes = field(repr=False)

    @classmethod
    def from_vault_key(cls, vault_key: bytes) -> Keys:
        return cls(
            vault_key=vault_key,
            field_key=crypto.derive_subkey(vault_key, crypto.FIELD_KEY_LABEL),
            mac_key=crypto.derive_subkey(vault_key, crypto.CHAIN_KEY_LABEL),
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


def _params(slot: KeySlot) -> crypto.KdfParams:
    return crypto.KdfParams(
        iterations=slot.kdf_iterations,
        memory_kib=slot.kdf_memory_kib,
        lanes=slot.kdf_lanes,
        name=slot.kdf,
    )


def _place(slot: KeySlot) -> str:
    return crypto.slot_place(slot.id, slot.purpose, slot.user_id, _params(slot), slot.salt)


def _seal_slot(
    slot: KeySlot,
    kek: bytes,
    vault_key: bytes | None,
    signing_key: Ed25519PrivateKey | None,
) -> None:
    """Seal the vault key and the holder's signing key in `slot` under `kek`, bound to the
    slot's id, purpose, user, KDF parameters and salt (already set on `slot`)."""
    place = _place(slot)
    slot.wrapped_key = (
        None
        if vault_key is None
        else crypto.seal(kek, vault_key, table="key_slots", row=place, column="wrapped_key")
    )
    slot.signing_key = (
        None
        if signing_key is None
        else crypto.seal(
            kek,
            crypto.private_bytes(signing_key),
            table="key_slots",
            row=place,
            column="signing_key",
        )
    )
    slot.updated_at = clock.to_text(clock.now())


def _fill_slot(
    slot: KeySlot,
    secret: str,
    vault_key: bytes,
    kdf: crypto.KdfParams,
    signing_key: Ed25519PrivateKey,
) -> None:
    """(Re)wrap the vault key and a signing key in `slot` under `secret`, with a fresh salt."""
    crypto.check_kdf(kdf)
    slot.kdf = kdf.name
    slot.kdf_iterations = kdf.iterations
    slot.kdf_memory_kib = kdf.memory_kib
    slot.kdf_lanes = kdf.lanes
    slot.salt = crypto.new_salt()
    _seal_slot(slot, crypto.stretch(secret, slot.salt, kdf), vault_key, signing_key)


@dataclass(frozen=True)
class _Opened:
    """A slot opened by its secret: the key it was derived to, and what it sealed."""

    kek: bytes = field(repr=False)
    vault_key: bytes = field(repr=False)
    signing_key: Ed25519PrivateKey | None = field(repr=False)
    legacy: bool  # sealed before signatures: re-sealed at this first unlock


def _unwrap(slot: KeySlot, secret: str) -> _Opened | None:
    if slot.wrapped_key is None:
        return None
    params = _params(slot)
    crypto.check_kdf(params)
    kek = crypto.stretch(secret, slot.salt, params)
    place = _place(slot)
    try:
        vault_key = crypto.open_sealed(
            kek, slot.wrapped_key, table="key_slots", row=place, column="wrapped_key"
        )
    except crypto.DecryptionError:
        if slot.signing_key is not None:
            return None
        try:  # a slot from before signatures, bound to its row id alone
            vault_key = crypto.open_sealed(
                kek, slot.wrapped_key, table="key_slots", row=slot.id, column="wrapped_key"
            )
        except crypto.DecryptionError:
            return None
        return _Opened(kek, vault_key, None, legacy=True)
    signing_key = None
    if slot.signing_key is not None:
        try:
            raw = crypto.open_sealed(
                kek, slot.signing_key, table="key_slots", row=place, column="signing_key"
            )
        except crypto.DecryptionError:
            raise Damaged(
                f"key slot {slot.id}'s signing key does not decrypt: altered",
                summary="a key slot's signing key was altered",
            ) from None
        signing_key = crypto.signing_key_from(raw)
    return _Opened(kek, vault_key, signing_key, legacy=False)


def _empty_slot(slot_id: int, purpose: str, user_id: int | None) -> KeySlot:
    return KeySlot(
        id=slot_id,
        purpose=purpose,
        user_id=user_id,
        kdf="",
        kdf_iterations=0,
        kdf_memory_kib=0,
        kdf_lanes=0,
        salt=b"",
        updated_at="",
    )


def _slot_facts(*slots: KeySlot) -> dict[str, str]:
    return {str(slot.id): integrity.slot_fingerprint(slot) for slot in slots}


def _next_id(session: Session, column: Any) -> int:
    return int(session.exec(select(func.coalesce(func.max(column), 0))).one()) + 1


def _meta(session: Session) -> VaultMeta:
    meta = session.get(VaultMeta, 1)
    if meta is None:
        raise VaultUnusable("the vault has no metadata row", hint="restore from a backup")
    return meta


@dataclass(frozen=True)
class EntryFacts:
    recorded_at: str
    author_id: int
    signed: bool


class Vault:
    """An opened (not yet unlocked) vault file."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine

    @classmethod
    def open(cls, path: Path, busy_timeout: float = storage.DEFAULT_BUSY_TIMEOUT) -> Vault:
        """Open an existing vault of the current schema, or raise `VaultUnusable`."""
        storage.check_is_sqlite(path)
        storage.refuse_network_filesystem(path)
        engine = storage.make_engine(path, busy_timeout)
        try:
            with storage.guarded(path):
                storage.require_current_schema(engine, path)
        except BaseException:
            engine.dispose()
            raise
        return cls(path, engine)

    def verify_public(
        self, checkpoints: Iterable[chronology.Checkpoint] = ()
    ) -> integrity.ChainReport:
        """What anyone can check without a passphrase: the hash chain, every signature, who
        managed users, and the clear columns.  Raises `CheckFailed` naming the first problem."""
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            return integrity.verify(session, checkpoints=checkpoints)

    def entry_facts(self, seq: int) -> EntryFacts:
        """What anyone may read of entry `seq`: when it was recorded, by whom, and whether it
        is signed (an entry from before signatures is not)."""
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            entry = session.get(Entry, seq)
            if entry is None:
                raise NotFound(f"there is no entry {seq} in this vault")
            return EntryFacts(entry.recorded_at, entry.author_id, entry.signature is not None)

    @classmethod
    def create(
        cls,
        path: Path,
        user_name: str,
        passphrase: str,
        kdf: crypto.KdfParams | None = None,
    ) -> tuple[Unlocked, str]:
        """Create a vault with its first user, a DSL.  Returns it unlocked, and the recovery key.

        `build` then `publish` in one step, for a caller that keeps the recovery key itself.
        """
        with cls.build(path, user_name, passphrase, kdf) as new:
            return new.publish(), new.recovery_key

    @classmethod
    @contextmanager
    def build(
        cls,
        path: Path,
        user_name: str,
        passphrase: str,
        kdf: crypto.KdfParams | None = None,
    ) -> Iterator[NewVault]:
        """Build a complete vault with its first user under a scratch name beside `path`, and
        yield it unpublished: nothing is at `path` until `NewVault.publish`, so the recovery key
        can be shown first.  Leaving the block without publishing removes the scratch file, and
        so does the next `build` for `path` if this process is killed; an existing file at
        `path` is never touched.
        """
        from safeguarding import migrate

        kdf = kdf or crypto.DEFAULT_KDF
        name = normalise_name(user_name)
        check_passphrase(name, passphrase)
        scratch.clear_stale(path)
        if path.exists() or path.is_symlink():
            raise UsageError(
                f"{path} already exists; nothing was changed",
                hint="use --vault to create a vault somewhere else",
            )
        storage.refuse_network_filesystem(path)
        temp = scratch.Scratch.claim(path)
        try:
            engine = storage.make_engine(temp.path)
            try:
                with storage.guarded(temp.path):
                    migrate.upgrade(engine)
                    vault_key = crypto.new_key()
                    recovery_key = new_recovery_key()
                    user, signer = cls._build(
                        engine, name, passphrase, vault_key, recovery_key, kdf
                    )
            finally:
                engine.dispose()
            yield NewVault(path, temp, user, Keys.from_vault_key(vault_key), recovery_key, signer)
        finally:
            temp.release()

    @staticmethod
    def _build(
        engine: Engine,
        name: str,
        passphrase: str,
        vault_key: bytes,
        recovery_key: str,
        kdf: crypto.KdfParams,
    ) -> tuple[UserInfo, Signer]:
        keys = Keys.from_vault_key(vault_key)
        now = clock.now()
        signing_key, recovery_signing_key = crypto.new_signing_key(), crypto.new_signing_key()
        signer = Signer.of(1, signing_key)
        with storage.writing(engine) as session:
            salt = crypto.new_salt()
            session.add(
                VaultMeta(
                    id=1,
                    format=VAULT_FORMAT,
                    created_at=clock.to_text(now),
                    lookup_salt=salt,
                    head_seq=0,
                    head_mac=crypto.GENESIS_MAC,
                )
            )
            user = User(
                id=1,
                name_tag=crypto.lookup_tag(salt, name),
                name=crypto.seal_text(keys.field_key, name, table="users", row=1, column="name"),
                role=crypto.seal_text(
                    keys.field_key, Role.DSL.value, table="users", row=1, column="role"
                ),
                created_at=clock.to_text(now),
                signing_key=signer.public,
            )
            session.add(user)
            session.flush()
            slots = []
            for slot_id, purpose, user_id, secret, key in (
                (1, "passphrase", 1, passphrase, signing_key),
                (2, "recovery", None, recovery_key, recovery_signing_key),
            ):
                slot = _empty_slot(slot_id, purpose, user_id)
                _fill_slot(slot, secret, vault_key, kdf, key)
                session.add(slot)
                slots.append(slot)
            session.flush()
            genesis = {
                "user": 1,
                "signing_key": signer.public.hex(),
                "recovery_key": crypto.public_bytes(recovery_signing_key).hex(),
                "slots": _slot_facts(*slots),
            }
            for kind, payload, facts in (
                ("vault_created", {"format": VAULT_FORMAT}, genesis),
                ("user_added", {"user": name, "role": Role.DSL.value}, {"user": 1}),
            ):
                chronology.append(
                    session,
                    signer=signer,
                    payload_key=keys.field_key,
                    kind=kind,
                    payload=payload,
                    facts=facts,
                    recorded_at=now,
                )
        return UserInfo(1, name, Role.DSL, clock.to_text(now), None), signer

    def close(self) -> None:
        self.engine.dispose()

    def _lookup_user(self, session: Session, name: str) -> User | None:
        tag = crypto.lookup_tag(_meta(session).lookup_salt, normalise_name(name))
        return session.exec(select(User).where(User.name_tag == tag)).first()

    def _find_user(self, session: Session, name: str) -> User:
        """The acting user: someone the vault does not know may not open it (exit 3)."""
        user = self._lookup_user(session, name)
        if user is None:
            raise NotAllowed(
                f"there is no user {name!r} in this vault",
                hint="use --user or SAFEGUARD_USER to say who you are",
            )
        return user

    def _find_target(self, session: Session, name: str) -> User:
        """The user a command acts on, named by the caller: unknown is not found (exit 4)."""
        user = self._lookup_user(session, name)
        if user is None:
            raise NotFound(
                f"no user {name!r} in this vault",
                hint="'safeguard user list' shows the vault's users",
            )
        return user

    def _user_slot(self, session: Session, user: User) -> KeySlot:
        slot = session.exec(select(KeySlot).where(KeySlot.user_id == user.id)).first()
        if slot is None:
            raise VaultUnusable(f"user {user.id} has no key slot", hint="restore from a backup")
        return slot

    def unlock(self, user_name: str, passphrase: str) -> Unlocked:
        """Unlock as `user_name`; raises `NotAllowed` for an unknown, disabled or wrong user.

        At a user's first unlock after the upgrade to signatures, their slot is re-sealed with
        a new signing key, recorded in the chronology.
        """
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            user = self._find_user(session, user_name)
            if user.disabled_at is not None:
                raise NotAllowed(f"user {user_name!r} is disabled")
            slot = self._user_slot(session, user)
            session.expunge_all()
        try:
            opened = _unwrap(slot, passphrase)
        except crypto.DecryptionError as error:  # an unknown KDF named in the slot
            raise Damaged(error.detail, summary="a key slot was altered") from None
        if opened is None:
            raise NotAllowed(f"wrong passphrase for {user_name!r}; nothing was changed")
        keys = Keys.from_vault_key(opened.vault_key)
        info = _user_info(keys, user)
        if _same_name(info.name) != _same_name(user_name):
            raise Damaged(
                f"the key slot found for {user_name!r} belongs to another user: the vault was "
                "altered",
                summary="a user's key slot was swapped",
            )
        if opened.signing_key is None:
            signer = self._issue_key(user.id, slot.id, opened, keys)
        else:
            signer = Signer.of(user.id, opened.signing_key)
            if signer.public != user.signing_key:
                raise Damaged(
                    f"{user_name!r}'s signing key is not the one the vault records: altered",
                    summary="a user's signing key was altered",
                )
        return Unlocked(self, info, keys, signer)

    def _issue_key(self, user_id: int, slot_id: int, opened: _Opened, keys: Keys) -> Signer:
        """Give a user from before signatures their signing key, re-sealing their slot; the
        first to unlock after the upgrade also seals the old entries' head into the chain."""
        with storage.guarded(self.path), storage.writing(self.engine) as session:
            slot = session.get(KeySlot, slot_id)
            user = session.get(User, user_id)
            if slot is None or user is None:
                raise VaultUnusable("a key slot vanished while unlocking", hint="try again")
            if slot.signing_key is not None:  # issued meanwhile by another command of theirs
                place = crypto.slot_place(
                    slot.id, slot.purpose, slot.user_id, _params(slot), slot.salt
                )
                try:
                    raw = crypto.open_sealed(
                        opened.kek,
                        slot.signing_key,
                        table="key_slots",
                        row=place,
                        column="signing_key",
                    )
                except crypto.DecryptionError:
                    raise NotAllowed(
                        "your key slot changed while this command unlocked it; nothing was saved",
                        hint="run the command again",
                    ) from None
                return Signer.of(user_id, crypto.signing_key_from(raw))
            signing_key = crypto.new_signing_key()
            signer = Signer.of(user_id, signing_key)
            _seal_slot(slot, opened.kek, opened.vault_key, signing_key)
            user.signing_key = signer.public
            session.add_all([slot, user])
            session.flush()
            _introduce(
                session,
                signer,
                keys,
                slot,
                "key_issued",
                {"user": user_id, "signing_key": signer.public.hex()},
            )
        return signer

    def _open_recovery(self, recovery_key: str) -> tuple[KeySlot, _Opened]:
        key_text = normalise_recovery_key(recovery_key)
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            slot = session.exec(select(KeySlot).where(KeySlot.purpose == "recovery")).first()
            if slot is None:
                raise VaultUnusable("the vault has no recovery slot")
            session.expunge_all()
        opened = _unwrap(slot, key_text)
        if opened is None:
            raise NotAllowed("that recovery key does not open this vault; nothing was changed")
        return slot, opened

    def unlock_with_recovery_key(self, recovery_key: str) -> Keys:
        return Keys.from_vault_key(self._open_recovery(recovery_key)[1].vault_key)

    def unlock_for_recovery(self, recovery_key: str, user_name: str) -> Unlocked:
        """Open the vault with the recovery key on behalf of `user_name`, who forgot their
        passphrase; raises `NotFound` if there is no such user.  What is written is signed by
        the recovery key (issued one now if the slot is from before signatures)."""
        slot, opened = self._open_recovery(recovery_key)
        keys = Keys.from_vault_key(opened.vault_key)
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            user = self._find_target(session, user_name)
            session.expunge_all()
        if opened.signing_key is None:
            signer = self._issue_recovery_key(slot.id, user.id, opened, keys)
        else:
            signer = Signer.of(user.id, opened.signing_key, recovery=True)
        return Unlocked(self, _user_info(keys, user), keys, signer)

    def _issue_recovery_key(
        self, slot_id: int, user_id: int, opened: _Opened, keys: Keys
    ) -> Signer:
        """Re-seal a recovery slot from before signatures with a signing key of its own, at its
        first use; if nothing is signed yet, its entry also seals the old entries' head."""
        with storage.guarded(self.path), storage.writing(self.engine) as session:
            slot = session.get(KeySlot, slot_id)
            if slot is None or slot.signing_key is not None:
                raise NotAllowed(
                    "the recovery slot changed while this command opened it; nothing was saved",
                    hint="run the command again",
                )
            signer = Signer.of(user_id, crypto.new_signing_key(), recovery=True)
            _seal_slot(slot, opened.kek, opened.vault_key, signer.key)
            session.add(slot)
            session.flush()
            _introduce(
                session,
                signer,
                keys,
                slot,
                "recovery_key_issued",
                {"recovery_key": signer.public.hex()},
            )
        return signer

    def recover(self, recovery_key: str, user_name: str, new_passphrase: str) -> UserInfo:
        """Give a user who forgot their passphrase a new one, opening the vault with the
        recovery key.  The chronology records it against that user."""
        unlocked = self.unlock_for_recovery(recovery_key, user_name)
        return unlocked.set_passphrase(None, new_passphrase, via="recovery key")


def _introduce(
    session: Session,
    signer: Signer,
    keys: Keys,
    slot: KeySlot,
    kind: str,
    facts: dict[str, Any],
) -> None:
    """Record a key issued from a slot of before signatures: as `kind`, or, if nothing is
    signed yet, as the `upgraded` entry that seals the old entries' head (after they verify)."""
    if _nothing_signed(session):
        integrity.verify(session, secrets=_secrets(session, keys))
        kind = "upgraded"
        facts = facts | _snapshot(session)
    else:
        facts = facts | {"slots": _slot_facts(slot)}
    chronology.append(
        session,
        signer=signer,
        payload_key=keys.field_key,
        kind=kind,
        payload={"format": VAULT_FORMAT},
        facts=facts,
    )


def _nothing_signed(session: Session) -> bool:
    signed = session.exec(
        select(Entry.seq).where(col(Entry.signature).is_not(None)).limit(1)
    ).first()
    return signed is None


def _same_name(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()


def _secrets(session: Session, keys: Keys) -> integrity.Secrets:
    users = session.exec(select(User)).all()
    return integrity.Secrets(
        mac_key=keys.mac_key,
        field_key=keys.field_key,
        case_keys={
            case.id: crypto.open_sealed(
                keys.field_key, case.case_key, table="cases", row=case.id, column="case_key"
            )
            for case in session.exec(select(Case)).all()
        },
        user_ids={_same_name(_user_info(keys, user).name): user.id for user in users},
    )


def _snapshot(session: Session) -> dict[str, Any]:
    """What the entries before signatures left in clear, for the `upgraded` entry to vouch for."""
    return {
        "users": {
            str(user.id): {"created_at": user.created_at, "disabled_at": user.disabled_at}
            for user in session.exec(select(User)).all()
        },
        "cases": {
            str(case.id): [case.year, case.number] for case in session.exec(select(Case)).all()
        },
        "slots": _slot_facts(*session.exec(select(KeySlot)).all()),
    }


class NewVault:
    """A complete vault under its scratch name, with its recovery key: not yet a vault anyone
    can open, until `publish`."""

    def __init__(
        self,
        path: Path,
        temp: scratch.Scratch,
        user: UserInfo,
        keys: Keys,
        recovery_key: str,
        signer: Signer,
    ) -> None:
        self.path = path
        self.user = user
        self.recovery_key = recovery_key
        self._temp = temp
        self._keys = keys
        self._signer = signer

    def publish(self) -> Unlocked:
        """Link the vault into place under its name (never over an existing file): from here
        on it is the vault.  Returns it unlocked as its first user."""
        try:
            os.link(self._temp.path, self.path)
        except FileExistsError:
            raise UsageError(f"{self.path} already exists; nothing was changed") from None
        storage.fsync_directory(self.path.parent)
        self._temp.release()
        return Unlocked(Vault.open(self.path), self.user, self._keys, self._signer)


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


class Unlocked:
    """A vault opened by one user: what they may read and write."""

    def __init__(
        self,
        vault: Vault,
        user: UserInfo,
        keys: Keys,
        signer: Signer,
    ) -> None:
        self.vault = vault
        self.user = user
        self.keys = keys
        self.signer = signer

    def close(self) -> None:
        self.vault.close()

    def _require_manager(self, action: str) -> None:
        if self.user.role not in MANAGING_ROLES:
            raise NotAllowed(
                f"only a DSL or the headteacher may {action}; {self.user.name} is "
                f"{ROLE_TITLES[self.user.role]}"
            )
        # The role in the users table is a cache: before anyone is added, disabled or reset,
        # it must be the role the chronology gave this user (a deputy who re-sealed their own
        # row as DSL is stopped here, not only named by `verify` afterwards).
        recorded = self._chronicled_role()
        if recorded is not None and recorded != self.user.role.value:
            raise Damaged(
                f"{self.user.name}'s role in the users table ({self.user.role.value}) is not the "
                f"one the chronology gives them ({recorded}); nothing was changed",
                summary="a user's role was changed by hand",
            )

    def _chronicled_role(self) -> str | None:
        """This user's role as the last `user_added` entry naming them records it."""
        with storage.guarded(self.vault.path), storage.reading(self.vault.engine) as session:
            added = session.exec(
                select(Entry).where(Entry.kind == "user_added").order_by(col(Entry.seq))
            ).all()
            role = None
            for entry in added:
                payload = chronology.open_payload(self.keys.field_key, entry)
                if _same_name(str(payload.get("user", ""))) == _same_name(self.user.name):
                    role = str(payload.get("role"))
            return role

    def _append(self, session: Session, kind: str, payload: dict[str, Any], **extra: Any) -> Entry:
        return chronology.append(
            session,
            signer=self.signer,
            payload_key=self.keys.field_key,
            kind=kind,
            payload=payload,
            **extra,
        )

    # Users ---------------------------------------------------------------------------------

    def find_user(self, name: str) -> UserInfo:
        """The user called `name`, as recorded; raises `NotFound` if there is none."""
        with storage.guarded(self.vault.path), storage.reading(self.vault.engine) as session:
            return _user_info(self.keys, self.vault._find_target(session, name))

    def users(self) -> list[UserInfo]:
        with storage.guarded(self.vault.path), storage.reading(self.vault.engine) as session:
            rows = session.exec(select(User).order_by(col(User.id))).all()
            return [_user_info(self.keys, row) for row in rows]

    def add_user(
        self,
        name: str,
        role: Role,
        passphrase: str,
        kdf: crypto.KdfParams | None = None,
    ) -> UserInfo:
        self._require_manager("add users")
        name = normalise_name(name)
        check_passphrase(name, passphrase)
        kdf = kdf or crypto.DEFAULT_KDF
        with storage.guarded(self.vault.path), storage.writing(self.vault.engine) as session:
            tag = crypto.lookup_tag(_meta(session).lookup_salt, name)
            if session.exec(select(User).where(User.name_tag == tag)).first() is not None:
                raise UsageError(f"there is already a user called {name!r}; nothing was changed")
            user_id = _next_id(session, User.id)
            now = clock.to_text(clock.now())
            session.add(
                User(
                    id=user_id,
                    name_tag=tag,
                    name=crypto.seal_text(
                        self.keys.field_key, name, table="users", row=user_id, column="name"
                    ),
                    role=crypto.seal_text(
                        self.keys.field_key, role.value, table="users", row=user_id, column="role"
                    ),
                    created_at=now,
                )
            )
            session.flush()
            slot = _empty_slot(_next_id(session, KeySlot.id), "passphrase", user_id)
            signing_key = crypto.new_signing_key()
            _fill_slot(slot, passphrase, self.keys.vault_key, kdf, signing_key)
            public = crypto.public_bytes(signing_key)
            session.get_one(User, user_id).signing_key = public
            session.add(slot)
            session.flush()
            self._append(
                session,
                "user_added",
                {"user": name, "role": role.value},
                facts={"user": user_id, "signing_key": public.hex(), "slots": _slot_facts(slot)},
                recorded_at=clock.from_text(now),
            )
        return UserInfo(user_id, name, role, now, None)

    def set_passphrase(
        self,
        name: str | None,
        new_passphrase: str,
        *,
        via: str | None = None,
        kdf: crypto.KdfParams | None = None,
    ) -> UserInfo:
        """Re-wrap the vault key for `name` (default: oneself) under a new passphrase.

        Only that user's slot changes: the vault key, every other slot and every record stay
        exactly as they were.
        """
        target_name = self.user.name if name is None else normalise_name(name)
        own = target_name.casefold() == self.user.name.casefold()
        if not own and via is None:
            self._require_manager("set another user's passphrase")
        check_passphrase(target_name, new_passphrase)
        kdf = kdf or crypto.DEFAULT_KDF
        with storage.guarded(self.vault.path), storage.writing(self.vault.engine) as session:
            user = self.vault._find_target(session, target_name)
            info = _user_info(self.keys, user)
            if user.disabled_at is not None:
                raise NotAllowed(f"user {info.name!r} is disabled; nothing was changed")
            slot = self.vault._user_slot(session, user)
            payload: dict[str, Any] = {"user": info.name}
            if via is not None:
                payload["via"] = via
            kind = "passphrase_changed" if own and via is None else "passphrase_reset"
            facts: dict[str, Any] = {"user": user.id}
            if kind == "passphrase_changed":
                signing_key = self.signer.key  # the same key, sealed under the new passphrase
            else:
                # Whoever resets a passphrase never held the old signing key: a new one is
                # issued, and the chronology says from which entry it signs.
                signing_key = crypto.new_signing_key()
                user.signing_key = crypto.public_bytes(signing_key)
                facts["signing_key"] = user.signing_key.hex()
                session.add(user)
            _fill_slot(slot, new_passphrase, self.keys.vault_key, kdf, signing_key)
            session.add(slot)
            session.flush()
            facts["slots"] = _slot_facts(slot)
            self._append(session, kind, payload, facts=facts)
        if kind == "passphrase_changed":
            self.signer = Signer.of(self.user.id, signing_key)
        return info

    def disable_user(self, name: str) -> UserInfo:
        """Disable a user: their slot loses its wrapped key, so their passphrase opens nothing."""
        self._require_manager("disable users")
        with storage.guarded(self.vault.path), storage.writing(self.vault.engine) as session:
            user = self.vault._find_target(session, name)
            info = _user_info(self.keys, user)
            if user.disabled_at is not None:
                raise UsageError(f"user {info.name!r} is already disabled; nothing was changed")
            if user.id == self.user.id:
                raise NotAllowed("you cannot disable yourself; ask another DSL")
            if info.role is Role.DSL and self._active_dsls(session) <= 1:
                raise NotAllowed(f"{info.name!r} is the last active DSL; add another DSL first")
            now = clock.to_text(clock.now())
            user.disabled_at = now
            slot = self.vault._user_slot(session, user)
            slot.wrapped_key = None
            slot.signing_key = None
            slot.updated_at = now
            session.add(user)
            session.add(slot)
            session.flush()
            self._append(
                session,
                "user_disabled",
                {"user": info.name},
                facts={"user": user.id, "slots": _slot_facts(slot)},
                recorded_at=clock.from_text(now),
            )
        return UserInfo(info.id, info.name, info.role, info.created_at, now)

    def _active_dsls(self, session: Session) -> int:
        rows = session.exec(select(User).where(col(User.disabled_at).is_(None))).all()
        return sum(1 for row in rows if _user_info(self.keys, row).role is Role.DSL)

    # Cases' keys ---------------------------------------------------------------------------

    def wrap_case_key(self, case_id: int, case_key: bytes) -> bytes:
        return crypto.seal(
            self.keys.field_key, case_key, table="cases", row=case_id, column="case_key"
        )

    def case_key(self, case: Case) -> bytes:
        return crypto.open_sealed(
            self.keys.field_key, case.case_key, table="cases", row=case.id, column="case_key"
        )

    def case_keys(self, session: Session) -> dict[int, bytes]:
        return {case.id: self.case_key(case) for case in session.exec(select(Case)).all()}

    # Integrity -----------------------------------------------------------------------------

    def verify(self, checkpoints: Iterable[chronology.Checkpoint] = ()) -> integrity.ChainReport:
        """Check the whole vault: every user field and case key decrypts, every signature and
        MAC holds, and the clear columns agree with the chronology.

        Raises `CheckFailed` naming the first damaged row or entry.
        """
        try:
            return self._verify(checkpoints)
        except Damaged as error:
            # Here damage is what was looked for: a failed check (exit 1), not an unusable vault.
            raise CheckFailed(error.detail) from None

    def _verify(self, checkpoints: Iterable[chronology.Checkpoint]) -> integrity.ChainReport:
        with storage.guarded(self.vault.path), storage.reading(self.vault.engine) as session:
            for user in session.exec(select(User).order_by(col(User.id))).all():
                try:
                    _user_info(self.keys, user)
                except (crypto.DecryptionError, ValueError):
                    raise CheckFailed(
                        f"user {user.id} does not decrypt: altered or moved"
                    ) from None
            report = integrity.verify(
                session, secrets=_secrets(session, self.keys), checkpoints=checkpoints
            )
            return report

    def head(self) -> chronology.Checkpoint:
        with storage.guarded(self.vault.path), storage.reading(self.vault.engine) as session:
            return chronology.head(session)
