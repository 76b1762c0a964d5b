"""The keys a sitting at the keyboard (`safeguard shell`) holds between its commands.

One user's signing and exchange keys, in one buffer that `wipe` zeroes: from them each command
opens the vault key afresh from the user's key slot, so a re-key made meanwhile is followed and
a changed or emptied slot opens nothing.  Nothing here prompts, prints or writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from safeguarding import casefile, crypto, slots, storage
from safeguarding.chronology import Signer
from safeguarding.db import Case, User
from safeguarding.roster import _meta, _user_info
from safeguarding.unlocked import Unlocked

if TYPE_CHECKING:
    from safeguarding.vault_file import VaultFile

_KEY = 32  # bytes of a raw Ed25519 or X25519 private key


class HeldKeys:
    """A user's private keys, held in one mutable buffer for the length of a sitting."""

    def __init__(self, user_id: int, signing: bytes, exchange: bytes) -> None:
        self.user_id = user_id
        self._buffer = bytearray(2 * _KEY)
        self._buffer[:_KEY] = signing
        self._buffer[_KEY:] = exchange

    @classmethod
    def of(cls, unlocked: Unlocked) -> HeldKeys:
        """The keys of a vault just unlocked with a passphrase."""
        return cls(
            unlocked.user.id,
            crypto.private_bytes(unlocked.signer.key),
            crypto.private_bytes(unlocked.exchange),
        )

    @property
    def wiped(self) -> bool:
        return not self._buffer

    def wipe(self) -> None:
        """Overwrite the keys with zeros and let the buffer go: nothing here opens anything
        from now on."""
        self._buffer[:] = bytes(len(self._buffer))
        self._buffer = bytearray()

    def unlock(self, vault: VaultFile) -> Unlocked | None:
        """The vault unlocked with the held keys, the user and their slot read afresh; None if
        the keys no longer open it: the user was disabled, or their passphrase (and with it
        their keys) changed since, or this is not the vault they were held for."""
        if self.wiped:
            return None
        with storage.guarded(vault.path), storage.reading(vault.connection) as db:
            user = db.get(User, self.user_id)
            if user is None or user.disabled_at is not None:
                return None
            slot = vault._user_slot(db, user)
            meta = _meta(db)
        view = memoryview(self._buffer)
        try:
            signing = crypto.signing_key_from(view[:_KEY])
            exchange = crypto.exchange_key_from(view[_KEY:])
        finally:
            view.release()
        signer = Signer.of(user.id, signing)
        wrapped = slot.wrapped_key
        if (
            wrapped is None
            or slot.exchange_public != crypto.public_bytes(exchange)
            or user.signing_key != signer.public
        ):
            return None
        vault_key = crypto.open_from(
            exchange, wrapped, place=slots.vault_key_place(slot, meta.key_epoch)
        )
        keys = slots.keys_from(meta, vault_key)
        return Unlocked(vault, _user_info(keys, user), keys, signer, exchange)


def references(unlocked: Unlocked) -> list[str]:
    """The references of the cases `unlocked`'s user may read, oldest first (a restricted case
    they are not a member of is not named)."""
    with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
        readable = [c for c in db.all(Case, order="year, number") if unlocked.can_read(db, c)]
        return [casefile.format_reference(case.year, case.number) for case in readable]
