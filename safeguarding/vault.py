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
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from safeguarding import (
    casefile,
    chronology,
    clock,
    crypto,
    integrity,
    restricted,
    scratch,
    slots,
    storage,
)
from safeguarding.chronology import Signer
from safeguarding.crypto import KeyRing
from safeguarding.errors import (
    CheckFailed,
    Damaged,
    NotAllowed,
    NotFound,
    UsageError,
    VaultUnusable,
)
from safeguarding.models import Case, Entry, KeySlot, User, VaultMeta
from safeguarding.slots import Holder, Keys

VAULT_FORMAT = 1
MIN_PASSPHRASE_LENGTH = 12
MAX_NAME_LENGTH = 100
RECOVERY_KEY_BYTES = 20  # 160 bits, 32 base32 characters in 8 groups of 4


class Role(StrEnum):
    DSL = "dsl"
    DEPUTY = "deputy"
    HEAD = "head"
    CHAIR = "chair"


ROLE_TITLES = {
    Role.DSL: "Designated Safeguarding Lead",
    Role.DEPUTY: "Deputy DSL",
    Role.HEAD: "Headteacher",
    Role.CHAIR: "Chair of governors",
}

#: Roles that may add and disable users or set another user's passphrase.
MANAGING_ROLES = frozenset({Role.DSL, Role.HEAD})


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


def _next_id(session: Session, column: Any) -> int:
    return int(session.exec(select(func.coalesce(func.max(column), 0))).one()) + 1


def _meta(session: Session) -> VaultMeta:
    meta = session.get(VaultMeta, 1)
    if meta is None:
        raise VaultUnusable("the vault has no metadata row", hint="restore from a backup")
    return meta


