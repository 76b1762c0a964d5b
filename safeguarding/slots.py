"""Key slots: what one passphrase (or the recovery key) opens, and the vault's keys by epoch.

A slot seals its holder's Ed25519 signing key and X25519 exchange key under a key derived from
their passphrase (Argon2id), and holds the vault key sealed *to* its X25519 public key, so a
re-key can hand every other slot the new vault key without their passphrases.  A slot from
before key epochs holds the vault key wrapped under the passphrase-derived key itself, until
its holder's next unlock modernises it.  Every ciphertext is bound to the slot's id, purpose,
user, KDF parameters and salt (`crypto.slot_place`), and the vault key to its epoch too.

Nothing here touches the database, prints, or keeps a secret beyond the objects it
returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from safeguarding import clock, crypto
from safeguarding.crypto import KeyRing
from safeguarding.db import KeySlot, VaultMeta
from safeguarding.errors import Damaged


@dataclass(frozen=True)
class Keys:
    """The vault's keys: every epoch's vault key, and the purpose keys derived from them.
    Never printed."""

    vaults: KeyRing = field(repr=False)
    fields: KeyRing = field(repr=False)  # the field key of each epoch
    mac_key: bytes = field(repr=False)  # for the chain MACs from before signatures (epoch 0)

    @classmethod
    def of(cls, vaults: KeyRing) -> Keys:
        return cls(
            vaults=vaults,
            fields=KeyRing(
                tuple(crypto.derive_subkey(key, crypto.FIELD_KEY_LABEL) for key in vaults.keys)
            ),
            mac_key=crypto.derive_subkey(vaults.keys[0], crypto.CHAIN_KEY_LABEL),
        )

    @classmethod
    def from_vault_key(cls, vault_key: bytes) -> Keys:
        return cls.of(KeyRing((vault_key,)))

    @property
    def vault_key(self) -> bytes:
        return self.vaults.current

    @property
    def field_key(self) -> bytes:
        """The current epoch's field key: what new vault-level ciphertexts are sealed with."""
        return self.fields.current

    @cached_property
    def field_opener(self) -> crypto.Opener:
        """Opens what the current field key sealed, its cipher set up once (a listing opens
        every case's key with it)."""
        return crypto.Opener(self.fields.current)

    @property
    def epoch(self) -> int:
        return self.vaults.epoch

    def turned(self) -> Keys:
        """A new epoch, with a fresh vault key."""
        return Keys.of(self.vaults.turned())


def previous_place(epoch: int) -> str:
    return f"1;epoch={epoch}"


def seal_previous(keys: Keys) -> bytes | None:
    """The earlier epochs' vault keys, sealed under the current field key."""
    if keys.epoch == 0:
        return None
    return crypto.seal(
        keys.field_key,
        KeyRing(keys.vaults.keys[:-1]).packed(),
        table="vault_meta",
        row=previous_place(keys.epoch),
        column="previous_keys",
    )


def keys_from(meta: VaultMeta, vault_key: bytes) -> Keys:
    """All epochs' keys, from the current vault key and the vault's record of the others."""
    if meta.key_epoch == 0 or meta.previous_keys is None:
        return Keys.from_vault_key(vault_key)
    field_key = crypto.derive_subkey(vault_key, crypto.FIELD_KEY_LABEL)
    packed = crypto.open_sealed(
        field_key,
        meta.previous_keys,
        table="vault_meta",
        row=previous_place(meta.key_epoch),
        column="previous_keys",
    )
    vaults = KeyRing.of(packed + vault_key)
    if vaults.epoch != meta.key_epoch:
        raise Damaged(
            "the vault's earlier keys do not match its key epoch: altered",
            summary="the vault's key epochs were altered",
        )
    return Keys.of(vaults)


def params(slot: KeySlot) -> crypto.KdfParams:
    return crypto.KdfParams(
        iterations=slot.kdf_iterations,
        memory_kib=slot.kdf_memory_kib,
        lanes=slot.kdf_lanes,
        name=slot.kdf,
    )


def place(slot: KeySlot) -> str:
    return crypto.slot_place(slot.id, slot.purpose, slot.user_id, params(slot), slot.salt)


def vault_key_place(slot: KeySlot, epoch: int) -> str:
    return f"{place(slot)};epoch={epoch}"


def empty(slot_id: int, purpose: str, user_id: int | None) -> KeySlot:
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


@dataclass(frozen=True)
class Holder:
    """The private keys a slot seals: signing and exchange."""

    signing: Ed25519PrivateKey = field(repr=False)
    exchange: X25519PrivateKey = field(repr=False)

    @classmethod
    def new(cls) -> Holder:
        return cls(crypto.new_signing_key(), crypto.new_exchange_key())

    @property
    def exchange_public(self) -> bytes:
        return crypto.public_bytes(self.exchange)

    @property
    def signing_public(self) -> bytes:
        return crypto.public_bytes(self.signing)


def seal(slot: KeySlot, kek: bytes, vault_key: bytes | None, epoch: int, holder: Holder) -> None:
    """Seal `holder`'s keys in `slot` under `kek`, and the vault key to its exchange key (a
    member of staff's slot, `vault_key` None, holds no vault key)."""
    where = place(slot)
    slot.signing_key = crypto.seal(
        kek,
        crypto.private_bytes(holder.signing),
        table="key_slots",
        row=where,
        column="signing_key",
    )
    slot.exchange_key = crypto.seal(
        kek,
        crypto.private_bytes(holder.exchange),
        table="key_slots",
        row=where,
        column="exchange_key",
    )
    slot.exchange_public = holder.exchange_public
    if vault_key is None:
        slot.wrapped_key = None
        slot.updated_at = clock.to_text(clock.now())
    else:
        give(slot, vault_key, epoch)


