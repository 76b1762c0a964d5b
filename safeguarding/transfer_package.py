"""A child's file on its way to another school: the receiving school's key as text, the
package sealed to it, and the receipt code that proves it arrived.

A package (docs/FORMAT.md, "Transfer packages") is a line naming its format, a line naming the
receiving school's key (its SHA-256), then a sealed box (`crypto.seal_to`) to that X25519 key,
bound to that line.
Inside, canonical JSON: what is sent (`contents`: the file, its PDF, who sent it, from which
vault's checkpoint, to whom, and a secret for the receipt), the sender's Ed25519 signature over
the canonical JSON of `contents`, and the sender's public key.  Nothing outside the box says
anything of the child or the people, and nothing of the schools but the receiving one's key.

The receipt code is an HMAC, under the secret inside the box, of the package's SHA-256: only a
vault that opened the package can work it out, and the sending vault, which kept the secret,
can check it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from safeguarding import crypto
from safeguarding.errors import CheckFailed, NotAllowed, UsageError

MAGIC = b"safeguard transfer package 1\n"
FORMAT = 1
KEY_PREFIX = "SGK1-"
_KEY_CHECK = b"safeguard/v1/school-key"
_RECEIPT_LABEL = b"safeguard/v1/transfer-receipt"
#: A school key's text: its 32 bytes and 4 of a checksum, in base32 (no padding).
_KEY_TEXT_BYTES = 36
RECEIPT_CHARACTERS = 10


def key_text(public: bytes) -> str:
    """A school's public key as one line of text to send, with a checksum against typing
    mistakes: `SGK1-` and 58 letters and digits."""
    encoded = base64.b32encode(public + _checksum(public)).decode("ascii").rstrip("=")
    return KEY_PREFIX + encoded


def parse_key(text: str) -> bytes:
    """The public key in a school key's text (`UsageError` if it is not one: a word missing,
    a letter mistyped)."""
    compact = "".join(text.split()).upper()
    if not compact.startswith(KEY_PREFIX):
        raise UsageError(
            "that is not a school key: one starts with SGK1-",
            hint="ask the receiving school to run 'safeguard school-key' and send what it prints",
        )
    body = compact[len(KEY_PREFIX) :]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError:
        raw = b""
    whole = len(raw) == _KEY_TEXT_BYTES and key_text(raw[:32]) == KEY_PREFIX + body
    if not whole or not hmac.compare_digest(raw[32:], _checksum(raw[:32])):
        raise UsageError(
            "that school key is not whole or has a mistyped letter (its checksum does not match)",
            hint="copy it again from what the receiving school sent, all on one line",
        )
    return raw[:32]


def _checksum(public: bytes) -> bytes:
    return hashlib.sha256(_KEY_CHECK + public).digest()[:4]


def fingerprint(data: bytes) -> str:
    """Twenty hexadecimal digits of `data`'s SHA-256 in groups of four, to read over the
    phone: a school key's (its 32 bytes) or a package's (its whole file)."""
    digest = hashlib.sha256(data).hexdigest()[:20].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 20, 4))


@dataclass(frozen=True)
class Opened:
    """A package opened: what was sent, the key that signed it and the package's SHA-256."""

    contents: dict[str, Any]
    signing_key: bytes
    sha256: bytes


def seal(contents: dict[str, Any], *, recipient: bytes, signer: Ed25519PrivateKey) -> bytes:
    """The package of `contents`, signed by `signer` and sealed to `recipient`'s key."""
    signed = _canonical(contents)
    inner = {
        "contents": contents,
        "signature": signer.sign(signed).hex(),
        "signing_key": crypto.public_bytes(signer).hex(),
    }
    place = _place(recipient)
    return _header(place) + crypto.seal_to(recipient, _canonical(inner), place=place)


def open_package(package: bytes, private: X25519PrivateKey) -> Opened:
    """Open a package with this school's X25519 private key and check its signature.

    `NotAllowed` if it is sealed to another school's key; `CheckFailed` if it is not a
    package, or it was cut short or altered (the box does not open, or the signature does not
    hold over what is inside)."""
    mine = crypto.public_bytes(private)
    check_addressed(package, [mine])
    place = _place(mine)
    header = _header(place)
    try:
        opened = crypto.open_from(private, package[len(header) :], place=place)
        inner = json.loads(opened.decode("utf-8"))
        contents, signing_key = inner["contents"], bytes.fromhex(inner["signing_key"])
        signature = bytes.fromhex(inner["signature"])
    except (crypto.DecryptionError, ValueError, KeyError, TypeError):
        raise CheckFailed(
            "the package does not open: it was cut short or altered on the way",
            hint="ask the sending school to send it again",
        ) from None
    try:
        Ed25519PublicKey.from_public_bytes(signing_key).verify(signature, _canonical(contents))
    except (InvalidSignature, ValueError):
        raise CheckFailed("the package's signature does not hold: it was altered") from None
    return Opened(contents, signing_key, hashlib.sha256(package).digest())


def check_shape(package: bytes) -> None:
    """That `package` starts as a package does (`CheckFailed` if not: a PDF, say)."""
    if package.startswith(b"%PDF"):
        raise CheckFailed(
            "that is a PDF, for reading: only a package (made by 'safeguard transfer --key') "
            "can be imported",
            hint="keep the PDF as the school's policy says",
        )
    if not package.startswith(MAGIC):
        raise CheckFailed("that file is not a safeguard transfer package")


def check_addressed(package: bytes, publics: Sequence[bytes]) -> None:
    """That `package` is a package, sealed to one of `publics` (a vault's school keys): read
    from its first lines alone, before any key is opened.  `CheckFailed` if it is not one or
    is cut short; `NotAllowed` if it was sealed to another school's key."""
    check_shape(package)
    if any(package.startswith(_header(_place(public))) for public in publics):
        return
    if package.count(b"\n", 0, len(MAGIC) + 3 + 64 + 1) < 2:
        raise CheckFailed("the package is cut short: it is not whole")
    raise NotAllowed(
        "this package was sealed to another school's key, not this vault's",
        hint=f"this vault's school key has the fingerprint {fingerprint(publics[0])}: send it "
        "to the school that sent the package ('safeguard school-key')",
    )


def _header(place: str) -> bytes:
    return MAGIC + place.encode("ascii") + b"\n"


def receipt_code(secret: bytes, package_sha256: bytes) -> str:
    """The code the receiving vault prints on import, for the sending school to enter:
    ten letters and digits (base32), in two groups."""
    mac = hmac.new(secret, _RECEIPT_LABEL + package_sha256, hashlib.sha256).digest()
    code = base64.b32encode(mac).decode("ascii")[:RECEIPT_CHARACTERS]
    return f"{code[:5]}-{code[5:]}"


def receipt_holds(secret: bytes, package_sha256: bytes, given: str) -> bool:
    """Whether `given` is the receipt code of the package (spaces, dashes and case aside)."""
    wanted = receipt_code(secret, package_sha256).replace("-", "")
    typed = "".join(ch for ch in given.upper() if ch.isalnum())
    return hmac.compare_digest(typed.encode("ascii", "replace"), wanted.encode("ascii"))


def _place(recipient: bytes) -> str:
    """Where a package's box lives: the recipient key's SHA-256, in the package's second line
    and bound into the box, so a package for another school is told apart from an altered one."""
    return f"to {hashlib.sha256(recipient).hexdigest()}"


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )
