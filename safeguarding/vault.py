"""The vault: its key, the users' key slots and signing keys, the recovery slot, per-case keys.

A vault is one SQLite file.  Its random vault key never touches the disk unwrapped: each user's
slot wraps it under their passphrase (Argon2id), the recovery slot under the recovery key, and
each slot also seals its holder's Ed25519 signing key under the same passphrase-derived key.
Nothing here may store a passphrase, a key or a name in clear, or print anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from safeguarding import (
    attempts,
    categories,
    chronology,
    clock,
    crypto,
    files,
    restricted,
    slots,
    storage,
    vouched,
)
from safeguarding.chronology import Signer
from safeguarding.db import Connection, Db, KeySlot, User, VaultMeta
from safeguarding.errors import Damaged, NotAllowed, UsageError, VaultUnusable, WrongPassphrase
from safeguarding.pg_init import PendingSchema
from safeguarding.roster import (
    MANAGING_ROLES,
    MAX_NAME_LENGTH,
    MIN_PASSPHRASE_LENGTH,
    READING_ROLES,
    RECOVERY_KEY_BYTES,
    ROLE_TITLES,
    UserInfo,
    _meta,
    _same_name,
    _user_info,
    check_passphrase,
    new_recovery_key,
    normalise_name,
    normalise_recovery_key,
    people,
    team_facts,
)
from safeguarding.server import Location, Server
from safeguarding.slots import Holder, Keys
from safeguarding.unlocked import Departures, Unlocked
from safeguarding.vault_file import EntryFacts, VaultFile
from safeguarding.vault_keys import _all_slots_modern, _nothing_signed, _rekey, _secrets, _snapshot
from safeguarding.vocabulary import Role

# The vault's public names, wherever they are defined: `from safeguarding.vault import ...`.
__all__ = [
    "MANAGING_ROLES",
    "MAX_NAME_LENGTH",
    "MIN_PASSPHRASE_LENGTH",
    "RECOVERY_KEY_BYTES",
    "ROLE_TITLES",
    "VAULT_FORMAT",
    "Departures",
    "EntryFacts",
    "Holder",
    "Keys",
    "NewVault",
    "Role",
    "Unlocked",
    "UserInfo",
    "Vault",
    "VaultFile",
    "check_passphrase",
    "new_recovery_key",
    "normalise_name",
    "normalise_recovery_key",
    "people",
]

VAULT_FORMAT = 1


class Vault(VaultFile):
    """An opened (not yet unlocked) vault file, and what unlocks it or makes a new one."""

    @classmethod
    def create(
        cls,
        path: Location,
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
        path: Location,
        user_name: str,
        passphrase: str,
        kdf: crypto.KdfParams | None = None,
    ) -> Iterator[NewVault]:
        """Build a complete vault with its first user under a temporary name beside `path`
        (a `files.PrivateFile`), and yield it unpublished: nothing is at `path` until
        `NewVault.publish`, so the recovery key can be shown first.  Leaving the block without
        publishing removes the temporary file, and so does the next private file made beside
        `path` if this process is killed; an existing file at `path` is never touched.
        """
        kdf = kdf or crypto.DEFAULT_KDF
        name = normalise_name(user_name)
        check_passphrase(name, passphrase)
        if isinstance(path, Server):  # in a schema, its rows committed by `publish`
            with PendingSchema(path) as pending:
                with storage.guarded(path):
                    user, holder, keys, recovery_key = cls._build(
                        pending.connection, name, passphrase, kdf
                    )
                yield NewVault(path, pending, user, keys, recovery_key, holder)
            return
        files.remove_stale(path.parent)  # what a killed `init` left, even if this one refuses
        if path.exists() or path.is_symlink():
            raise UsageError(
                f"{path} already exists; nothing was changed",
                hint="use --vault to create a vault somewhere else",
            )
        storage.refuse_network_filesystem(path)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            temp = files.PrivateFile(path, named=True)
        except OSError as error:
            raise _unwritable(path, error, "no vault was created") from None
        from safeguarding import migrate  # Alembic, for the schema: only a new vault needs it

        with temp:
            engine = storage.make_engine(temp.temp_path)
            try:
                with storage.guarded(temp.temp_path):
                    migrate.upgrade(engine)
            finally:
                engine.dispose()
            with (
                storage.guarded(temp.temp_path),
                contextlib.closing(storage.connect(temp.temp_path)) as connection,
            ):
                user, holder, keys, recovery_key = cls._build(connection, name, passphrase, kdf)
            yield NewVault(path, temp, user, keys, recovery_key, holder)

    @staticmethod
    def _build(
        connection: Connection, name: str, passphrase: str, kdf: crypto.KdfParams
    ) -> tuple[UserInfo, Holder, Keys, str]:
        """A new vault's rows: its key, its first user and recovery key (returned)."""
        vault_key, recovery_key = crypto.new_key(), new_recovery_key()
        keys = Keys.from_vault_key(vault_key)
        now = clock.now()
        holder, recovery = Holder.new(), Holder.new()
        signer = Signer.of(1, holder.signing)
        with storage.writing(connection) as db:
            salt = crypto.new_salt()
            db.insert(
                VaultMeta(
                    id=1,
                    format=VAULT_FORMAT,
                    created_at=clock.to_text(now),
                    lookup_salt=salt,
                    head_seq=0,
                    head_mac=crypto.GENESIS_MAC,
                )
            )
            db.insert(_first_user(keys, salt, name, clock.to_text(now), signer))
            made = []
            for slot_id, purpose, user_id, secret, keys_of in (
                (1, "passphrase", 1, passphrase, holder),
                (2, "recovery", None, recovery_key, recovery),
            ):
                slot = slots.empty(slot_id, purpose, user_id)
                slots.fill(slot, secret, vault_key, 0, kdf, keys_of)
                db.insert(slot)
                made.append(slot)
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
                ("user_added", {"user": name, "role": Role.DSL.value}, {"user": 1, "readers": [1]}),
            ):
                chronology.append(
                    db,
                    signer=signer,
                    payload_key=keys.fields,
                    kind=kind,
                    payload=payload,
                    facts=facts,
                    recorded_at=now,
                )
        return UserInfo(1, name, Role.DSL, clock.to_text(now), None), holder, keys, recovery_key

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
        self.refuse_staff(user_name)
        with attempts.watching(self.connection, user_name, attempts.PASSPHRASE) as watch:
            with storage.guarded(self.path), storage.reading(self.connection) as db:
                user = self._find_user(db, user_name)
                if user.disabled_at is not None:
                    raise NotAllowed(f"user {user_name!r} is disabled")
                slot = self._user_slot(db, user)
                meta = _meta(db)
            opened = slots.unwrap(slot, passphrase, meta.key_epoch)
            if opened is None:
                raise WrongPassphrase(f"wrong passphrase for {user_name!r}; nothing was changed")
        keys = slots.keys_from(meta, opened.vault_key)
        info = _user_info(keys, user)
        if _same_name(info.name) != _same_name(user_name):
            raise Damaged(
                f"the key slot found for {user_name!r} belongs to another user: the vault was "
                "altered",
                summary="a user's key slot was swapped",
            )
        if not opened.modern:
            return watch.tell(self._modernise(info, slot.id, passphrase, opened, keys, allegations))
        assert opened.signing_key is not None and opened.exchange_key is not None
        signer = Signer.of(user.id, opened.signing_key)
        if signer.public != user.signing_key:
            raise Damaged(
                f"{user_name!r}'s signing key is not the one the vault records: altered",
                summary="a user's signing key was altered",
            )
        return watch.tell(Unlocked(self, info, keys, signer, opened.exchange_key))

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
        with storage.guarded(self.path), storage.writing(self.connection) as db:
            slot = db.get(KeySlot, slot_id)
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
            meta = _meta(db)
            slots.seal(slot, opened.kek, opened.vault_key, meta.key_epoch, holder)
            db.update(slot)
            signer, kind, facts = _issued(db, user, acting_for, opened, holder)
            if user is not None and user.role in READING_ROLES:  # now they can receive concerns
                facts.update(team_facts(db, keys))
            _introduce(db, signer, keys, slot, kind, facts)
            if meta.rekey_due and _all_slots_modern(db):
                keys = _rekey_at_upgrade(db, keys, signer, allegations)
        info = user if user is not None else acting_for
        assert info is not None
        return Unlocked(self, info, keys, signer, holder.exchange)

    def _open_recovery(self, recovery_key: str) -> tuple[KeySlot, slots.Opened, Keys]:
        key_text = normalise_recovery_key(recovery_key)
        with storage.guarded(self.path), storage.reading(self.connection) as db:
            slot = db.first(KeySlot, "purpose = 'recovery'")
            if slot is None:
                raise VaultUnusable("the vault has no recovery slot")
            meta = _meta(db)
        opened = slots.unwrap(slot, key_text, meta.key_epoch)
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
        with attempts.watching(self.connection, user_name, attempts.RECOVERY_KEY) as watch:
            slot, opened, keys = self._open_recovery(recovery_key)
            with storage.guarded(self.path), storage.reading(self.connection) as db:
                user = (
                    self._find_user(db, user_name) if acting else self._find_target(db, user_name)
                )
            info = _user_info(keys, user)
            if acting and not info.active:
                raise NotAllowed(f"user {info.name!r} is disabled")
        if not opened.modern:
            return watch.tell(
                self._modernise(
                    None, slot.id, recovery_key, opened, keys, allegations, acting_for=info
                )
            )
        assert opened.signing_key is not None and opened.exchange_key is not None
        signer = Signer.of(user.id, opened.signing_key, recovery=True)
        return watch.tell(Unlocked(self, info, keys, signer, opened.exchange_key))

    def recover(self, recovery_key: str, user_name: str, new_passphrase: str) -> UserInfo:
        """Give a user who forgot their passphrase a new one, opening the vault with the
        recovery key.  The chronology records it against that user."""
        unlocked = self.unlock_for_recovery(recovery_key, user_name)
        return unlocked.set_passphrase(None, new_passphrase, via="recovery key")


