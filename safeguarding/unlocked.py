"""A vault opened by one user: its users, its case keys, and what they may read and write."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from safeguarding import (
    casefile,
    chronology,
    clock,
    concern_checks,
    crypto,
    people_checks,
    restricted,
    slots,
    storage,
    vouched,
)
from safeguarding.attempts import Pending
from safeguarding.chronology import Signer
from safeguarding.crypto import KeyRing
from safeguarding.db import Case, Db, Entry, KeySlot, User
from safeguarding.errors import CheckFailed, Damaged, NotAllowed, UsageError
from safeguarding.roster import (
    MANAGING_ROLES,
    ROLE_TITLES,
    STAFF_SLOT,
    UserInfo,
    _meta,
    _same_name,
    _user_info,
    check_passphrase,
    normalise_name,
    people,
    refuse_alike,
    team_facts,
)
from safeguarding.slots import Holder, Keys
from safeguarding.vault_file import VaultFile
from safeguarding.vault_keys import _rekey_or_defer, _secrets, _vault_ring
from safeguarding.vocabulary import Role

if TYPE_CHECKING:
    from safeguarding import integrity
    from safeguarding.summaries import Progress


@dataclass(frozen=True)
class Departures:
    """How many restricted cases a user left (disabled, or reset by a non-member), and how many
    of those now have no member: only the recovery key opens them."""

    cases: int
    unattended: int


class Unlocked:
    """A vault opened by one user: what they may read and write."""

    def __init__(
        self,
        vault: VaultFile,
        user: UserInfo,
        keys: Keys,
        signer: Signer,
        exchange: X25519PrivateKey,
    ) -> None:
        self.vault = vault
        self.user = user
        self.keys = keys
        self.signer = signer
        self.exchange = exchange
        #: What the last disable or passphrase reset took this user's target out of.
        self.departures = Departures(0, 0)
        #: The failed attempts to unlock as this user since their last unlock, to be told.
        self.missed: Pending | None = None

    def close(self) -> None:
        self.vault.close()

    def require_manager(self, action: str) -> None:
        if self.user.role not in MANAGING_ROLES:
            raise NotAllowed(
                f"only a DSL or the headteacher may {action}; {self.user.name} is "
                f"{ROLE_TITLES[self.user.role]}"
            )
        # The role in the users table is a cache: before anyone is added, disabled or reset,
        # it must be the role the chronology gave this user (a deputy who re-sealed their own
        # row as DSL is stopped here, not only named by `verify` afterwards).
        recorded = self._chronicled_role()
        if recorded is not None and recorded != self.user.role.value:
            raise Damaged(
                f"{self.user.name}'s role in the users table ({self.user.role.value}) is not the "
                f"one the chronology gives them ({recorded}); nothing was changed",
                summary="a user's role was changed by hand",
            )

    def _chronicled_role(self) -> str | None:
        """This user's role as the last `user_added` entry naming them records it."""
        with storage.guarded(self.vault.path), storage.reading(self.vault.connection) as db:
            added = db.all(Entry, "kind = 'user_added'", order="seq")
            role = None
            for entry in added:
                payload = chronology.open_payload(self.keys.fields, entry)
                if _same_name(str(payload.get("user", ""))) == _same_name(self.user.name):
                    role = str(payload.get("role"))
            return role

    def _append(self, db: Db, kind: str, payload: dict[str, Any], **extra: Any) -> Entry:
        return chronology.append(
            db,
            signer=self.signer,
            payload_key=self.keys.fields,
            kind=kind,
            payload=payload,
            **extra,
        )

    # Users ---------------------------------------------------------------------------------

    def find_user(self, name: str) -> UserInfo:
        """The user called `name`, as recorded; raises `NotFound` if there is none."""
        with storage.guarded(self.vault.path), storage.reading(self.vault.connection) as db:
            return _user_info(self.keys, self.vault._find_target(db, name))

    def users(self) -> list[UserInfo]:
        with storage.guarded(self.vault.path), storage.reading(self.vault.connection) as db:
            rows = db.all(User, order="id")
            return [_user_info(self.keys, row) for row in rows]

    def add_user(
        self,
        name: str,
        role: Role,
        passphrase: str,
        kdf: crypto.KdfParams | None = None,
    ) -> UserInfo:
        self.require_manager("add users")
        name = normalise_name(name)
        check_passphrase(name, passphrase)
        kdf = kdf or crypto.DEFAULT_KDF
        with storage.guarded(self.vault.path), storage.writing(self.vault.connection) as db:
            self.require_epoch(db)
            tag = crypto.lookup_tag(_meta(db).lookup_salt, name)
            if db.first(User, "name_tag = ?", tag) is not None:
                raise UsageError(f"there is already a user called {name!r}; nothing was changed")
            refuse_alike(people(db, self.keys), name)
            user_id = db.next_id(User)
            now = clock.to_text(clock.now())
            holder = Holder.new()
            db.insert(
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
                    signing_key=holder.signing_public,
                )
            )
            # A member of staff's slot holds their own keys alone: no vault key.
            staff = role is Role.STAFF
            slot = slots.empty(db.next_id(KeySlot), STAFF_SLOT if staff else "passphrase", user_id)
            vault_key = None if staff else self.keys.vault_key
            slots.fill(slot, passphrase, vault_key, self.keys.epoch, kdf, holder)
            db.insert(slot)
            self._append(
                db,
                "user_added",
                {"user": name, "role": role.value},
                facts={
                    "user": user_id,
                    "signing_key": holder.signing_public.hex(),
                    "exchange_key": holder.exchange_public.hex(),
                    "slots": slots.facts(slot),
                    **team_facts(db, self.keys),
                },
                recorded_at=clock.from_text(now),
            )
        return UserInfo(user_id, name, role, now, None)

    def set_passphrase(
        self,
        name: str | None,
        new_passphrase: str,
        *,
        via: str | None = None,
        kdf: crypto.KdfParams | None = None,
    ) -> UserInfo:
        """Set a new passphrase for `name` (default: oneself), with new signing and exchange
        keys, and re-key the vault: an old copy of the slot, with the old passphrase, opens
        nothing written from here on."""
        target_name = self.user.name if name is None else normalise_name(name)
        own = target_name.casefold() == self.user.name.casefold()
        if not own and via is None:
            self.require_manager("set another user's passphrase")
        check_passphrase(target_name, new_passphrase)
        kdf = kdf or crypto.DEFAULT_KDF
        holder = Holder.new()
        with storage.guarded(self.vault.path), storage.writing(self.vault.connection) as db:
            self.require_epoch(db)
            vouched.require(db)
            user = self.vault._find_target(db, target_name)
            info = _user_info(self.keys, user)
            if user.disabled_at is not None:
                raise NotAllowed(f"user {info.name!r} is disabled; nothing was changed")
            slot = self.vault._user_slot(db, user)
            payload: dict[str, Any] = {"user": info.name}
            if via is not None:
                payload["via"] = via
            kind = "passphrase_changed" if own and via is None else "passphrase_reset"
            vault_key = None if slot.purpose == STAFF_SLOT else self.keys.vault_key
            slots.fill(slot, new_passphrase, vault_key, self.keys.epoch, kdf, holder)
            db.update(slot)
            restricted.reseal_for(db, user.id, self._opener(db), own=own and via is None)
            keys, facts = self._departed(db, user.id, [])
            facts["signing_key"] = holder.signing_public.hex()
            facts["exchange_key"] = holder.exchange_public.hex()
            chronology.append(
                db,
                signer=self.signer,
                payload_key=keys.fields,
                kind=kind,
                payload=payload,
                facts=facts,
            )
            # From the next entry on, the user signs with their new key.
            user.signing_key = holder.signing_public
            db.update(user, "signing_key")
        self.keys = keys
        if kind == "passphrase_changed":
            self.signer = Signer.of(self.user.id, holder.signing)
            self.exchange = holder.exchange
        return info

    def _departed(self, db: Db, user_id: int, left: list[int]) -> tuple[Keys, dict[str, Any]]:
        """After a user's slot changed or emptied and they left the restricted cases `left`:
        re-key (or leave it due), and the facts their entry records."""
        self.departures = Departures(len(left), restricted.unattended(db, left))
        keys = _rekey_or_defer(db, self.keys)
        facts: dict[str, Any] = {
            "user": user_id,
            "slots": slots.facts(*db.all(KeySlot)),
        }
        if keys.epoch != self.keys.epoch:  # re-keyed now, not left due
            facts["vault_epoch"] = keys.epoch
        if left:
            facts["removed_from"] = left
        return keys, facts

    def disable_user(self, name: str) -> UserInfo:
        """Disable a user: their slot is emptied, they leave every restricted case, and the
        vault is re-keyed, so a copy of their slot opens nothing written from here on."""
        self.require_manager("disable users")
        with storage.guarded(self.vault.path), storage.writing(self.vault.connection) as db:
            self.require_epoch(db)
            user = self.vault._find_target(db, name)
            info = _user_info(self.keys, user)
            if user.disabled_at is not None:
                raise UsageError(f"user {info.name!r} is already disabled; nothing was changed")
            if user.id == self.user.id:
                raise NotAllowed("you cannot disable yourself; ask another DSL")
            if info.role is Role.DSL and self._active_dsls(db) <= 1:
                raise NotAllowed(f"{info.name!r} is the last active DSL; add another DSL first")
            vouched.require(db)
            now = clock.to_text(clock.now())
            user.disabled_at = now
            slot = self.vault._user_slot(db, user)
            slots.clear(slot)
            slot.updated_at = now
            db.update(user, "disabled_at")
            db.update(slot)
            keys, facts = self._departed(db, user.id, restricted.remove(db, user.id))
            facts.update(team_facts(db, keys))
            chronology.append(
                db,
                signer=self.signer,
                payload_key=keys.fields,
                kind="user_disabled",
                payload={"user": info.name},
                facts=facts,
                recorded_at=clock.from_text(now),
            )
        self.keys = keys
        return UserInfo(info.id, info.name, info.role, info.created_at, now)

    @property
    def rekey_waiting(self) -> list[str]:
        """Who must unlock (or, for the recovery key, be used) before a re-key can reach every
        slot: empty once none is waiting."""
        with storage.guarded(self.vault.path), storage.reading(self.vault.connection) as db:
            if not _meta(db).rekey_due:
                return []
            names = {user.id: user.name for user in self.directory(db)}
            return [
                "the recovery key" if slot.user_id is None else names[slot.user_id]
                for slot in db.all(
                    KeySlot,
                    "wrapped_key IS NOT NULL AND exchange_public IS NULL",
                    order="id",
                )
            ]

    def _active_dsls(self, db: Db) -> int:
        rows = db.all(User, "disabled_at IS NULL")
        return sum(1 for row in rows if _user_info(self.keys, row).role is Role.DSL)

    def directory(self, db: Db) -> list[UserInfo]:
        """Every user, decrypted, inside the caller's transaction."""
        rows = db.all(User, order="id")
        return [_user_info(self.keys, row) for row in rows]

    # Cases' keys ---------------------------------------------------------------------------

    @property
    def holder(self) -> int:
        """Whose sealed boxes this user opens: their own, or the recovery key's."""
        return restricted.RECOVERY if self.signer.recovery else self.user.id

    def require_epoch(self, db: Db) -> None:
        """Refuse to go on with keys from before a re-key that happened since this unlock."""
        if _meta(db).key_epoch != self.keys.epoch:
            me = db.get(User, self.user.id)
            if me is not None and me.disabled_at is not None and not self.signer.recovery:
                raise NotAllowed("you were disabled while this command waited; nothing was saved")
            raise NotAllowed(
                "the vault's keys were changed while this command waited (a user was disabled "
                "or a passphrase changed); nothing was saved",
                hint="run the command again",
            )

    def new_case_keys(self, db: Db, case: Case, members: Collection[int] | None) -> KeyRing:
        """Give a new case its key: wrapped by the vault key, or (restricted, `members` given)
        sealed to each member and the recovery key only."""
        ring = KeyRing((crypto.new_key(),))
        if members is None:
            case.case_key = crypto.seal(
                self.keys.field_key, ring.packed(), table="cases", row=case.id, column="case_key"
            )
        else:
            case.case_key = b""
            case.restricted = 1
            vouched.require(db)
            restricted.seal(db, case.id, ring, [*members, restricted.RECOVERY])
        db.update(case, "case_key", "restricted")
        return ring

    def case_ring(
        self, db: Db, case: Case, *, writing: bool = False, epoch_checked: bool = False
    ) -> KeyRing:
        """The keys of a case this user may read.  A restricted case they are not a member of
        does not exist for them: `NotFound`, exactly as for an unknown reference.  Writing, a
        restricted case whose member left starts a new epoch first.  (`epoch_checked`: the
        caller has called `require_epoch` in this transaction, for many cases at once.)"""
        if not case.restricted:
            if not epoch_checked:
                self.require_epoch(db)
            return _vault_ring(self.keys, case)
        ring = restricted.open_ring(db, case.id, self.holder, self.exchange)
        if ring is None:
            raise casefile.no_such_case(case.year, case.number)
        if writing:
            ring = restricted.settle(db, case, ring, vouch=vouched.require)
        return ring

    def unattended(self) -> list[str]:
        """The restricted cases with no member left (only the recovery key opens them), by
        reference: for the holder of the recovery key only."""
        if not self.signer.recovery:
            return []
        with storage.guarded(self.vault.path), storage.reading(self.vault.connection) as db:
            return [
                casefile.format_reference(case.year, case.number)
                for case in db.all(Case, "restricted = 1", order="id")
                if not restricted.members(db, case.id)
            ]

    def readable_case(self, db: Db, reference: str) -> Case:
        """The case `reference`, if it exists for this user (`NotFound` if not)."""
        case = casefile.find_case(db, reference)
        if not self.can_read(db, case):
            raise casefile.no_such_case(case.year, case.number)
        return case

    def can_read(self, db: Db, case: Case) -> bool:
        return not case.restricted or restricted.holds(db, case.id, self.holder)

    def _opener(self, db: Db) -> Callable[[Db, Case], KeyRing | None]:
        def opener(db: Db, case: Case) -> KeyRing | None:
            return restricted.open_ring(db, case.id, self.holder, self.exchange)

        return opener

    # Integrity -----------------------------------------------------------------------------

    def verify(
        self, checkpoints: Iterable[chronology.Checkpoint] = (), progress: Progress | None = None
    ) -> integrity.ChainReport:
        """Check the whole vault: every user field and case key decrypts, every signature and
        MAC holds, the clear columns agree with the chronology, and so does every case's
        summary.  `progress`, if given, is told how many entries are checked, of how many.

        Raises `CheckFailed` naming the first damaged row or entry.
        """
        try:
            return self._verify(checkpoints, progress)
        except Damaged as error:
            # Here damage is what was looked for: a failed check (exit 1), not an unusable vault.
            raise CheckFailed(error.detail) from None

    def _verify(
        self, checkpoints: Iterable[chronology.Checkpoint], progress: Progress | None
    ) -> integrity.ChainReport:
        from safeguarding import integrity  # the chronology's checks load only where they run

        with storage.guarded(self.vault.path), storage.reading(self.vault.connection) as db:
            for user in db.all(User, order="id"):
                try:
                    _user_info(self.keys, user)
                except (crypto.DecryptionError, ValueError):
                    raise CheckFailed(
                        f"user {user.id} does not decrypt: altered or moved"
                    ) from None
            from safeguarding import summaries  # only a check loads the kinds of entry

            secrets = _secrets(db, self.keys, self._opener(db))
            held = concern_checks.keys_held(db, self.holder, self.exchange)
            opened = concern_checks.entry_keys_held(db, self.holder, self.exchange)
            secrets = replace(secrets, concern_keys=held, entry_keys=opened)
            recount = summaries.Recount(chronology.head(db).seq, progress)
            people = people_checks.PeopleWatch()
            watcher = people_checks.both(recount, people)
            report = integrity.verify(db, secrets=secrets, checkpoints=checkpoints, watcher=watcher)
            recount.check(db, secrets.case_keys)
            people.check(db, secrets.field_key, _meta(db).lookup_salt)
            return report

    def head(self) -> chronology.Checkpoint:
        with storage.guarded(self.vault.path), storage.reading(self.vault.connection) as db:
            return chronology.head(db)