@dataclass(frozen=True)
class Departures:
    """How many restricted cases a user left (disabled, or reset by a non-member), and how many
    of those now have no member: only the recovery key opens them."""

    cases: int
    unattended: int


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
                    user, holder = cls._build(
                        engine, name, passphrase, vault_key, recovery_key, kdf
                    )
            finally:
                engine.dispose()
            yield NewVault(path, temp, user, Keys.from_vault_key(vault_key), recovery_key, holder)
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
    ) -> tuple[UserInfo, Holder]:
        keys = Keys.from_vault_key(vault_key)
        now = clock.now()
        holder, recovery = Holder.new(), Holder.new()
        signer = Signer.of(1, holder.signing)
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
            made = []
            for slot_id, purpose, user_id, secret, keys_of in (
                (1, "passphrase", 1, passphrase, holder),
                (2, "recovery", None, recovery_key, recovery),
            ):
                slot = slots.empty(slot_id, purpose, user_id)
                slots.fill(slot, secret, vault_key, 0, kdf, keys_of)
                session.add(slot)
                made.append(slot)
            session.flush()
            genesis = {
                "user": 1,
                "signing_key": signer.public.hex(),
                "exchange_key": holder.exchange_public.hex(),
                "recovery_key": recovery.signing_public.hex(),
                "recovery_exchange_key": recovery.exchange_public.hex(),
                "slots": slots.facts(*made),
            }
            for kind, payload, facts in (
                ("vault_created", {"format": VAULT_FORMAT}, genesis),
                ("user_added", {"user": name, "role": Role.DSL.value}, {"user": 1}),
            ):
                chronology.append(
                    session,
                    signer=signer,
                    payload_key=keys.fields,
                    kind=kind,
                    payload=payload,
                    facts=facts,
                    recorded_at=now,
                )
        return UserInfo(1, name, Role.DSL, clock.to_text(now), None), holder

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

    def unlock(
        self,
        user_name: str,
        passphrase: str,
        allegations: Callable[[], Collection[str]] | None = None,
    ) -> Unlocked:
        """Unlock as `user_name`; raises `NotAllowed` for an unknown, disabled or wrong user.

        At a user's first unlock after an upgrade, their slot is re-sealed with the keys it
        lacks (a signing key, an exchange key), recorded in the chronology; the unlock that
        gives the last slot its exchange key also re-keys the vault, and restricts the cases
        whose category is one of `allegations()` (codes; default: the packaged categories').
        """
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            user = self._find_user(session, user_name)
            if user.disabled_at is not None:
                raise NotAllowed(f"user {user_name!r} is disabled")
            slot = self._user_slot(session, user)
            meta = _meta(session)
            session.expunge_all()
        opened = _open_slot(slot, passphrase, meta.key_epoch)
        if opened is None:
            raise NotAllowed(f"wrong passphrase for {user_name!r}; nothing was changed")
        keys = slots.keys_from(meta, opened.vault_key)
        info = _user_info(keys, user)
        if _same_name(info.name) != _same_name(user_name):
            raise Damaged(
                f"the key slot found for {user_name!r} belongs to another user: the vault was "
                "altered",
                summary="a user's key slot was swapped",
            )
        if not opened.modern:
            return self._modernise(info, slot.id, passphrase, opened, keys, allegations)
        assert opened.signing_key is not None and opened.exchange_key is not None
        signer = Signer.of(user.id, opened.signing_key)
        if signer.public != user.signing_key:
            raise Damaged(
                f"{user_name!r}'s signing key is not the one the vault records: altered",
                summary="a user's signing key was altered",
            )
        return Unlocked(self, info, keys, signer, opened.exchange_key)

    def _modernise(
        self,
        user: UserInfo | None,
        slot_id: int,
        secret: str,
        opened: slots.Opened,
        keys: Keys,
        allegations: Callable[[], Collection[str]] | None,
        acting_for: UserInfo | None = None,
    ) -> Unlocked:
        """Issue what a slot from before signatures or key epochs lacks, re-sealing it, and
        record it: the first to do so after the upgrade to signatures also seals the old
        entries' head into the chain; the last slot to get its exchange key re-keys the vault.
        `user` is None for the recovery slot, used on behalf of `acting_for`."""
        with storage.guarded(self.path), storage.writing(self.engine) as session:
            slot = session.get(KeySlot, slot_id)
            if slot is None:
                raise VaultUnusable("a key slot vanished while unlocking", hint="try again")
            if slot.exchange_key is not None or (
                opened.signing_key is None and slot.signing_key is not None
            ):
                raise NotAllowed(
                    "your key slot changed while this command unlocked it; nothing was saved",
                    hint="run the command again",
                )
            holder = Holder(
                opened.signing_key or crypto.new_signing_key(), crypto.new_exchange_key()
            )
            meta = _meta(session)
            slots.seal(slot, opened.kek, opened.vault_key, meta.key_epoch, holder)
            session.add(slot)
            exchange = holder.exchange_public.hex()
            if user is not None:
                signer = Signer.of(user.id, holder.signing)
                if opened.signing_key is None:
                    kind = "key_issued"
                    facts: dict[str, Any] = {
                        "user": user.id,
                        "signing_key": signer.public.hex(),
                        "exchange_key": exchange,
                    }
                    session.get_one(User, user.id).signing_key = signer.public
                else:
                    kind, facts = "exchange_key_issued", {"user": user.id, "exchange_key": exchange}
            else:
                assert acting_for is not None
                signer = Signer.of(acting_for.id, holder.signing, recovery=True)
                if opened.signing_key is None:
                    kind = "recovery_key_issued"
                    facts = {
                        "recovery_key": signer.public.hex(),
                        "recovery_exchange_key": exchange,
                    }
                else:
                    kind, facts = "exchange_key_issued", {"recovery_exchange_key": exchange}
            session.flush()
            _introduce(session, signer, keys, slot, kind, facts)
            if meta.rekey_due and _all_slots_modern(session):
                codes = allegations() if allegations is not None else _packaged_allegations()
                keys = _rekey(session, keys)
                newly = restricted.restrict_existing(
                    session, keys.field_key, people(session, keys), codes
                )
                chronology.append(
                    session,
                    signer=signer,
                    payload_key=keys.fields,
                    kind="keys_changed",
                    payload={"reason": "upgrade", "restricted": len(newly)},
                    facts={
                        "vault_epoch": keys.epoch,
                        "slots": slots.facts(*session.exec(select(KeySlot)).all()),
                        "restricted_cases": {str(case): members for case, members in newly.items()},
                    },
                )
        info = user if user is not None else acting_for
        assert info is not None
        return Unlocked(self, info, keys, signer, holder.exchange)

    def _open_recovery(self, recovery_key: str) -> tuple[KeySlot, slots.Opened, Keys]:
        key_text = normalise_recovery_key(recovery_key)
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            slot = session.exec(select(KeySlot).where(KeySlot.purpose == "recovery")).first()
            if slot is None:
                raise VaultUnusable("the vault has no recovery slot")
            meta = _meta(session)
            session.expunge_all()
        opened = _open_slot(slot, key_text, meta.key_epoch)
        if opened is None:
            raise NotAllowed("that recovery key does not open this vault; nothing was changed")
        return slot, opened, slots.keys_from(meta, opened.vault_key)

    def unlock_with_recovery_key(self, recovery_key: str) -> Keys:
        return self._open_recovery(recovery_key)[2]

    def unlock_for_recovery(
        self,
        recovery_key: str,
        user_name: str,
        allegations: Callable[[], Collection[str]] | None = None,
        *,
        acting: bool = False,
    ) -> Unlocked:
        """Open the vault with the recovery key on behalf of `user_name`: who forgot their
        passphrase (`NotFound` if there is no such user), or, `acting`, who is using the key
        (refused, as any unknown or disabled user is).  What is written is signed by the
        recovery key (issued the keys it lacks now if the slot is from before signatures or key
        epochs)."""
        slot, opened, keys = self._open_recovery(recovery_key)
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            if acting:
                user = self._find_user(session, user_name)
            else:
                user = self._find_target(session, user_name)
            session.expunge_all()
        info = _user_info(keys, user)
        if acting and not info.active:
            raise NotAllowed(f"user {info.name!r} is disabled")
        if not opened.modern:
            return self._modernise(
                None, slot.id, recovery_key, opened, keys, allegations, acting_for=info
            )
        assert opened.signing_key is not None and opened.exchange_key is not None
        signer = Signer.of(user.id, opened.signing_key, recovery=True)
        return Unlocked(self, info, keys, signer, opened.exchange_key)

    def recover(self, recovery_key: str, user_name: str, new_passphrase: str) -> UserInfo:
        """Give a user who forgot their passphrase a new one, opening the vault with the
        recovery key.  The chronology records it against that user."""
        unlocked = self.unlock_for_recovery(recovery_key, user_name)
        return unlocked.set_passphrase(None, new_passphrase, via="recovery key")


