"""Sending a child's file to their new school, and receiving one.

`send` reads the person's file as `export --file` does (an export entry in each of its cases),
writes one package sealed to the receiving school's key (the file's structured document and
its PDF), or for a school without safeguard the PDF alone, and records the transfer as a signed
vault event (`transfers.FILE_TRANSFERRED`) with the package's SHA-256, all in one transaction.

`receive` opens a package with this vault's school key, checks it (sealed to this school, whole,
its sender's signature), adds the child as a person (or finds them, by name and date of birth)
and keeps what was sent, whole, in a signed vault event (`received.FILE_RECEIVED`): the
sending school's entries stay theirs, with their authors' names and their vault's checkpoint.
It gives the receipt code for the sending school to enter.

`received_pdf` writes the PDF a package carried, byte for byte as its sender made it, recorded
as an export of the child's file (`file_exported`, naming the received file).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeguarding import (
    chronology,
    clock,
    documents_people,
    export,
    moments,
    people,
    personfile,
    received,
    school_key,
    storage,
    transfer_package,
    transfers,
)
from safeguarding.db import Case, Db
from safeguarding.errors import CheckFailed, NotAllowed, UsageError
from safeguarding.people_rows import FILE_EXPORTED, PersonInfo

if TYPE_CHECKING:
    from safeguarding.vault import Unlocked

FORMAT = 1
TRANSFER_FORMAT = "transfer"  # an export entry's format, for a case carried by a package
PDF_FORMAT = "transfer-pdf"  # and for one carried by a PDF, to a school without safeguard


@dataclass(frozen=True)
class Sent:
    transfer: transfers.Transfer
    person: PersonInfo
    package_fingerprint: str
    cases: tuple[str, ...]
    checkpoint: str
    #: The vault holds restricted cases the sender may not read: any about the child are not
    #: in the file, and only their members can send them.
    unread_restricted: bool = False


def send(
    unlocked: Unlocked,
    person: str,
    *,
    school: str,
    key: bytes | None,
    output: Path,
    layout: personfile.Layout,
    force: bool = False,
) -> Sent:
    """Write the file of `person` for `school` to `output`: a package sealed to `key`, or the
    PDF alone when `key` is None; recorded in each of its cases and as the transfer."""
    unlocked.require_manager("send a child's file to another school")
    target = export.Target(output, force)
    fmt = PDF_FORMAT if key is None else TRANSFER_FORMAT
    payload = {"format": fmt, "redacted": False, "to": output.name}
    vault = unlocked.vault
    try:
        with storage.guarded(vault.path), storage.writing(vault.connection) as db:
            unlocked.require_epoch(db)
            read = personfile.read_for_export(unlocked, db, person, payload)
            made = personfile.assemble(read, layout, (clock.now(), unlocked.user.name))
            number, secret = transfers.next_number(db), secrets.token_bytes(32)
            made = personfile.sending(made, f"to {school}, {moments.local_text(clock.now())}")
            pdf, _ = export.render_counted(made.combined, "pdf")
            data = pdf
            if key is not None:
                contents = _contents(unlocked, made, read.checkpoint, (number, school), key, pdf)
                contents["receipt_secret"] = secret.hex()
                data = transfer_package.seal(contents, recipient=key, signer=unlocked.signer.key)
            target.write(data)
            event = chronology.append(
                db,
                signer=unlocked.signer,
                payload_key=unlocked.keys.fields,
                kind=transfers.FILE_TRANSFERRED,
                payload={
                    "number": number,
                    "person": made.person.id,
                    "school": school,
                    "key": "" if key is None else transfer_package.fingerprint(key),
                    **_written(data, secret, output, read.case_ids),
                },
                facts={"person": made.person.id, "transfer": number},
            )
            (transfer,) = [t for t in transfers.sent(unlocked, db) if t.number == number]
            unread = any(not unlocked.can_read(db, case) for case in db.all(Case, "restricted = 1"))
        target.commit("the vault's chronology", event.seq)
    except BaseException:
        target.discard()
        raise
    return Sent(
        transfer=transfer,
        person=made.person,
        package_fingerprint=transfer_package.fingerprint(data),
        cases=tuple(view.reference for view in made.cases),
        checkpoint=str(read.checkpoint),
        unread_restricted=unread,
    )


def _written(data: bytes, secret: bytes, output: Path, cases: list[int]) -> dict[str, Any]:
    """What a transfer's event records of what was written: its SHA-256, the receipt's
    secret, the file's name (never its folder), whether it is a PDF, and the cases it holds."""
    return {
        "package": hashlib.sha256(data).hexdigest(),
        "secret": secret.hex(),
        "to": output.name,
        "pdf_only": not data.startswith(transfer_package.MAGIC),
        "cases": cases,
    }