def _first_user(keys: Keys, salt: bytes, name: str, now: str, signer: Signer) -> User:
    """The vault's first user, a DSL, as `Vault.build` records them."""
    return User(
        id=1,
        name_tag=crypto.lookup_tag(salt, name),
        name=crypto.seal_text(keys.field_key, name, table="users", row=1, column="name"),
        role=crypto.seal_text(keys.field_key, Role.DSL.value, table="users", row=1, column="role"),
        created_at=now,
        signing_key=signer.public,
    )


def _issued(
    db: Db,
    user: UserInfo | None,
    acting_for: UserInfo | None,
    opened: slots.Opened,
    holder: Holder,
) -> tuple[Signer, str, dict[str, Any]]:
    """Who signs from a slot being modernised, and what the chronology records of what it was
    issued: for `user`'s slot, or for the recovery slot (`user` None) used for `acting_for`."""
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
            db.execute("UPDATE users SET signing_key = ? WHERE id = ?", signer.public, user.id)
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
    return signer, kind, facts


def _rekey_at_upgrade(
    db: Db,
    keys: Keys,
    signer: Signer,
    allegations: Callable[[], Collection[str]] | None,
) -> Keys:
    """The re-key once every slot has its exchange key after an upgrade, restricting the cases
    in an allegation category, recorded as `keys_changed`."""
    codes = allegations() if allegations is not None else _packaged_allegations()
    vouched.require(db)
    keys = _rekey(db, keys)
    newly = restricted.restrict_existing(db, keys.field_key, people(db, keys), codes)
    chronology.append(
        db,
        signer=signer,
        payload_key=keys.fields,
        kind="keys_changed",
        payload={"reason": "upgrade", "restricted": len(newly)},
        facts={
            "vault_epoch": keys.epoch,
            "slots": slots.facts(*db.all(KeySlot)),
            "restricted_cases": {str(case): members for case, members in newly.items()},
        },
    )
    return keys


