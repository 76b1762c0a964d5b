"""The envelope: round trips, wrong keys, moved ciphertexts, nonces and the version byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguarding import crypto

KEY = bytes(range(32))


@given(
    plaintext=st.binary(max_size=4096),
    table=st.sampled_from(["users", "entries", "cases"]),
    row=st.integers(min_value=0, max_value=2**63),
    column=st.text(min_size=1, max_size=20),
)
@settings(max_examples=200)
def test_round_trip(plaintext: bytes, table: str, row: int, column: str) -> None:
    sealed = crypto.seal(KEY, plaintext, table=table, row=row, column=column)
    assert crypto.open_sealed(KEY, sealed, table=table, row=row, column=column) == plaintext


@given(st.text(max_size=2000))
def test_text_round_trip_keeps_every_character(text: str) -> None:
    sealed = crypto.seal_text(KEY, text, table="entries", row=7, column="payload")
    assert crypto.open_text(KEY, sealed, table="entries", row=7, column="payload") == text


def test_wrong_key_is_refused() -> None:
    sealed = crypto.seal(KEY, b"account", table="entries", row=1, column="payload")
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(crypto.new_key(), sealed, table="entries", row=1, column="payload")


@pytest.mark.parametrize(
    ("table", "row", "column"),
    [("entries", 2, "payload"), ("entries", 1, "name"), ("users", 1, "payload")],
)
def test_ciphertext_moved_to_another_cell_fails(table: str, row: int, column: str) -> None:
    sealed = crypto.seal(KEY, b"account", table="entries", row=1, column="payload")
    with pytest.raises(crypto.DecryptionError, match="does not decrypt"):
        crypto.open_sealed(KEY, sealed, table=table, row=row, column=column)


def test_each_encryption_has_a_fresh_nonce() -> None:
    nonces = {
        crypto.seal(KEY, b"same text", table="t", row=1, column="c")[1:13] for _ in range(2000)
    }
    assert len(nonces) == 2000


def test_envelope_starts_with_the_version_byte_and_is_sized_as_documented() -> None:
    sealed = crypto.seal(KEY, b"12345", table="t", row=1, column="c")
    assert sealed[0] == crypto.ENVELOPE_VERSION == 1
    assert len(sealed) == 1 + 12 + 5 + 16


def test_unknown_version_byte_is_refused() -> None:
    sealed = bytearray(crypto.seal(KEY, b"x", table="t", row=1, column="c"))
    sealed[0] = 2
    with pytest.raises(crypto.DecryptionError, match="unknown envelope version 2"):
        crypto.open_sealed(KEY, bytes(sealed), table="t", row=1, column="c")


@given(st.integers(min_value=13, max_value=40))
def test_any_flipped_bit_is_detected(position: int) -> None:
    sealed = bytearray(
        crypto.seal(KEY, b"an account in the child's words", table="t", row=1, column="c")
    )
    index = position % len(sealed)
    sealed[index] ^= 0x01
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(KEY, bytes(sealed), table="t", row=1, column="c")


def test_truncated_envelope_is_refused() -> None:
    with pytest.raises(crypto.DecryptionError, match="too short"):
        crypto.open_sealed(KEY, b"\x01abc", table="t", row=1, column="c")


def test_stretch_depends_on_passphrase_salt_and_parameters() -> None:
    params = crypto.KdfParams(iterations=1, memory_kib=1024, lanes=1)
    salt = bytes(16)
    base = crypto.stretch("a passphrase long enough", salt, params)
    assert base == crypto.stretch("a passphrase long enough", salt, params)
    assert base != crypto.stretch("a passphrase long enougH", salt, params)
    assert base != crypto.stretch("a passphrase long enough", bytes([1]) + salt[1:], params)
    assert base != crypto.stretch(
        "a passphrase long enough", salt, crypto.KdfParams(iterations=2, memory_kib=1024, lanes=1)
    )


def test_default_kdf_cost_is_at_least_the_designed_minimum() -> None:
    default = crypto.KdfParams()
    assert (default.iterations, default.memory_kib, default.lanes) == (3, 64 * 1024, 4)


def test_subkeys_differ_by_purpose() -> None:
    vault_key = crypto.new_key()
    field = crypto.derive_subkey(vault_key, crypto.FIELD_KEY_LABEL)
    mac = crypto.derive_subkey(vault_key, crypto.CHAIN_KEY_LABEL)
    assert field != mac and vault_key not in (field, mac)


def test_lookup_tag_ignores_case_and_spacing_but_not_the_name() -> None:
    salt = bytes(16)
    assert crypto.lookup_tag(salt, "Alice Smith") == crypto.lookup_tag(salt, " alice smith ")
    assert crypto.lookup_tag(salt, "Alice Smith") != crypto.lookup_tag(salt, "Alice Smyth")
    assert crypto.lookup_tag(salt, "Alice") != crypto.lookup_tag(bytes([1] * 16), "Alice")


@given(message=st.binary(max_size=2000), cut=st.integers(min_value=0, max_value=63))
@settings(max_examples=50)
def test_a_signature_holds_only_whole_under_its_own_key(message: bytes, cut: int) -> None:
    """Signed by `cryptography` (OpenSSL), checked by PyNaCl (libsodium): the two agree on a
    good signature, and a short, long, altered or foreign one never holds."""
    key = crypto.new_signing_key()
    public, signature = crypto.public_bytes(key), key.sign(message)
    assert crypto.signature_holds(public, signature, message)
    assert not crypto.signature_holds(public, signature[:cut], message)
    assert not crypto.signature_holds(public, signature + b"\x00", message)
    altered = bytearray(signature)
    altered[cut] ^= 1
    assert not crypto.signature_holds(public, bytes(altered), message)
    assert not crypto.signature_holds(public, signature, message + b"\x00")
    assert not crypto.signature_holds(
        crypto.public_bytes(crypto.new_signing_key()), signature, message
    )
    assert not crypto.signature_holds(public[:31], signature, message)
    assert not crypto.signature_holds(bytes(32), signature, message)  # a key of small order
