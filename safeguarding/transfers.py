"""Children's files sent to other schools, and whether each has been received.

Each transfer is a signed vault event, `file_transferred`, written when the package is made
(see `safeguarding.transfer`): the person, the school and the fingerprint of its key, the
package's SHA-256, the secret its receipt code is made from, and the cases it carried.  Its
receipt is another, `transfer_confirmed`: the code the receiving vault printed, checked here,
or, for a file sent as a PDF to a school without safeguard, who confirmed it and how.  A
transfer sent by mistake (to the wrong school, the wrong child's file, a package lost and sent
again) is withdrawn by a third, `transfer_withdrawn`, with the reason: it is no longer chased.

KCSIE asks for the file within 5 school days and for confirmation of receipt: a transfer with
no receipt 5 working days after it was sent is overdue, in the same calendar as deadlines, and
shows in each of its cases' overdue items.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from safeguarding import casefile, chronology, clock, deadlines, moments, storage, transfer_package
from safeguarding.db import Db, Entry
from safeguarding.entries import Fact
from safeguarding.errors import NotAllowed, NotFound, UsageError
from safeguarding.people_checks import FILE_TRANSFERRED as FILE_TRANSFERRED
from safeguarding.people_checks import TRANSFER_CONFIRMED as TRANSFER_CONFIRMED
from safeguarding.people_checks import TRANSFER_WITHDRAWN as TRANSFER_WITHDRAWN
from safeguarding.timeline import Since
from safeguarding.vocabulary import Kind

if TYPE_CHECKING:
    from safeguarding.casefile import CaseFile
    from safeguarding.unlocked import Unlocked

#: The vault events of a transfer: sent, received, withdrawn.
EVENTS = (FILE_TRANSFERRED, TRANSFER_CONFIRMED, TRANSFER_WITHDRAWN)
#: School days the file has to reach the new school and be confirmed.
RECEIPT_DAYS = 5


@dataclass(frozen=True)
class Receipt:
    at: datetime
    by: str
    code: str | None  # the receiving vault's code; None for a PDF confirmed by hand
    text: str  # for a PDF: who confirmed it, and how


@dataclass(frozen=True)
class Withdrawal:
    """A transfer said to have been a mistake: when, by whom, and why."""

    at: datetime
    by: str
    reason: str


@dataclass(frozen=True)
class Transfer:
    """A file sent: its number (1, 2, … in this vault), to whom and what, and its receipt."""

    number: int
    seq: int
    person: int
    school: str
    key: str  # the receiving school key's fingerprint; "" for a PDF
    package: str  # SHA-256 of what was written, hex
    to: str  # the name of the file written
    pdf_only: bool
    cases: tuple[int, ...]
    sent_at: datetime
    sent_by: str
    secret: bytes
    receipt: Receipt | None = None
    withdrawal: Withdrawal | None = None

    def due(self, closures: Container[date]) -> date:
        """The last day by whose end its receipt should have come."""
        return deadlines.add_working_days(moments.local_date(self.sent_at), RECEIPT_DAYS, closures)

    def overdue(self, today: date, closures: Container[date]) -> bool:
        return self.receipt is None and self.withdrawal is None and today > self.due(closures)

    @property
    def state(self) -> str:
        if self.withdrawal is not None:
            return "withdrawn"
        return "received" if self.receipt is not None else "awaiting receipt"


def sent(unlocked: Unlocked, db: Db) -> list[Transfer]:
    """Every transfer this vault has made, oldest first, with its receipt if it has one."""
    authors = casefile.user_names(db, unlocked.keys.field_key)
    rows = db.all(
        Entry,
        "case_id IS NULL AND kind IN (?, ?, ?)",
        FILE_TRANSFERRED,
        TRANSFER_CONFIRMED,
        TRANSFER_WITHDRAWN,
        order="seq",
    )
    made: dict[int, Transfer] = {}
    for entry in rows:
        payload = chronology.open_payload(unlocked.keys.fields, entry)
        by = authors.get(entry.author_id, f"user {entry.author_id}")
        at = clock.from_text(entry.recorded_at)
        if entry.kind == FILE_TRANSFERRED:
            made[int(payload["number"])] = _transfer(entry.seq, payload, at, by)
            continue
        number = int(payload["transfer"])
        if number not in made or made[number].receipt or made[number].withdrawal:
            continue
        if entry.kind == TRANSFER_WITHDRAWN:
            withdrawal = Withdrawal(at, by, str(payload.get("reason", "")))
            made[number] = replace(made[number], withdrawal=withdrawal)
        else:
            receipt = Receipt(at, by, payload.get("code"), str(payload.get("text", "")))
            made[number] = _with(made[number], receipt)
    return list(made.values())


def _transfer(seq: int, payload: dict[str, Any], at: datetime, by: str) -> Transfer:
    return Transfer(
        number=int(payload["number"]),
        seq=seq,
        person=int(payload["person"]),
        school=str(payload["school"]),
        key=str(payload.get("key", "")),
        package=str(payload["package"]),
        to=str(payload["to"]),
        pdf_only=bool(payload.get("pdf_only")),
        cases=tuple(int(c) for c in payload.get("cases", [])),
        sent_at=at,
        sent_by=by,
        secret=bytes.fromhex(str(payload["secret"])),
    )


def _with(transfer: Transfer, receipt: Receipt) -> Transfer:
    return replace(transfer, receipt=receipt)


def overdue_by_case(
    unlocked: Unlocked, db: Db, today: date, closures: Container[date]
) -> dict[int, list[Transfer]]:
    """The transfers still without a receipt past their 5 school days, by each case they
    carried."""
    found: dict[int, list[Transfer]] = {}
    for transfer in overdue(unlocked, db, today, closures):
        for case_id in transfer.cases:
            found.setdefault(case_id, []).append(transfer)
    return found


def overdue(unlocked: Unlocked, db: Db, today: date, closures: Container[date]) -> list[Transfer]:
    """Every transfer still without a receipt past its 5 school days."""
    if _none_sent(db):
        return []
    return [t for t in sent(unlocked, db) if t.overdue(today, closures)]


def _none_sent(db: Db) -> bool:
    """One cheap look, among the vault's events only: most vaults have sent nothing."""
    sql = "SELECT 1 FROM entries WHERE case_id IS NULL AND kind = ? LIMIT 1"
    return db.value(sql, FILE_TRANSFERRED) is None