def _packaged_allegations() -> frozenset[str]:
    return frozenset(c.code for c in categories.load() if c.outcomes == "allegation")


def _introduce(
    db: Db,
    signer: Signer,
    keys: Keys,
    slot: KeySlot,
    kind: str,
    facts: dict[str, Any],
) -> None:
    """Record a key issued from a slot of before signatures: as `kind`, or, if nothing is
    signed yet, as the `upgraded` entry that seals the old entries' head (after they verify)."""
    if _nothing_signed(db):
        from safeguarding import integrity  # loaded only where the checks run

        integrity.verify(db, secrets=_secrets(db, keys))
        kind = "upgraded"
        facts = facts | _snapshot(db)
    else:
        facts = facts | {"slots": slots.facts(slot)}
    chronology.append(
        db,
        signer=signer,
        payload_key=keys.fields,
        kind=kind,
        payload={"format": VAULT_FORMAT},
        facts=facts,
    )


class NewVault:
    """A complete vault under its temporary name, with its recovery key: not yet a vault
    anyone can open, until `publish`."""

    def __init__(
        self,
        path: Location,
        temp: files.PrivateFile | PendingSchema,
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
        """Put the vault in place under its name (never over an existing file): from here on it
        is the vault.  Returns it unlocked as its first user."""
        try:
            self._temp.publish()
        except FileExistsError:
            raise UsageError(f"{self.path} already exists; nothing was changed") from None
        except OSError as error:
            # After the name is given, only the folder's fsync can have failed.
            outcome = "it is there, but a power cut may lose it"
            if not self._temp.published:
                outcome = "no vault was created"
            raise _unwritable(self.path, error, outcome) from None
        signer = Signer.of(self.user.id, self._holder.signing)
        return Unlocked(Vault.open(self.path), self.user, self._keys, signer, self._holder.exchange)


def _unwritable(path: Location, error: OSError, outcome: str) -> VaultUnusable:
    reason = (error.strerror or type(error).__name__).lower()
    return VaultUnusable(
        f"could not write the vault at {path} ({reason}); {outcome}",
        hint="choose a folder on a local disk you can write to, with free space",
    )
