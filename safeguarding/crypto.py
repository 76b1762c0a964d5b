"""The encryption envelope, key wrapping, key derivation and the chain MAC.

Every byte of personal data passes through `seal`/`open_sealed`; nothing here ever logs, prints or
stores a key, and no key derivation cost is ever fixed low in code that users run.

Field envelope, format version 1 (all ciphertexts in a vault, including wrapped keys)::

    offset  size     content
    0       1        version byte, 0x01
    1       12       nonce, 96 random bits from os.urandom, fresh for every encryption
    13      n + 16   AES-256-GCM ciphertext of the n plaintext bytes, then the 16-byte tag

The associated data (authenticated, never stored) binds a ciphertext to where it lives::

    b"safeguard/v1/" + table + b"/" + row id (decimal) + b"/" + column

so a ciphertext copied to another row or column, or another table, fails to decrypt.

Keys: a random 256-bit vault key.  Purpose keys are derived from it with HKDF-SHA256
(`derive_subkey`): one encrypts vault-level fields, one keys the chronology MAC.  Each case has its
own random 256-bit key, wrapped (sealed) by the vault field key.  A key slot wraps the vault key
under a key-encryption key derived from a passphrase or the recovery key with Argon2id; the slot
row stores the KDF name, its parameters (iterations, memory in KiB, lanes) and a 16-byte salt.

Chain MAC (entries written before signatures): ``mac(n) = HMAC-SHA256(mac key, mac(n-1) ||
entry bytes(n))`` with ``mac(0)`` 32 zero bytes; the entry bytes are fixed in
`safeguarding.chronology`.

Signatures: every user, and the recovery key, has an Ed25519 key pair.  The private key is
sealed in its key slot under the slot's passphrase-derived key, never under the vault key, with
associated data that binds the slot's id, purpose, user, KDF parameters and salt (`slot_place`);
the public key is recorded in the chronology.  Entries are signed by their author and chained
by SHA-256 (see `safeguarding.chronology`), so anyone can check them without a passphrase.

Key epochs: every user, and the recovery key, also has an X25519 key pair (private key sealed
in the slot beside the signing key, public key in the chronology).  A slot holds the vault key
sealed *to* its X25519 public key (`seal_to`), so whoever disables a user or changes a
passphrase can give a new vault key to every other slot without knowing their passphrases.
Each change of the vault key starts a new epoch; a key ring (`KeyRing`) keeps every epoch's key
so older ciphertexts still open, sealed under the newest.  A restricted case's keys are sealed
to each member's X25519 key and the recovery key's, never to the vault key.

Sealed box, format 1 (`seal_to`)::

    ephemeral X25519 public key (32 bytes) | envelope v1 under
    HKDF-SHA256(ikm = X25519(ephemeral, recipient), salt = ephemeral public | recipient public,
                info = b"safeguard/v1/sealed-box"), associated data ("sealed", place, "key")
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from safeguarding.errors import Damaged

ENVELOPE_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
SALT_BYTES = 16
MAC_BYTES = 32
SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 32
GENESIS_MAC = bytes(MAC_BYTES)

#: HKDF "info" labels; changing one makes every existing vault unreadable.
FIELD_KEY_LABEL = b"safeguard/v1/field-key"
CHAIN_KEY_LABEL = b"safeguard/v1/chain-mac-key"


class DecryptionError(Damaged):
    """A ciphertext did not authenticate: wrong key, moved, altered or of an unknown version."""


def _place(table: str, row: int | str, column: str) -> str:
    """Where a ciphertext lives, as a person reads it: an entry by its number."""
    if table == "entries" and column == "payload":
        return f"entry {row}"
    return f"{table}.{column} of row {row}"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters, stored in every key slot beside its salt."""

    iterations: int = 3
    memory_kib: int = 64 * 1024
    lanes: int = 4
    name: str = "argon2id"


#: What new key slots use.  Tests may lower it through the library; no CLI flag can.
DEFAULT_KDF = KdfParams()

#: Argon2id's own limits: fewer lanes, passes or memory than this is not a parameter set.
MAX_LANES = 2**24 - 1


