"""A checkpoint: the chronology's head (sequence number and MAC) written down elsewhere.

Backups, exports and `verify --checkpoint` carry it so that a vault rolled back behind it is
caught.  This module stays free of database and crypto imports: backups load it at start-up.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from safeguarding.errors import UsageError

MAC_BYTES = 32


@dataclass(frozen=True)
class Checkpoint:
    """A chronology head as written in backups and exports: ``SEQ:HASH`` (the entry's hash,
    or before signatures its MAC, in hex)."""

    seq: int
    mac_hex: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.mac_hex}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        seq_text, sep, mac_hex = text.strip().partition(":")
        mac_hex = mac_hex.lower()
        if (
            not sep
            or not (seq_text.isascii() and seq_text.isdigit() and len(seq_text) <= 18)
            or len(mac_hex) < 16
            or len(mac_hex) > 2 * MAC_BYTES
            or any(ch not in "0123456789abcdef" for ch in mac_hex)
        ):
            raise UsageError(
                f"{text!r} is not a checkpoint",
                hint="a checkpoint is SEQ:HASH, e.g. 42:3f9a… (at least 16 hex digits of the hash)",
            )
        return cls(int(seq_text), mac_hex)

    def matches(self, mac: bytes) -> bool:
        return hmac.compare_digest(mac.hex()[: len(self.mac_hex)], self.mac_hex)