def give(slot: KeySlot, vault_key: bytes, epoch: int) -> None:
    """Seal the vault key of `epoch` to the slot's exchange key (no passphrase needed)."""
    assert slot.exchange_public is not None
    slot.wrapped_key = crypto.seal_to(
        slot.exchange_public, vault_key, place=vault_key_place(slot, epoch)
    )
    slot.updated_at = clock.to_text(clock.now())


def fill(
    slot: KeySlot,
    secret: str,
    vault_key: bytes | None,
    epoch: int,
    kdf: crypto.KdfParams,
    holder: Holder,
) -> None:
    """(Re)fill `slot` for `secret`, with a fresh salt."""
    crypto.check_kdf(kdf)
    slot.kdf = kdf.name
    slot.kdf_iterations = kdf.iterations
    slot.kdf_memory_kib = kdf.memory_kib
    slot.kdf_lanes = kdf.lanes
    slot.salt = crypto.new_salt()
    seal(slot, crypto.stretch(secret, slot.salt, kdf), vault_key, epoch, holder)


def clear(slot: KeySlot) -> None:
    """Empty a disabled user's slot: their passphrase opens nothing from now on."""
    slot.wrapped_key = None
    slot.signing_key = None
    slot.exchange_key = None
    slot.exchange_public = None
    slot.updated_at = clock.to_text(clock.now())


@dataclass(frozen=True)
class Opened:
    """A slot opened by its secret: the key it was derived to, and what it sealed.  A slot from
    before signatures has no signing key, one from before key epochs no exchange key: both are
    issued at this unlock."""

    kek: bytes = field(repr=False)
    vault_key: bytes = field(repr=False)
    signing_key: Ed25519PrivateKey | None = field(repr=False)
    exchange_key: X25519PrivateKey | None = field(repr=False)

    @property
    def modern(self) -> bool:
        return self.signing_key is not None and self.exchange_key is not None


def _open_private(slot: KeySlot, kek: bytes, column: str, what: str) -> bytes:
    sealed = getattr(slot, column)
    try:
        return crypto.open_sealed(kek, sealed, table="key_slots", row=place(slot), column=column)
    except crypto.DecryptionError:
        raise Damaged(
            f"key slot {slot.id}'s {what} does not decrypt: altered",
            summary=f"a key slot's {what} was altered",
        ) from None


def unwrap(slot: KeySlot, secret: str, epoch: int) -> Opened | None:
    """Open `slot` with `secret` at the vault's key `epoch`; None if the secret is wrong."""
    try:
        return _unwrap(slot, secret, epoch)
    except crypto.DecryptionError as error:  # an unknown KDF named in the slot
        raise Damaged(error.detail, summary="a key slot was altered") from None


def _unwrap(slot: KeySlot, secret: str, epoch: int) -> Opened | None:
    if slot.wrapped_key is None:
        return None
    kdf = params(slot)
    crypto.check_kdf(kdf)
    kek = crypto.stretch(secret, slot.salt, kdf)
    if slot.exchange_key is not None:
        try:
            raw = crypto.open_sealed(
                kek, slot.exchange_key, table="key_slots", row=place(slot), column="exchange_key"
            )
        except crypto.DecryptionError:
            return None
        exchange = crypto.exchange_key_from(raw)
        try:
            vault_key = crypto.open_from(
                exchange, slot.wrapped_key, place=vault_key_place(slot, epoch)
            )
        except crypto.DecryptionError:
            raise Damaged(
                f"key slot {slot.id}'s vault key does not open: altered",
                summary="a key slot's vault key was altered",
            ) from None
        signing = crypto.signing_key_from(_open_private(slot, kek, "signing_key", "signing key"))
        return Opened(kek, vault_key, signing, exchange)
    return _unwrap_before_epochs(slot, kek)


def _unwrap_before_epochs(slot: KeySlot, kek: bytes) -> Opened | None:
    assert slot.wrapped_key is not None
    try:
        vault_key = crypto.open_sealed(
            kek, slot.wrapped_key, table="key_slots", row=place(slot), column="wrapped_key"
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
        return Opened(kek, vault_key, None, None)
    signing = None
    if slot.signing_key is not None:
        signing = crypto.signing_key_from(_open_private(slot, kek, "signing_key", "signing key"))
    return Opened(kek, vault_key, signing, None)


def open_own(slot: KeySlot, secret: str) -> Holder | None:
    """A member of staff's own keys from their slot, which holds no vault key; None if the
    secret is wrong or the slot was emptied (the user disabled)."""
    if slot.exchange_key is None or slot.signing_key is None:
        return None
    kdf = params(slot)
    crypto.check_kdf(kdf)
    kek = crypto.stretch(secret, slot.salt, kdf)
    try:
        raw = crypto.open_sealed(
            kek, slot.exchange_key, table="key_slots", row=place(slot), column="exchange_key"
        )
    except crypto.DecryptionError:
        return None
    signing = crypto.signing_key_from(_open_private(slot, kek, "signing_key", "signing key"))
    return Holder(signing, crypto.exchange_key_from(raw))


def facts(*slots: KeySlot) -> dict[str, str]:
    # Imported here: unlocking and writing never load the checks of the whole chronology.
    from safeguarding.integrity import slot_fingerprint

    return {str(slot.id): slot_fingerprint(slot) for slot in slots}