def _open_slot(slot: KeySlot, secret: str, epoch: int) -> slots.Opened | None:
    try:
        return slots.unwrap(slot, secret, epoch)
    except crypto.DecryptionError as error:  # an unknown KDF named in the slot
        raise Damaged(error.detail, summary="a key slot was altered") from None


def _all_slots_modern(session: Session) -> bool:
    """Whether every slot still in use has an exchange key, so a re-key can reach them all."""
    behind = session.connection().exec_driver_sql(
        "SELECT COUNT(*) FROM key_slots WHERE wrapped_key IS NOT NULL AND exchange_public IS NULL"
    )
    return int(behind.scalar_one()) == 0


def _packaged_allegations() -> frozenset[str]:
    from safeguarding import categories

    return frozenset(c.code for c in categories.load() if c.outcomes == "allegation")


def _rekey(session: Session, keys: Keys) -> Keys:
    """Start a new epoch: a fresh vault key sealed to every slot in use (and the earlier ones
    kept under it), users' fields re-sealed, and a fresh key for every case that is not
    restricted, so an old slot from a copy opens nothing written from here on.  Call inside
    `storage.writing`, once every slot in use has an exchange key."""
    new = keys.turned()
    meta = _meta(session)
    meta.key_epoch = new.epoch
    meta.previous_keys = slots.seal_previous(new)
    meta.rekey_due = 0
    session.add(meta)
    for user in session.exec(select(User)).all():
        for column in ("name", "role"):
            text = crypto.open_text(
                keys.field_key, getattr(user, column), table="users", row=user.id, column=column
            )
            setattr(
                user,
                column,
                crypto.seal_text(new.field_key, text, table="users", row=user.id, column=column),
            )
        session.add(user)
    for slot in session.exec(select(KeySlot).where(col(KeySlot.wrapped_key).is_not(None))).all():
        slots.give(slot, new.vault_key, new.epoch)
        session.add(slot)
    session.flush()
    connection = session.connection()
    updates = []
    for case_id, sealed in connection.exec_driver_sql(
        "SELECT id, case_key FROM cases WHERE restricted = 0"
    ).all():
        ring = KeyRing.of(
            crypto.open_sealed(
                keys.field_key, bytes(sealed), table="cases", row=case_id, column="case_key"
            )
        ).turned()
        updates.append(
            (
                crypto.seal(
                    new.field_key, ring.packed(), table="cases", row=case_id, column="case_key"
                ),
                case_id,
            )
        )
    if updates:
        connection.exec_driver_sql("UPDATE cases SET case_key = ? WHERE id = ?", updates)
    session.expire_all()
    return new


