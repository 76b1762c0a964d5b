"""The `--json` documents of children's files sent and received: `school-key`, `transfer`,
`transfer list`, `transfer receipt`, `transfer withdraw`, `import`, `import list` and `import pdf`.

Built as `documents_json` builds its documents, each with its `schema`, from what the library
returns; nothing here opens the vault, writes or prints.  No document holds a receipt secret.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from safeguarding.received import Imported
    from safeguarding.school_key import SchoolKey
    from safeguarding.transfer import PdfWritten, Received, Sent
    from safeguarding.transfers import Transfer

SCHEMAS: dict[str, int] = {
    "safeguard.school-key": 1,
    "safeguard.transfer": 1,
    "safeguard.transfer.list": 1,
    "safeguard.transfer.receipt": 1,
    "safeguard.transfer.withdraw": 1,
    "safeguard.import": 1,
    "safeguard.import.list": 1,
    "safeguard.import.pdf": 1,
}

Document = dict[str, Any]


def _head(schema: str) -> Document:
    return {"schema": schema, "schema_version": SCHEMAS[schema]}


def school_key(school: str, made: SchoolKey, text: str, fingerprint: str) -> Document:
    return {
        **_head("safeguard.school-key"),
        "school": school,
        "key": text,
        "fingerprint": fingerprint,
        "made_at": made.made_at.isoformat(),
    }


def transfer_fields(t: Transfer, today: date, closures: Container[date]) -> Document:
    receipt, withdrawal = t.receipt, t.withdrawal
    return {
        "transfer": t.number,
        "person": t.person,
        "school": t.school,
        "key": t.key or None,
        "pdf_only": t.pdf_only,
        "output": t.to,
        "package_sha256": t.package,
        "sent_at": t.sent_at.isoformat(),
        "sent_by": t.sent_by,
        "state": t.state,
        "due": t.due(closures).isoformat(),
        "overdue": t.overdue(today, closures),
        "received_at": None if receipt is None else receipt.at.isoformat(),
        "confirmed_by": None if receipt is None else receipt.by,
        "confirmation": None if receipt is None or not receipt.text else receipt.text,
        "withdrawn_at": None if withdrawal is None else withdrawal.at.isoformat(),
        "withdrawn_by": None if withdrawal is None else withdrawal.by,
        "withdrawal_reason": None if withdrawal is None else withdrawal.reason,
    }


def overdue(t: Transfer, closures: Container[date]) -> Document:
    """`cases --overdue --json`: a file sent with no case in it, whose receipt is overdue."""
    return {
        "transfer": t.number,
        "person": t.person,
        "school": t.school,
        "what": f"receipt of the file sent to {t.school} (transfer {t.number})",
        "due": t.due(closures).isoformat(),
    }


def sent(done: Sent, today: date, closures: Container[date]) -> Document:
    """`transfer PERSON`: what was written, to whom, and when its receipt is due."""
    return {
        **_head("safeguard.transfer"),
        **transfer_fields(done.transfer, today, closures),
        "package_fingerprint": done.package_fingerprint,
        "cases": list(done.cases),
        "checkpoint": done.checkpoint,
    }


def confirmed(t: Transfer, today: date, closures: Container[date]) -> Document:
    """`transfer receipt`: the transfer, now received."""
    return {**_head("safeguard.transfer.receipt"), **transfer_fields(t, today, closures)}


def withdrawn(t: Transfer, today: date, closures: Container[date]) -> Document:
    """`transfer withdraw`: the transfer, now withdrawn."""
    return {**_head("safeguard.transfer.withdraw"), **transfer_fields(t, today, closures)}


def listed(found: Sequence[Transfer], today: date, closures: Container[date]) -> Document:
    return {
        **_head("safeguard.transfer.list"),
        "transfers": [transfer_fields(t, today, closures) for t in found],
    }


def received(done: Received) -> Document:
    """`import`: whose file, from whom, and the receipt code for the sending school."""
    return {
        **_head("safeguard.import"),
        "person": done.person.id,
        "added": done.added,
        "from": {"school": done.school, "sent_by": done.sent_by, "sent_at": done.sent_at},
        "their_checkpoint": done.checkpoint,
        "cases": list(done.cases),
        "entries": done.entries,
        "receipt_code": done.code,
        "package_fingerprint": done.fingerprint,
        "entry": done.entry,
        "received_file": done.number,
    }


def imported_fields(one: Imported) -> Document:
    f = one.file
    return {
        "received_file": one.number,
        "person": f.person,
        "from": {"school": f.school, "sent_by": f.sent_by, "sent_at": f.sent_at.isoformat()},
        "their_checkpoint": f.checkpoint,
        "received_at": f.received_at.isoformat(),
        "received_by": f.received_by,
        "cases": [str(case.get("case")) for case in f.document.get("cases", [])],
        "earlier_schools": list(one.earlier),
        "pdf": one.pdf is not None,
        "entry": one.entry,
    }


def imported(found: Sequence[Imported]) -> Document:
    """`import list`: every package imported here, with its number for `import pdf`."""
    return {**_head("safeguard.import.list"), "received": [imported_fields(i) for i in found]}


def received_pdf(done: PdfWritten) -> Document:
    """`import pdf`: the PDF written, whose and from where, and its export's event."""
    return {
        **_head("safeguard.import.pdf"),
        **imported_fields(done.imported),
        "output": str(done.output),
        "bytes": done.size,
        "export_entry": done.entry,
    }
