"""Known answers for the vault's formats (tests/vectors, never regenerated): a change that
alters a byte here breaks every vault and export already written, so it must be a new format
version, documented in docs/FORMAT.md."""

from __future__ import annotations

import json
from pathlib import Path

from safeguarding import chronology, crypto, integrity
from safeguarding.models import Entry, KeySlot

VECTORS = json.loads((Path(__file__).parent / "vectors" / "format-2.json").read_text())


def test_a_signed_entry_s_bytes_signature_and_hash_are_the_known_ones() -> None:
    v = VECTORS["entry"]
    key = crypto.signing_key_from(bytes.fromhex(v["signing_key_seed"]))
    assert crypto.public_bytes(key).hex() == v["public_key"]
    entry = Entry(
        seq=v["seq"],
        case_id=v["case_id"],
        kind=v["kind"],
        event_at=v["event_at"],
        recorded_at=v["recorded_at"],
        author_id=v["author_id"],
        payload=bytes.fromhex(v["payload"]),
        mac=b"",
        facts=v["facts"],
    )
    body = chronology.signed_bytes(entry, bytes.fromhex(v["previous"]))
    assert body.hex() == v["signed_bytes"]
    assert key.sign(body).hex() == v["signature"]  # Ed25519 signatures are deterministic
    assert crypto.signature_holds(
        bytes.fromhex(v["public_key"]), bytes.fromhex(v["signature"]), body
    )
    assert chronology.hash_of(body, bytes.fromhex(v["signature"])).hex() == v["hash"]
    # one bit anywhere in what is signed, and the signature no longer holds
    flipped = bytearray(body)
    flipped[len(b"SGE2") + 7] ^= 1
    assert not crypto.signature_holds(
        bytes.fromhex(v["public_key"]), bytes.fromhex(v["signature"]), bytes(flipped)
    )


def test_a_key_slot_s_binding_and_fingerprint_are_the_known_ones() -> None:
    v = VECTORS["slot"]
    params = crypto.KdfParams(v["kdf_iterations"], v["kdf_memory_kib"], v["kdf_lanes"], v["kdf"])
    salt = bytes.fromhex(v["salt"])
    assert crypto.slot_place(v["id"], v["purpose"], v["user_id"], params, salt) == v["place"]
    slot = KeySlot(
        id=v["id"],
        purpose=v["purpose"],
        user_id=v["user_id"],
        kdf=v["kdf"],
        kdf_iterations=v["kdf_iterations"],
        kdf_memory_kib=v["kdf_memory_kib"],
        kdf_lanes=v["kdf_lanes"],
        salt=salt,
        wrapped_key=bytes.fromhex(v["wrapped_key"]),
        signing_key=bytes.fromhex(v["signing_key"]),
        updated_at="",
    )
    assert integrity.slot_fingerprint(slot) == v["fingerprint"]


def test_a_school_key_a_transfer_package_and_its_receipt_code_are_the_known_ones() -> None:
    """A package written by the first release that sent one still opens, with the same key
    text, fingerprints and receipt code (docs/FORMAT.md, "The school key and transfer
    packages")."""
    import hashlib

    from safeguarding import transfer_package

    v = json.loads((Path(__file__).parent / "vectors" / "transfer-1.json").read_text())
    private = crypto.exchange_key_from(bytes.fromhex(v["school_private_key"]))
    public = crypto.public_bytes(private)
    assert public.hex() == v["school_public_key"]
    assert transfer_package.key_text(public) == v["key_text"]
    assert transfer_package.parse_key(v["key_text"]) == public
    assert transfer_package.fingerprint(public) == v["key_fingerprint"]
    package = bytes.fromhex(v["package"])
    assert transfer_package.fingerprint(package) == v["package_fingerprint"]
    opened = transfer_package.open_package(package, private)
    assert opened.contents == v["contents"]
    signer = crypto.signing_key_from(bytes.fromhex(v["signing_key_seed"]))
    assert opened.signing_key == crypto.public_bytes(signer)
    secret = bytes.fromhex(v["receipt_secret"])
    digest = hashlib.sha256(package).digest()
    assert transfer_package.receipt_code(secret, digest) == v["receipt_code"]