def next_number(db: Db) -> int:
    count = db.value(
        "SELECT count(*) FROM entries WHERE case_id IS NULL AND kind = ?", FILE_TRANSFERRED
    )
    return 1 + int(count)


def find(transfers: Sequence[Transfer], text: str) -> Transfer:
    cleaned = text.strip()
    if not (cleaned.isascii() and cleaned.isdigit() and len(cleaned) < 10):
        raise UsageError(f"{text!r} is not a transfer's number", hint="'safeguard transfer list'")
    for transfer in transfers:
        if transfer.number == int(cleaned):
            return transfer
    raise NotFound(f"there is no transfer {cleaned}", hint="'safeguard transfer list' lists them")


def confirm(unlocked: Unlocked, number: str, code: str | None, text: str | None) -> Transfer:
    """Record the receipt of transfer `number`: the receiving vault's `code` for a package
    (refused, `NotAllowed`, unless it is that package's), or for a PDF, `text`, who confirmed it
    and how."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        transfer = find(sent(unlocked, db), number)
        refuse_settled(transfer)
        payload: dict[str, Any] = {"transfer": transfer.number}
        if transfer.pdf_only and code:
            raise UsageError(
                f"transfer {transfer.number} was sent as a PDF, so it has no receipt code; say "
                "who at the new school confirmed it arrived, and how",
                hint=f"safeguard transfer receipt {transfer.number} (it asks), or --text-file",
            )
        if transfer.pdf_only:
            if not (text or "").strip():
                raise UsageError("say who at the new school confirmed the PDF arrived, and how")
            payload["text"] = text
        else:
            if not code:
                raise UsageError(
                    "give the receipt code the new school's 'safeguard import' printed"
                )
            package = bytes.fromhex(transfer.package)
            if not transfer_package.receipt_holds(transfer.secret, package, code):
                raise NotAllowed(
                    f"that is not transfer {transfer.number}'s receipt code; nothing was recorded",
                    hint="ask the new school to read out the code 'safeguard import' printed",
                )
            payload["code"] = code.strip().upper()
        entry = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=unlocked.keys.fields,
            kind=TRANSFER_CONFIRMED,
            payload=payload,
            facts={"transfer": transfer.number},
        )
    at = clock.from_text(entry.recorded_at)
    return _with(transfer, Receipt(at, unlocked.user.name, payload.get("code"), text or ""))


def refuse_settled(transfer: Transfer, *, withdrawing: bool = False) -> None:
    """`NotAllowed` for a transfer whose receipt was recorded, or that was withdrawn."""
    n, receipt, withdrawal = transfer.number, transfer.receipt, transfer.withdrawal
    if withdrawal is not None:
        when = f"on {moments.local_text(withdrawal.at)} by {withdrawal.by}"
        raise NotAllowed(
            f"transfer {n} was withdrawn already, {when}"
            if withdrawing
            else f"transfer {n} was withdrawn {when}: its receipt cannot be recorded"
        )
    if receipt is not None:
        when = f"on {moments.local_text(receipt.at)} by {receipt.by}"
        raise NotAllowed(
            f"transfer {n} was received (its receipt was recorded {when}): it cannot be withdrawn"
            if withdrawing
            else f"transfer {n}'s receipt was recorded already, {when}"
        )


def withdraw(unlocked: Unlocked, number: str, reason: str) -> Transfer:
    """Record that transfer `number` was sent by mistake, and why: it is no longer awaited or
    chased.  Refused (`NotAllowed`) for a transfer received or withdrawn already.  The package
    itself is where it was sent: only the school that holds it can delete it."""
    unlocked.require_manager("withdraw a transfer")
    if not reason.strip():
        raise UsageError("say why the transfer is withdrawn")
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        transfer = find(sent(unlocked, db), number)
        refuse_settled(transfer, withdrawing=True)
        entry = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=unlocked.keys.fields,
            kind=TRANSFER_WITHDRAWN,
            payload={"transfer": transfer.number, "reason": reason},
            facts={"transfer": transfer.number},
        )
    at = clock.from_text(entry.recorded_at)
    return replace(transfer, withdrawal=Withdrawal(at, unlocked.user.name, reason))


def every_sent(unlocked: Unlocked) -> list[Transfer]:
    """Every transfer sent, for the timelines of the cases they carried (one cheap look when
    nothing was ever sent)."""
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        if _none_sent(db):
            return []
        return sent(unlocked, db)


def chased(transfer: Transfer) -> str:
    """What an overdue receipt is, as lists of what is overdue name it."""
    return f"receipt of the file sent to {transfer.school} (transfer {transfer.number})"


def chased_in(
    found: Sequence[Transfer], case: CaseFile, today: date, closures: Container[date]
) -> tuple[str, ...]:
    """The receipts of the transfers in `found` that carried the case and are overdue at
    `today`, as a timeline's Overdue row says them."""
    return tuple(
        f"{chased(t)}, due {t.due(closures).isoformat()}"
        for t in found
        if case.case_id in t.cases and t.overdue(today, closures)
    )


