"""A child's file sealed for another school: the school key as text, the package, and the
receipt code; and `safeguard school-key`, which makes and shows this school's key."""

from __future__ import annotations

import json
import sqlite3

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from safeguarding import crypto, transfer_package
from safeguarding.errors import CheckFailed, NotAllowed, UsageError
from safeguarding.vault import Role, Vault
from tests.conftest import PASSPHRASE, VaultInfo, invoke

CANARY = "Canary Pupil-Transfer 7f3a"
CONTENTS = {
    "format": 1,
    "file": {"person": {"name": CANARY}, "entries": [{"text": f"{CANARY} said something"}]},
    "receipt_secret": "00" * 32,
}


def keys() -> tuple[X25519PrivateKey, bytes]:
    private = crypto.new_exchange_key()
    return private, crypto.public_bytes(private)


def test_a_school_key_reads_back_from_its_text_whatever_the_spacing() -> None:
    _, public = keys()
    text = transfer_package.key_text(public)
    assert text.startswith("SGK1-") and len(text) == len("SGK1-") + 58
    assert transfer_package.parse_key(text) == public
    spaced = " ".join(text[i : i + 8] for i in range(0, len(text), 8)).lower()
    assert transfer_package.parse_key(f"  {spaced}\n") == public


@pytest.mark.parametrize(
    "mangle",
    [
        lambda text: text.replace("SGK1-", ""),  # not a key at all
        lambda text: text[:-3],  # cut short
        lambda text: text[:10] + ("A" if text[10] != "A" else "B") + text[11:],  # a typo
        lambda text: text + "AAAA",  # too long
        lambda text: text[:-1] + "1",  # not base32
        lambda text: text[:-1] + ("A" if text[-1] != "A" else "B"),  # its last letter
    ],
)
def test_a_mistyped_school_key_is_refused(mangle: object) -> None:
    _, public = keys()
    with pytest.raises(UsageError):
        transfer_package.parse_key(mangle(transfer_package.key_text(public)))  # type: ignore[operator]


def test_a_package_opens_for_its_school_only_and_holds_nothing_in_clear() -> None:
    private, public = keys()
    signer = crypto.new_signing_key()
    package = transfer_package.seal(CONTENTS, recipient=public, signer=signer)
    assert CANARY.encode() not in package and b"Canary" not in package
    opened = transfer_package.open_package(package, private)
    assert opened.contents == CONTENTS
    assert opened.signing_key == crypto.public_bytes(signer)
    other, _ = keys()
    with pytest.raises(NotAllowed, match="another school"):
        transfer_package.open_package(package, other)


@pytest.mark.parametrize("where", [0.2, 0.5, 0.99])
def test_an_altered_or_cut_package_is_refused(where: float) -> None:
    private, public = keys()
    package = transfer_package.seal(CONTENTS, recipient=public, signer=crypto.new_signing_key())
    at = int(len(package) * where)
    altered = package[:at] + bytes([package[at] ^ 1]) + package[at + 1 :]
    with pytest.raises((CheckFailed, NotAllowed)):
        transfer_package.open_package(altered, private)
    for cut in (len(package) - 1, len(package) // 2, 40, 10):
        with pytest.raises(CheckFailed):
            transfer_package.open_package(package[:cut], private)
    with pytest.raises(CheckFailed, match="not a safeguard transfer package"):
        transfer_package.open_package(b"GIF89a\n" + package, private)
    with pytest.raises(CheckFailed, match="that is a PDF, for reading"):
        transfer_package.open_package(b"%PDF-1.7\n" + package, private)


def test_a_package_whose_signature_does_not_hold_is_refused() -> None:
    """A box that opens, but whose contents are not what its signature signed."""
    private, public = keys()
    signer = crypto.new_signing_key()
    honest = transfer_package.seal(CONTENTS, recipient=public, signer=signer)
    inner = json.loads(crypto.open_from(private, honest.split(b"\n", 2)[2], place=_place(public)))
    inner["contents"]["file"]["entries"][0]["text"] = "something else"
    forged = honest.split(b"\n", 2)
    box = crypto.seal_to(public, json.dumps(inner).encode(), place=_place(public))
    with pytest.raises(CheckFailed, match="signature"):
        transfer_package.open_package(forged[0] + b"\n" + forged[1] + b"\n" + box, private)


def entries(vault: VaultInfo) -> int:
    with sqlite3.connect(vault.path) as connection:
        return int(connection.execute("SELECT count(*) FROM entries").fetchone()[0])


def _place(public: bytes) -> str:
    import hashlib

    return f"to {hashlib.sha256(public).hexdigest()}"


def test_a_receipt_code_holds_for_its_package_only() -> None:
    secret, other_secret = crypto.new_key(), crypto.new_key()
    package_hash, other_hash = b"\x01" * 32, b"\x02" * 32
    code = transfer_package.receipt_code(secret, package_hash)
    assert len(code) == 11 and code[5] == "-"
    assert transfer_package.receipt_holds(secret, package_hash, code)
    assert transfer_package.receipt_holds(secret, package_hash, code.lower().replace("-", " "))
    assert not transfer_package.receipt_holds(secret, other_hash, code)
    assert not transfer_package.receipt_holds(other_secret, package_hash, code)
    assert not transfer_package.receipt_holds(secret, package_hash, code[:-1])
    assert not transfer_package.receipt_holds(secret, package_hash, "é" * 10)


def test_school_key_is_made_once_and_shown_the_same_every_time(vault: VaultInfo) -> None:
    first = invoke("school-key")
    assert first.exit_code == 0, first.stderr
    key = first.stdout.strip()
    public = transfer_package.parse_key(key)
    assert transfer_package.fingerprint(public) in first.stderr
    again = json.loads(invoke("school-key", "--json").stdout)
    assert again["key"] == key
    assert again["fingerprint"] == transfer_package.fingerprint(public)
    assert invoke("verify").exit_code == 0


def test_only_a_dsl_or_the_head_makes_the_school_key_but_a_deputy_may_show_it(
    vault: VaultInfo,
) -> None:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user("Dee Deputy", Role.DEPUTY, "deputy passphrase 2026")
    alice.close()
    deputy = {"SAFEGUARD_USER": "Dee Deputy", "SAFEGUARD_PASSPHRASE": "deputy passphrase 2026"}
    before = entries(vault)
    refused = invoke("school-key", env=deputy)
    assert refused.exit_code == 3 and refused.stdout == ""
    assert "DSL or the headteacher" in refused.stderr
    assert entries(vault) == before
    made = invoke("school-key").stdout
    assert invoke("school-key", env=deputy).stdout == made