def _rekey_or_defer(session: Session, keys: Keys) -> Keys:
    """Re-key now if every slot in use can be reached, else leave it due (done at the unlock
    that gives the last of them its exchange key)."""
    if _all_slots_modern(session):
        return _rekey(session, keys)
    meta = _meta(session)
    meta.rekey_due = 1
    session.add(meta)
    return keys


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
        facts = facts | {"slots": slots.facts(slot)}
    chronology.append(
        session,
        signer=signer,
        payload_key=keys.fields,
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


def _secrets(
    session: Session, keys: Keys, opener: Callable[[Session, Case], KeyRing | None] | None = None
) -> integrity.Secrets:
    """The keys a check reads with: every case the vault key opens, and each restricted case
    that `opener` (the acting member's) opens."""
    users = session.exec(select(User)).all()
    rings: dict[int, KeyRing] = {}
    unreadable = set()
    for case in session.exec(select(Case)).all():
        ring = _vault_ring(keys, case) if not case.restricted else None
        if case.restricted and opener is not None:
            ring = opener(session, case)
        if ring is None:
            unreadable.add(case.id)
        else:
            rings[case.id] = ring
    return integrity.Secrets(
        mac_key=keys.mac_key,
        fields=keys.fields,
        case_keys=rings,
        unreadable=frozenset(unreadable),
        user_ids={_same_name(_user_info(keys, user).name): user.id for user in users},
    )


def people(session: Session, keys: Keys) -> list[restricted.Person]:
    """Every user as the membership rules of restricted cases see them."""
    found = []
    for row in session.exec(select(User).order_by(col(User.id))).all():
        info = _user_info(keys, row)
        found.append(restricted.Person(info.id, info.name, info.role.value, info.active))
    return found


def _vault_ring(keys: Keys, case: Case) -> KeyRing:
    """A case's keys, wrapped by the vault's current field key (a case that is not restricted)."""
    return KeyRing.of(
        crypto.open_sealed(
            keys.field_key, case.case_key, table="cases", row=case.id, column="case_key"
        )
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
        "slots": slots.facts(*session.exec(select(KeySlot)).all()),
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
        holder: Holder,
    ) -> None:
        self.path = path
        self.user = user
        self.recovery_key = recovery_key
        self._temp = temp
        self._keys = keys
        self._holder = holder

    def publish(self) -> Unlocked:
        """Link the vault into place under its name (never over an existing file): from here
        on it is the vault.  Returns it unlocked as its first user."""
        try:
            os.link(self._temp.path, self.path)
        except FileExistsError:
            raise UsageError(f"{self.path} already exists; nothing was changed") from None
        storage.fsync_directory(self.path.parent)
        self._temp.release()
        signer = Signer.of(self.user.id, self._holder.signing)
        return Unlocked(Vault.open(self.path), self.user, self._keys, signer, self._holder.exchange)


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
        exchange: X25519PrivateKey,
    ) -> None:
        self.vault = vault
        self.user = user
        self.keys = keys
        self.signer = signer
        self.exchange = exchange
        #: What the last disable or passphrase reset took this user's target out of.
        self.departures = Departures(0, 0)

    def close(self) -> None:
        self.vault.close()

    def require_manager(self, action: str) -> None:
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
                payload = chronology.open_payload(self.keys.fields, entry)
                if _same_name(str(payload.get("user", ""))) == _same_name(self.user.name):
                    role = str(payload.get("role"))
            return role

    def _append(self, session: Session, kind: str, payload: dict[str, Any], **extra: Any) -> Entry:
        return chronology.append(
            session,
            signer=self.signer,
            payload_key=self.keys.fields,
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
        self.require_manager("add users")
        name = normalise_name(name)
        check_passphrase(name, passphrase)
        kdf = kdf or crypto.DEFAULT_KDF
        with storage.guarded(self.vault.path), storage.writing(self.vault.engine) as session:
            self.require_epoch(session)
            tag = crypto.lookup_tag(_meta(session).lookup_salt, name)
            if session.exec(select(User).where(User.name_tag == tag)).first() is not None:
                raise UsageError(f"there is already a user called {name!r}; nothing was changed")
            user_id = _next_id(session, User.id)
            now = clock.to_text(clock.now())
            holder = Holder.new()
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
                    signing_key=holder.signing_public,
                )
            )
            session.flush()
            slot = slots.empty(_next_id(session, KeySlot.id), "passphrase", user_id)
            slots.fill(slot, passphrase, self.keys.vault_key, self.keys.epoch, kdf, holder)
            session.add(slot)
            session.flush()
            self._append(
                session,
                "user_added",
                {"user": name, "role": role.value},
                facts={
                    "user": user_id,
                    "signing_key": holder.signing_public.hex(),
                    "exchange_key": holder.exchange_public.hex(),
                    "slots": slots.facts(slot),
                },
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
        """Set a new passphrase for `name` (default: oneself), with new signing and exchange
        keys, and re-key the vault: an old copy of the slot, with the old passphrase, opens
        nothing written from here on."""
        target_name = self.user.name if name is None else normalise_name(name)
        own = target_name.casefold() == self.user.name.casefold()
        if not own and via is None:
            self.require_manager("set another user's passphrase")
        check_passphrase(target_name, new_passphrase)
        kdf = kdf or crypto.DEFAULT_KDF
        holder = Holder.new()
        with storage.guarded(self.vault.path), storage.writing(self.vault.engine) as session:
            self.require_epoch(session)
            user = self.vault._find_target(session, target_name)
            info = _user_info(self.keys, user)
            if user.disabled_at is not None:
                raise NotAllowed(f"user {info.name!r} is disabled; nothing was changed")
            slot = self.vault._user_slot(session, user)
            payload: dict[str, Any] = {"user": info.name}
            if via is not None:
                payload["via"] = via
            kind = "passphrase_changed" if own and via is None else "passphrase_reset"
            slots.fill(slot, new_passphrase, self.keys.vault_key, self.keys.epoch, kdf, holder)
            session.add(slot)
            session.flush()
            left = restricted.reseal_for(session, user.id, self._opener(session))
            self.departures = Departures(len(left), restricted.unattended(session, left))
            keys = _rekey_or_defer(session, self.keys)
            facts: dict[str, Any] = {
                "user": user.id,
                "signing_key": holder.signing_public.hex(),
                "exchange_key": holder.exchange_public.hex(),
                "slots": slots.facts(*session.exec(select(KeySlot)).all()),
            }
            if keys.epoch != self.keys.epoch:  # re-keyed now, not left due
                facts["vault_epoch"] = keys.epoch
            if left:
                facts["removed_from"] = left
            chronology.append(
                session,
                signer=self.signer,
                payload_key=keys.fields,
                kind=kind,
                payload=payload,
                facts=facts,
            )
            # From the next entry on, the user signs with their new key.
            session.get_one(User, user.id).signing_key = holder.signing_public
        self.keys = keys
        if kind == "passphrase_changed":
            self.signer = Signer.of(self.user.id, holder.signing)
            self.exchange = holder.exchange
        return info

    def disable_user(self, name: str) -> UserInfo:
        """Disable a user: their slot is emptied, they leave every restricted case, and the
        vault is re-keyed, so a copy of their slot opens nothing written from here on."""
        self.require_manager("disable users")
        with storage.guarded(self.vault.path), storage.writing(self.vault.engine) as session:
            self.require_epoch(session)
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
            slots.clear(slot)
            slot.updated_at = now
            session.add(user)
            session.add(slot)
            session.flush()
            left = restricted.remove(session, user.id)
            self.departures = Departures(len(left), restricted.unattended(session, left))
            keys = _rekey_or_defer(session, self.keys)
            facts: dict[str, Any] = {
                "user": user.id,
                "slots": slots.facts(*session.exec(select(KeySlot)).all()),
            }
            if keys.epoch != self.keys.epoch:  # re-keyed now, not left due
                facts["vault_epoch"] = keys.epoch
            if left:
                facts["removed_from"] = left
            chronology.append(
                session,
                signer=self.signer,
                payload_key=keys.fields,
                kind="user_disabled",
                payload={"user": info.name},
                facts=facts,
                recorded_at=clock.from_text(now),
            )
        self.keys = keys
        return UserInfo(info.id, info.name, info.role, info.created_at, now)

    @property
    def rekey_waiting(self) -> list[str]:
        """Who must unlock (or, for the recovery key, be used) before a re-key can reach every
        slot: empty once none is waiting."""
        with storage.guarded(self.vault.path), storage.reading(self.vault.engine) as session:
            if not _meta(session).rekey_due:
                return []
            names = {user.id: user.name for user in self.directory(session)}
            return [
                "the recovery key" if slot.user_id is None else names[slot.user_id]
                for slot in session.exec(
                    select(KeySlot)
                    .where(col(KeySlot.wrapped_key).is_not(None))
                    .where(col(KeySlot.exchange_public).is_(None))
                    .order_by(col(KeySlot.id))
                ).all()
            ]

    def _active_dsls(self, session: Session) -> int:
        rows = session.exec(select(User).where(col(User.disabled_at).is_(None))).all()
        return sum(1 for row in rows if _user_info(self.keys, row).role is Role.DSL)

    def directory(self, session: Session) -> list[UserInfo]:
        """Every user, decrypted, inside the caller's transaction."""
        rows = session.exec(select(User).order_by(col(User.id))).all()
        return [_user_info(self.keys, row) for row in rows]

    # Cases' keys ---------------------------------------------------------------------------

    @property
    def holder(self) -> int:
        """Whose sealed boxes this user opens: their own, or the recovery key's."""
        return restricted.RECOVERY if self.signer.recovery else self.user.id

    def require_epoch(self, session: Session) -> None:
        """Refuse to go on with keys from before a re-key that happened since this unlock."""
        if _meta(session).key_epoch != self.keys.epoch:
            me = session.get(User, self.user.id)
            if me is not None and me.disabled_at is not None and not self.signer.recovery:
                raise NotAllowed("you were disabled while this command waited; nothing was saved")
            raise NotAllowed(
                "the vault's keys were changed while this command waited (a user was disabled "
                "or a passphrase changed); nothing was saved",
                hint="run the command again",
            )

    def new_case_keys(
        self, session: Session, case: Case, members: Collection[int] | None
    ) -> KeyRing:
        """Give a new case its key: wrapped by the vault key, or (restricted, `members` given)
        sealed to each member and the recovery key only."""
        ring = KeyRing((crypto.new_key(),))
        if members is None:
            case.case_key = crypto.seal(
                self.keys.field_key, ring.packed(), table="cases", row=case.id, column="case_key"
            )
        else:
            case.case_key = b""
            case.restricted = 1
            restricted.seal(session, case.id, ring, [*members, restricted.RECOVERY])
        session.add(case)
        return ring

    def case_ring(
        self, session: Session, case: Case, *, writing: bool = False, epoch_checked: bool = False
    ) -> KeyRing:
        """The keys of a case this user may read.  A restricted case they are not a member of
        does not exist for them: `NotFound`, exactly as for an unknown reference.  Writing, a
        restricted case whose member left starts a new epoch first.  (`epoch_checked`: the
        caller has called `require_epoch` in this transaction, for many cases at once.)"""
        if not case.restricted:
            if not epoch_checked:
                self.require_epoch(session)
            return _vault_ring(self.keys, case)
        ring = restricted.open_ring(session, case.id, self.holder, self.exchange)
        if ring is None:
            raise casefile.no_such_case(case.year, case.number)
        if writing:
            ring = restricted.settle(session, case, ring)
        return ring

    def unattended(self) -> list[str]:
        """The restricted cases with no member left (only the recovery key opens them), by
        reference: for the holder of the recovery key only."""
        if not self.signer.recovery:
            return []
        with storage.guarded(self.vault.path), storage.reading(self.vault.engine) as session:
            return [
                casefile.format_reference(case.year, case.number)
                for case in session.exec(
                    select(Case).where(Case.restricted == 1).order_by(col(Case.id))
                ).all()
                if not restricted.members(session, case.id)
            ]

    def readable_case(self, session: Session, reference: str) -> Case:
        """The case `reference`, if it exists for this user (`NotFound` if not)."""
        case = casefile.find_case(session, reference)
        if not self.can_read(session, case):
            raise casefile.no_such_case(case.year, case.number)
        return case

    def can_read(self, session: Session, case: Case) -> bool:
        return not case.restricted or restricted.holds(session, case.id, self.holder)

    def _opener(self, session: Session) -> Callable[[Session, Case], KeyRing | None]:
        def opener(session: Session, case: Case) -> KeyRing | None:
            return restricted.open_ring(session, case.id, self.holder, self.exchange)

        return opener

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
                session,
                secrets=_secrets(session, self.keys, self._opener(session)),
                checkpoints=checkpoints,
            )
            return report

    def head(self) -> chronology.Checkpoint:
        with storage.guarded(self.vault.path), storage.reading(self.vault.engine) as session:
            return chronology.head(session)