def said_in(
    found: Sequence[Transfer],
    case: CaseFile,
    closures: Container[date],
    *,
    redacted: bool = False,
) -> Since:
    """What a case's timeline says of the transfers in `found` that carried it: each one's
    receipt or withdrawal, under its export entry, and its receipt once overdue."""
    return Since(
        notes_in(found, case, redacted=redacted),
        lambda today: chased_in(found, case, today, closures),
    )


def last_standing(sent: Sequence[Transfer]) -> Transfer | None:
    """The last transfer of a file that was not withdrawn (the last of all, if every one was;
    None: none was sent): what a cover sheet gives as where the file went."""
    kept = [t for t in sent if t.withdrawal is None] or list(sent)
    return kept[-1] if kept else None


def notes_in(
    found: Sequence[Transfer], case: CaseFile, *, redacted: bool = False
) -> dict[int, tuple[Fact, ...]]:
    """What a case's timeline shows after the export entry of each transfer in `found` that
    carried the case and has been received or withdrawn since, by the entry's id: its receipt
    or its withdrawal, with the transfer's number and school.  A transfer writes each case's
    export entry in the transaction that records it, so its entry is the case's last transfer
    export before the transfer's own event.  A redacted copy says when, but neither who nor
    why."""
    written = [
        e.id
        for e in case.entries
        if e.kind == Kind.EXPORT and str(e.data.get("format", "")).startswith("transfer")
    ]
    notes: dict[int, tuple[Fact, ...]] = {}
    for t in found:
        before = [i for i in written if i < t.seq]
        if case.case_id not in t.cases or not before:
            continue
        facts = []
        if t.receipt is not None:
            r = t.receipt
            how = "its code checked" if r.code else r.text.strip()
            said = "" if redacted else f", recorded by {r.by}: {how}"
            when = moments.local_text(r.at)
            facts.append(Fact("Received", f"by {t.school} (transfer {t.number}), {when}{said}"))
        if t.withdrawal is not None:
            w = t.withdrawal
            said = "" if redacted else f" by {w.by}: {w.reason.strip()}"
            when = moments.local_text(w.at)
            facts.append(Fact("Withdrawn", f"transfer {t.number} (to {t.school}), {when}{said}"))
        if facts:
            notes[max(before)] = tuple(facts)
    return notes
