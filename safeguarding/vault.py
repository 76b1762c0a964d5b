"""The vault: its key, the users' key slots, the recovery slot and per-case keys.

A vault is one SQLite file.  Its random vault key never touches the disk unwrapped: each user's
slot wraps it under their passphrase (Argon2id), the recovery slot under the recovery key.
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

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from safeguarding import chronology, clock, crypto, scratch, storage
from safeguarding.errors import NotAllowed, NotFound, UsageError, VaultUnusable
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


def _fill_slot(slot: KeySlot, secret: str, vault_key: bytes, kdf: crypto.KdfParams) -> None:
    """(Re)wrap the vault key in `slot` under `secret`, with a fresh salt and nonce."""
    salt = crypto.new_salt()
    kek = crypto.stretch(secret, salt, kdf)
    slot.kdf = kdf.name
    slot.kdf_iterations = kdf.iterations
    slot.kdf_memory_kib = kdf.memory_kib
    slot.kdf_lanes = kdf.lanes
    slot.salt = salt
    slot.wrapped_key = crypto.seal(
        kek, vault_key, table="key_slots", row=slot.id, column="wrapped_key"
    )
    slot.updated_at = clock.to_text(clock.now())


def _unwrap(slot: KeySlot, secret: str) -> bytes | None:
    if slot.wrapped_key is None:
        return None
    kek = crypto.stretch(secret, slot.salt, _params(slot))
    try:
        return crypto.open_sealed(
            kek, slot.wrapped_key, table="key_slots", row=slot.id, column="wrapped_key"
        )
    except crypto.DecryptionError:
        return None


def _next_id(session: Session, column: Any) -> int:
    return int(session.exec(select(func.coalesce(func.max(column), 0))).one()) + 1


def _meta(session: Session) -> VaultMeta:
    meta = session.get(VaultMeta, 1)
    if meta is None:
        raise VaultUnusable("the vault has no metadata row", hint="restore from a backup")
    return meta


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
                    user = cls._build(engine, name, passphrase, vault_key, recovery_key, kdf)
            finally:
                engine.dispose()
            yield NewVault(path, temp, user, Keys.from_vault_key(vault_key), recovery_key)
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
    ) -> UserInfo:
        keys = Keys.from_vault_key(vault_key)
        now = clock.now()
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
            )
            session.add(user)
            session.flush()
            for slot_id, purpose, user_id, secret in (
                (1, "passphrase", 1, passphrase),
                (2, "recovery", None, recovery_key),
            ):
                slot = KeySlot(
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
                _fill_slot(slot, secret, vault_key, kdf)
                session.add(slot)
            session.flush()
            for kind, payload in (
                ("vault_created", {"format": VAULT_FORMAT}),
                ("user_added", {"user": name, "role": Role.DSL.value}),
            ):
                chronology.append(
                    session,
                    mac_key=keys.mac_key,
                    payload_key=keys.field_key,
                    kind=kind,
                    author_id=1,
                    payload=payload,
                    recorded_at=now,
                )
        return UserInfo(1, name, Role.DSL, clock.to_text(now), None)

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
        """Unlock as `user_name`; raises `NotAllowed` for an unknown, disabled or wrong user."""
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            user = self._find_user(session, user_name)
            if user.disabled_at is not None:
                raise NotAllowed(f"user {user_name!r} is disabled")
            slot = self._user_slot(session, user)
            session.expunge_all()
        vault_key = _unwrap(slot, passphrase)
        if vault_key is None:
            raise NotAllowed(f"wrong passphrase for {user_name!r}; nothing was changed")
        keys = Keys.from_vault_key(vault_key)
        return Unlocked(self, _user_info(keys, user), keys)

    def unlock_with_recovery_key(self, recovery_key: str) -> Keys:
        key_text = normalise_recovery_key(recovery_key)
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            slot = session.exec(select(KeySlot).where(KeySlot.purpose == "recovery")).first()
            if slot is None:
                raise VaultUnusable("the vault has no recovery slot")
            session.expunge_all()
        vault_key = _unwrap(slot, key_text)
        if vault_key is None:
            raise NotAllowed("that recovery key does not open this vault; nothing was changed")
        return Keys.from_vault_key(vault_key)

    def unlock_for_recovery(self, recovery_key: str, user_name: str) -> Unlocked:
        """Open the vault with the recovery key on behalf of `user_name`, who forgot their
        passphrase; raises `NotFound` if there is no such user."""
        keys = self.unlock_with_recovery_key(recovery_key)
        with storage.guarded(self.path), storage.reading(self.engine) as session:
            user = self._find_target(session, user_name)
            session.expunge_all()
        return Unlocked(self, _user_info(keys, user), keys)

    def recover(self, recovery_key: str, user_name: str, new_passphrase: str) -> UserInfo:
        """Give a user who forgot their passphrase a new one, opening the vault with the
        recovery key.  The chronology records it against that user."""
        unlocked = self.unlock_for_recovery(recovery_key, user_name)
        return unlocked.set_passphrase(None, new_passphrase, via="recovery key")


class NewVault:
    """A complete vault under its scratch name, with its recovery key: not yet a vault anyone
    can open, until `publish`."""

    def __init__(
        self, path: Path, temp: scratch.Scratch, user: UserInfo, keys: Keys, recovery_key: str
    ) -> None:
        self.path = path
        self.user = user
        self.recovery_key = recovery_key
        self._temp = temp
        self._keys = keys

    def publish(self) -> Unlocked:
        """Link the vault into place under its name (never over an existing file): from here
        on it is the vault.  Returns it unlocked as its first user."""
        try:
            os.link(self._temp.path, self.path)
        except FileExistsError:
            raise UsageError(f"{self.path} already exists; nothing was changed") from None
        storage.fsync_directory(self.path.parent)
        self._temp.release()
        return Unlocked(Vault.open(self.path), self.user, self._keys)


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

    def __init__(self, vault: Vault, user: UserInfo, keys: Keys) -> None:
        self.vault = vault
        self.user = user
        self.keys = keys

    def close(self) -> None:
        self.vault.close()

    def _require_manager(self, action: str) -> None:
        if self.user.role not in MANAGING_ROLES:
            raise NotAllowed(
                f"only a DSL or the headteacher may {action}; {self.user.name} is "
                f"{ROLE_TITLES[self.user.role]}"
            )

    def _append(self, session: Session, kind: str, payload: dict[str, Any], **extra: Any) -> Entry:
        return chronology.append(
            session,
            mac_key=self.keys.mac_key,
            payload_key=self.keys.field_key,
            kind=kind,
            author_id=self.user.id,
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
            slot = KeySlot(
                id=_next_id(session, KeySlot.id),
                purpose="passphrase",
                user_id=user_id,
                kdf="",
                kdf_iterations=0,
                kdf_memory_kib=0,
                kdf_lanes=0,
                salt=b"",
                updated_at=now,
            )
            _fill_slot(slot, passphrase, self.keys.vault_key, kdf)
            session.add(slot)
            self._append(session, "user_added", {"user": name, "role": role.value})
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
            _fill_slot(slot, new_passphrase, self.keys.vault_key, kdf)
            session.add(slot)
            payload: dict[str, Any] = {"user": info.name}
            if via is not None:
                payload["via"] = via
            kind = "passphrase_changed" if own and via is None else "passphrase_reset"
            chronology.append(
                session,
                mac_key=self.keys.mac_key,
                payload_key=self.keys.field_key,
                kind=kind,
                author_id=self.user.id,
                payload=payload,
            )
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
            slot.updated_at = now
            session.add(user)
            session.add(slot)
            self._append(session, "user_disabled", {"user": info.name})
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

    def verify(self, checkpoints: Iterable[chronology.Checkpoint] = ()) -> chronology.ChainReport:
        """Check the whole vault: every user field and case key decrypts, and the chain holds.

        Raises `CheckFailed` naming the first damaged row or entry.
        """
        from safeguarding.errors import CheckFailed, Damaged

        try:
            return self._verify(checkpoints)
        except Damaged as error:
            # Here damage is what was looked for: a failed check (exit 1), not an unusable vault.
            raise CheckFailed(error.detail) from None

    def _verify(self, checkpoints: Iterable[chronology.Checkpoint]) -> chronology.ChainReport:
        from safeguarding.errors import CheckFailed

        with storage.guarded(self.vault.path), storage.reading(self.vault.engine) as session:
            for user in session.exec(select(User).order_by(col(User.id))).all():
                try:
                    _user_info(self.keys, user)
                except (crypto.DecryptionError, ValueError):
                    raise CheckFailed(
                        f"user {user.id} does not decrypt: altered or moved"
                    ) from None
            case_keys = self.case_keys(session)
            report = chronology.verify_chain(
                session,
                mac_key=self.keys.mac_key,
                field_key=self.keys.field_key,
                case_keys=case_keys,
                checkpoints=checkpoints,
            )
            # A case's cached open/closed state must agree with its (verified) chronology.
            from safeguarding.cases import check_cached_status

            check_cached_status(session)
            return report

    def head(self) -> chronology.Checkpoint:
        with storage.guarded(self.vault.path), storage.reading(self.vault.engine) as session:
            return chronology.head(session)