def _contents(
    unlocked: Unlocked,
    made: personfile.ChildFile,
    checkpoint: chronology.Checkpoint,
    to: tuple[int, str],
    key: bytes,
    pdf: bytes,
) -> dict[str, Any]:
    """What a package holds (but its receipt secret): the file, naming this transfer as its
    last, and its PDF."""
    number, school = to
    document = documents_people.child_file(made)
    document["last_transfer"] = {
        "transfer": number,
        "school": school,
        "sent_at": clock.now().isoformat(),
        "state": "this file",
        "received_at": None,
    }
    return {
        "format": FORMAT,
        "transfer": secrets.token_hex(16),
        "sent_at": clock.now().isoformat(),
        "from": {
            "school": made.combined.school,
            "sent_by": unlocked.user.name,
            "checkpoint": str(checkpoint),
        },
        "to": {"school": school, "key": transfer_package.fingerprint(key)},
        "file": document,
        "pdf": base64.b64encode(pdf).decode("ascii"),
    }


@dataclass(frozen=True)
class Received:
    person: PersonInfo
    added: bool  # a new person, rather than one already known here
    school: str
    sent_by: str
    sent_at: str
    checkpoint: str
    entries: int
    cases: tuple[str, ...]
    code: str
    entry: int
    fingerprint: str  # the package's, as the sending school read it out
    number: int = 0  # its number among the files received here ('import list')


def receive(unlocked: Unlocked, package: bytes) -> Received:
    """Import a package sent to this school (see the module's docstring)."""
    unlocked.require_manager("import a child's file")
    vault = unlocked.vault
    with storage.guarded(vault.path), storage.reading(vault.connection) as db:
        keys = school_key.private_keys(unlocked, db)
    if not keys:
        raise NotAllowed(
            "this vault has no school key, so no package can have been sealed to it",
            hint="run 'safeguard school-key' and send what it prints to the sending school",
        )
    opened = _opened(package, keys)
    contents = opened.contents
    draft = _child(contents)
    with storage.guarded(vault.path), storage.writing(vault.connection) as db:
        unlocked.require_epoch(db)
        already = received.imported_before(unlocked, db, str(contents["transfer"]))
        if already is not None:
            raise NotAllowed(
                f"this package was imported already, on {already[0]}, into person {already[1]}; "
                "nothing was changed"
            )
        person, added = _person(unlocked, db, draft)
        number = 1 + int(db.value(_RECEIVED_COUNT, received.FILE_RECEIVED))
        event = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=unlocked.keys.fields,
            kind=received.FILE_RECEIVED,
            payload={
                "person": person.id,
                "transfer": str(contents["transfer"]),
                "package": opened.sha256.hex(),
                "signing_key": opened.signing_key.hex(),
                "contents": contents,
            },
            facts={"person": person.id},
        )
    sender = contents["from"]
    document = contents["file"]
    return Received(
        person=person,
        added=added,
        school=str(sender["school"]),
        sent_by=str(sender["sent_by"]),
        sent_at=str(contents["sent_at"]),
        checkpoint=str(sender["checkpoint"]),
        entries=len(document.get("chronology", [])),
        cases=tuple(str(case["case"]) for case in document.get("cases", [])),
        code=transfer_package.receipt_code(
            bytes.fromhex(str(contents["receipt_secret"])), opened.sha256
        ),
        entry=event.seq,
        fingerprint=transfer_package.fingerprint(package),
        number=number,
    )