def check_kdf(params: KdfParams) -> None:
    """Refuse a slot's KDF parameters that are nonsense, or weaker than safeguard's default.

    A slot whose cost was lowered by someone editing the file would let a stolen copy be
    guessed faster; nonsense (`lanes = 0`) would crash the derivation.
    """
    if params.name != "argon2id":
        raise Damaged(
            f"a key slot names an unknown key derivation function {params.name!r}",
            summary="a key slot names an unknown key derivation function",
        )
    if not (
        1 <= params.lanes <= MAX_LANES
        and params.iterations >= 1
        and params.memory_kib >= 8 * params.lanes
    ):
        raise Damaged(
            "a key slot holds impossible key derivation parameters "
            f"(passes {params.iterations}, memory {params.memory_kib} KiB, lanes {params.lanes})",
            summary="a key slot holds impossible key derivation parameters",
        )
    floor = DEFAULT_KDF
    if (
        params.iterations < floor.iterations
        or params.memory_kib < floor.memory_kib
        or params.lanes < floor.lanes
    ):
        raise Damaged(
            "a key slot's key derivation is weaker than safeguard's minimum "
            f"(passes {params.iterations}, memory {params.memory_kib} KiB, lanes {params.lanes})",
            summary="a key slot's key derivation was lowered",
        )


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return os.urandom(KEY_BYTES)


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def associated_data(table: str, row: int | str, column: str) -> bytes:
    return f"safeguard/v1/{table}/{row}/{column}".encode()


def seal(key: bytes, plaintext: bytes, *, table: str, row: int | str, column: str) -> bytes:
    """Encrypt `plaintext` for one cell of one row, in the version 1 envelope."""
    nonce = os.urandom(NONCE_BYTES)
    body = AESGCM(key).encrypt(nonce, plaintext, associated_data(table, row, column))
    return bytes([ENVELOPE_VERSION]) + nonce + body


class Opener:
    """Opens envelopes sealed under one key, with the cipher set up once: for a walk that
    opens many (a full `verify` opens every entry's payload)."""

    __slots__ = ("_cipher",)

    def __init__(self, key: bytes) -> None:
        self._cipher = AESGCM(key)

    def __call__(self, envelope: bytes, *, table: str, row: int | str, column: str) -> bytes:
        if len(envelope) < 1 + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(
                f"{table}.{column} of row {row} is too short to be a ciphertext",
                summary=f"{_place(table, row, column)} is too short to be a ciphertext",
            )
        if envelope[0] != ENVELOPE_VERSION:
            raise DecryptionError(
                f"{table}.{column} of row {row} has unknown envelope version {envelope[0]}",
                summary=f"{_place(table, row, column)} has unknown envelope version {envelope[0]}",
            )
        nonce, body = envelope[1 : 1 + NONCE_BYTES], envelope[1 + NONCE_BYTES :]
        try:
            return self._cipher.decrypt(nonce, body, associated_data(table, row, column))
        except InvalidTag:
            raise DecryptionError(
                f"{table}.{column} of row {row} does not decrypt: altered, moved or wrong key",
                summary=f"{_place(table, row, column)} does not decrypt",
            ) from None


def open_sealed(key: bytes, envelope: bytes, *, table: str, row: int | str, column: str) -> bytes:
    """Decrypt an envelope made by `seal` for the same table, row and column."""
    return Opener(key)(envelope, table=table, row=row, column=column)


def seal_text(key: bytes, text: str, *, table: str, row: int | str, column: str) -> bytes:
    return seal(key, text.encode("utf-8"), table=table, row=row, column=column)


def open_text(key: bytes, envelope: bytes, *, table: str, row: int | str, column: str) -> str:
    return open_sealed(key, envelope, table=table, row=row, column=column).decode("utf-8")


def derive_subkey(vault_key: bytes, label: bytes) -> bytes:
    """A purpose key from the vault key (HKDF-SHA256), so no key serves two purposes."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=label).derive(
        vault_key
    )


def stretch(secret: str, salt: bytes, params: KdfParams) -> bytes:
    """Derive a key-encryption key from a passphrase or recovery key with Argon2id."""
    if params.name != "argon2id":
        raise DecryptionError(f"unknown key derivation function {params.name!r}")
    kdf = Argon2id(
        salt=salt,
        length=KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    return kdf.derive(unicodedata.normalize("NFC", secret).encode("utf-8"))


def slot_place(
    slot_id: int, purpose: str, user_id: int | None, params: KdfParams, salt: bytes
) -> str:
    """The row id used in a slot ciphertext's associated data (envelope v1, table
    ``key_slots``): everything about the slot that an attacker might swap or lower."""
    return (
        f"{slot_id};purpose={purpose};user={user_id or 0};"
        f"kdf={params.name},{params.iterations},{params.memory_kib},{params.lanes};"
        f"salt={salt.hex()}"
    )


def new_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_bytes(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    """A signing or exchange private key as its 32 raw bytes."""
    return key.private_bytes_raw()


def signing_key_from(raw: bytes | memoryview) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_bytes(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    """A signing or exchange key's public key, as its 32 raw bytes."""
    return key.public_key().public_bytes_raw()


