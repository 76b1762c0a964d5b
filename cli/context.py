"""What every command shares: the global options, and opening or unlocking the vault."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import credentials, sitting
from .sitting import say_wait as say_wait  # what a passphrase check says, here as in a shell
from .sitting import told as told

# The run's state is defined in `state` (which `credentials` also reads) and named here too, where
# the commands have always found it.
from .state import STATE as STATE
from .state import State as State

if TYPE_CHECKING:
    from safeguarding.concerns import Content, Reporter
    from safeguarding.vault import Unlocked, Vault
    from safeguarding.vault_file import VaultFile


def open_vault(*, staff: bool = False) -> Vault:
    """Open the vault; a member of staff named by `--user` (or SAFEGUARD_USER) is refused
    unless `staff` (the two commands they may run)."""
    from safeguarding.vault import Vault

    vault = Vault.open(STATE.vault_path, busy_timeout=STATE.busy_timeout)
    if STATE.user is not None and not staff:
        try:
            vault.refuse_staff(STATE.user)
        except BaseException:
            vault.close()
            raise
    return vault


def unlock(*, confirm: bool = False) -> Unlocked:
    """Open the vault and unlock it as the acting user (`--user`), asking for the passphrase;
    in a shell, with the keys it holds (asking only once it has locked itself), unless
    `confirm`: what changes who can open the vault asks for the passphrase in a shell too."""
    vault = open_vault(staff=True)  # refused just below, as whoever is acting
    try:
        name = STATE.user_name
        vault.refuse_staff(name)  # before the passphrase is asked for
        held = sitting.current()
        if held is not None and held.serves(STATE.vault_path, name) and not confirm:
            unlocked = held.unlock(vault)
        else:
            passphrase = credentials.passphrase(name)
            say_wait(vault, name)
            unlocked = told(vault.unlock(name, passphrase))
        note_waiting(unlocked)
        return unlocked
    except BaseException:
        vault.close()
        raise


def reporter(vault: Vault, name: str) -> Reporter:
    """Open `vault` to report or read back concerns as `name` (a member of staff too), asking
    for the passphrase; failures are recorded, slowed and told as any unlock's."""
    from safeguarding import concerns

    passphrase = credentials.passphrase(name)
    say_wait(vault, name)
    return told(concerns.reporter(vault, name, passphrase))


def unlock_with_recovery() -> Unlocked:
    """Open the vault with the recovery key (asked for, or from its variables), acting as the
    user `--user` names: the key's use is signed by it, and recorded against them."""
    vault = open_vault(staff=True)  # refused just below, as whoever is acting
    try:
        vault.refuse_staff(STATE.user_name)
        key = credentials.recovery_key()
        say_wait(vault, STATE.user_name)
        return told(vault.unlock_for_recovery(key, STATE.user_name, acting=True))
    except BaseException:
        vault.close()
        raise


def note_waiting(unlocked: Unlocked) -> None:
    """For a DSL, a deputy, the headteacher or the chair of governors, the line their command
    ends with while concerns sealed to them wait for triage.  Most commands find none waiting:
    they ask that with one query, and load nothing of the concerns."""
    from safeguarding import storage

    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        if db.value("SELECT 1 FROM concerns WHERE triaged_seq IS NULL LIMIT 1") is None:
            return
    from safeguarding.concerns import RECEIVING_ROLES

    if unlocked.user.role in RECEIVING_ROLES:
        STATE.reminder = waiting_line(unlocked.vault, unlocked.holder)


def waiting_line(vault: VaultFile, holder: int | None = None) -> str | None:
    """'2 concerns waiting, the oldest for 3 working hours: safeguard inbox', or None; with
    `holder`, of the concerns sealed to them alone."""
    from safeguarding import clock, concerns, config, deadlines
    from safeguarding.errors import SafeguardError

    found = concerns.waiting(vault, holder)
    if not found:
        return None
    try:
        closures = config.load().closure_days
    except SafeguardError:
        closures = deadlines.ClosedDays()
    hours = deadlines.working_hours_between(found[0].recorded_at, clock.now(), closures)
    many = f"{len(found)} concerns" if len(found) != 1 else "1 concern"
    return f"{many} waiting, the oldest for {hours_text(hours)}: safeguard inbox"


def hours_text(hours: float) -> str:
    whole = int(hours)
    if whole < 1:
        return "less than a working hour"
    return f"{whole} working hour{'s' if whole != 1 else ''}"


def concern_rows(content: Content) -> list[tuple[str, str]]:
    """What a concern says, labelled, in the order its author wrote it."""
    from safeguarding import clock, moments

    return [
        ("About", ", ".join(f"{a.name} ({a.role})" for a in content.about)),
        ("When", moments.local_text(clock.from_text(content.at))),
        ("Where", content.where),
        ("What they saw or heard", content.text),
        ("Their own view", content.observations or "(none)"),
        ("Done so far", content.done or "(none)"),
    ]


def concern_number(text: str) -> int:
    """A concern's number as given on the command line (`inbox N`, `triage N`, `concerns N`)."""
    from safeguarding.errors import UsageError

    if not (text.strip().isascii() and text.strip().isdigit()):
        raise UsageError(f"a concern is a number, e.g. 3, not {text!r}")
    return int(text)