_RECEIVED_COUNT = "SELECT count(*) FROM entries WHERE case_id IS NULL AND kind = ?"


def _opened(package: bytes, keys: list[Any]) -> transfer_package.Opened:
    """The package opened with whichever of this vault's school keys it was sealed to."""
    refused: NotAllowed | None = None
    for private in keys:
        try:
            return transfer_package.open_package(package, private)
        except NotAllowed as error:
            refused = refused or error
    assert refused is not None
    raise refused


def _child(contents: dict[str, Any]) -> PersonInfo:
    """The child the package is about, as a person to add: `CheckFailed` if what the
    package says of them is not what a sending vault writes."""
    try:
        if contents.get("format") != FORMAT:
            raise ValueError("format")
        sent = contents["file"]["person"]
        today = date.max  # a date of birth is checked against the sender's day, not ours
        return people.draft(
            str(sent["name"]),
            str(sent["dob"]),
            year_group=str(sent.get("year_group") or "") or None,
            upn=str(sent.get("upn") or "") or None,
            role=str(sent.get("role") or "pupil"),
            today=today,
        )
    except (KeyError, TypeError, ValueError, AttributeError, UsageError):
        raise CheckFailed(
            "the package holds no file this version of safeguard can read",
            hint="ask the sending school which version of safeguard made it",
        ) from None


def _person(unlocked: Unlocked, db: Db, draft: PersonInfo) -> tuple[PersonInfo, bool]:
    """The person here with the child's name and date of birth, or the child added."""
    same = [p for p in people.matching_in(unlocked, db, draft.name) if p.dob == draft.dob]
    if len(same) == 1:
        return same[0], False
    return people.add_in(unlocked, db, draft, clock.now()), True


#: The format `file_exported` records for the PDF of a file received from another school.
RECEIVED_PDF_FORMAT = "received-pdf"


@dataclass(frozen=True)
class PdfWritten:
    """The PDF of a received file, written out and recorded."""

    imported: received.Imported
    output: Path
    size: int
    entry: int  # its export's vault event


def received_pdf(unlocked: Unlocked, number: str, output: Path, force: bool = False) -> PdfWritten:
    """Write the PDF that the package imported as `number` carried to `output`, exactly as the
    sending school made it, and record it as an export of the child's file.  Refused for an
    unknown number (`NotFound`) and for a received file that holds no PDF (`NotAllowed`)."""
    target = export.Target(output, force)
    vault = unlocked.vault
    try:
        with storage.guarded(vault.path), storage.writing(vault.connection) as db:
            unlocked.require_epoch(db)
            found = received.find_imported(received.imported(unlocked, db), number)
            pdf = require_pdf(found)
            target.write(pdf)
            event = chronology.append(
                db,
                signer=unlocked.signer,
                payload_key=unlocked.keys.fields,
                kind=FILE_EXPORTED,
                payload={
                    "person": found.file.person,
                    "format": RECEIVED_PDF_FORMAT,
                    "to": output.name,
                    "received_file": found.number,
                },
            )
        target.commit("the vault's chronology", event.seq)
    except BaseException:
        target.discard()
        raise
    return PdfWritten(found, output, len(pdf), event.seq)


def require_pdf(found: received.Imported) -> bytes:
    """The PDF a received file holds: `NotAllowed` if its package held none."""
    if found.pdf is None:
        raise NotAllowed(
            f"received file {found.number} holds no PDF: its package carried the file alone",
            hint=f"'safeguard file {found.file.person}' shows it; 'safeguard export --file "
            f"{found.file.person} --format pdf' makes this school's PDF of it",
        )
    return found.pdf