@lru_cache(maxsize=1024)
def _verifier(public: bytes) -> Callable[[bytes, bytes], bool]:
    """Whether a (signature, message) holds under `public`, a 32-byte key.  PyNaCl is loaded
    here, by the commands that check signatures, not by every command."""
    from nacl.exceptions import CryptoError
    from nacl.signing import VerifyKey

    key = VerifyKey(public)

    def holds(signature: bytes, message: bytes) -> bool:
        try:
            key.verify(message, signature)
        except CryptoError:
            return False
        return True

    return holds


def signature_holds(public: bytes, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is `public`'s Ed25519 signature of `message`.

    Checked by libsodium (through PyNaCl), about twice as fast as the OpenSSL in
    `cryptography`'s wheel: `verify` checks every entry's signature.  It holds for every
    signature RFC 8032 signing makes, and refuses some that OpenSSL would take (a public key or
    R of small order), which no honest signer makes.
    """
    if len(public) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    return _verifier(public)(signature, message)


def new_exchange_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def exchange_key_from(raw: bytes | memoryview) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


SEALED_BOX_LABEL = b"safeguard/v1/sealed-box"


def _box_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=ephemeral + recipient,
        info=SEALED_BOX_LABEL,
    ).derive(shared)


def seal_to(recipient: bytes, plaintext: bytes, *, place: str) -> bytes:
    """Encrypt `plaintext` so that only the holder of `recipient`'s X25519 private key can open
    it, bound to `place` (where the sealed box lives)."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = public_bytes(ephemeral)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    key = _box_key(shared, ephemeral_public, recipient)
    return ephemeral_public + seal(key, plaintext, table="sealed", row=place, column="key")


def open_from(private: X25519PrivateKey, box: bytes, *, place: str) -> bytes:
    """Open a box made by `seal_to` for `private`'s public key at the same `place`."""
    if len(box) < 32:
        raise DecryptionError(
            f"the sealed key at {place} is too short", summary="a sealed key is cut"
        )
    ephemeral_public, envelope = box[:32], box[32:]
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    except ValueError:
        raise DecryptionError(
            f"the sealed key at {place} does not open", summary="a sealed key does not open"
        ) from None
    key = _box_key(shared, ephemeral_public, public_bytes(private))
    return open_sealed(key, envelope, table="sealed", row=place, column="key")


@dataclass(frozen=True)
class KeyRing:
    """Every epoch's key of one thing (the vault's field key, or a case), oldest first: new
    ciphertexts use the newest, and an entry names the epoch it was sealed in (none: 0)."""

    keys: tuple[bytes, ...] = field(repr=False)

    @classmethod
    def of(cls, packed: bytes) -> KeyRing:
        """From keys stored end to end (one key: a ring of one epoch)."""
        if not packed or len(packed) % KEY_BYTES:
            raise DecryptionError("a key ring has the wrong size", summary="a key ring is damaged")
        return cls(tuple(packed[i : i + KEY_BYTES] for i in range(0, len(packed), KEY_BYTES)))

    def packed(self) -> bytes:
        return b"".join(self.keys)

    @property
    def epoch(self) -> int:
        return len(self.keys) - 1

    @property
    def current(self) -> bytes:
        return self.keys[-1]

    def at(self, epoch: int) -> bytes:
        if not 0 <= epoch < len(self.keys):
            raise DecryptionError(
                f"no key of epoch {epoch} (this ring has {len(self.keys)})",
                summary="an entry names a key epoch that does not exist",
            )
        return self.keys[epoch]

    def turned(self) -> KeyRing:
        """The ring with a fresh key for a new epoch."""
        return KeyRing((*self.keys, new_key()))


def chain_mac(mac_key: bytes, previous: bytes, entry_bytes: bytes) -> bytes:
    return hmac.new(mac_key, previous + entry_bytes, hashlib.sha256).digest()


def lookup_tag(salt: bytes, name: str) -> bytes:
    """A salted hash of a user name, to find its key slot without storing the name in clear."""
    normal = unicodedata.normalize("NFKC", name).casefold().strip()
    return hmac.new(salt, normal.encode("utf-8"), hashlib.sha256).digest()
