"""Every JSON document safeguard gives: each command's `--json` (its failures included), and the
case that `timeline --json` prints and `export --format json` writes.

A document that is an object starts with `schema`, its name, and `schema_version`; a command that
prints an array prints it bare, as it always has, and `SCHEMAS` (and the README) name it.  A key
may be added within a version; one renamed, retyped or taken away makes a new version.  A text
someone recorded is in a document once: where one part sums up another, it names the entry.
These are functions from what the library returns to dicts: nothing here opens the vault, writes
or prints (`backup list` reads each backup's size from its file).  At load this module imports
only the standard library, so every command may import it without slowing `--help`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Named in annotations only: at run time this module imports nothing above it.
    from safeguarding.access import Access
    from safeguarding.backup_check import Check, Verified
    from safeguarding.backup_create import Created
    from safeguarding.backup_prune import Pruned
    from safeguarding.backup_status import Status
    from safeguarding.cases import CaseSummary, Written
    from safeguarding.categories import Category
    from safeguarding.chronology import Checkpoint
    from safeguarding.export import Exported
    from safeguarding.integrity import ChainReport
    from safeguarding.membership import Members
    from safeguarding.migrate import SchemaState
    from safeguarding.prune import Duration
    from safeguarding.report import Report
    from safeguarding.restore import Restored
    from safeguarding.roster import UserInfo
    from safeguarding.server import Location
    from safeguarding.timeline import Item, Timeline
    from safeguarding.unlocked import Departures
    from safeguarding.upgrade import Upgraded
    from safeguarding.vault_file import EntryFacts

Document = dict[str, Any]

#: Every document by its name, with its version.
SCHEMAS: dict[str, int] = {
    "safeguard.case": 2,
    "safeguard.entry": 1,
    "safeguard.members": 1,
    "safeguard.init": 1,
    "safeguard.verify": 1,
    "safeguard.checkpoint": 1,
    "safeguard.export": 1,
    "safeguard.user.add": 1,
    "safeguard.user.passwd": 1,
    "safeguard.user.disable": 1,
    "safeguard.db.status": 1,
    "safeguard.db.upgrade": 1,
    "safeguard.backup.create": 1,
    "safeguard.backup.verify": 1,
    "safeguard.backup.prune": 1,
    "safeguard.backup.status": 1,
    "safeguard.restore": 1,
    "safeguard.report": 1,
    # printed as a bare array, so these two keys are in no document
    "safeguard.cases": 1,
    "safeguard.categories": 1,
    "safeguard.audit": 1,
    "safeguard.user.list": 1,
    "safeguard.backup.list": 1,
}
_BARE = ("cases", "categories", "audit", "user.list", "backup.list")
ARRAYS = frozenset(f"safeguard.{name}" for name in _BARE)


def _named(schema: str, **keys: Any) -> Document:
    return {"schema": schema, "schema_version": SCHEMAS[schema], **keys}


def _iso(moment: date | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# A case and its entries ----------------------------------------------------------------------


def case(t: Timeline) -> Document:
    """The full structured case: `timeline --json`, and what `export --format json` writes.
    An entry's `data` is its fields but its `text` (and the disclosure's subjects, the case's
    `subjects`); `referrals`, `overdue` and `actions` name entries by `id`."""
    # The timeline model brings Rich with it: only the case needs it, not the backups' documents.
    from safeguarding.timeline import MARKING

    referrals = [item for item in t.items if item.kind == "referral"]
    entry_of = {(i.kind, i.data.get("action")): i.id for i in t.items if "action" in i.data}
    late = [
        {"what": "action", "action": a.number, "due": _iso(a.due)} for a in t.actions if a.overdue
    ]
    if t.next_overdue and not referrals:  # until one is recorded, the referral is the next step
        late.insert(0, {"what": "referral", "due": _iso(t.next_due)})
    return _named(
        "safeguard.case",
        case=t.reference,
        school=t.school,
        marking=MARKING,
        redacted=t.redacted,
        **({"redaction": t.notice} if t.redacted else {}),
        produced_at=_iso(t.produced_at),
        produced_by=t.produced_by,
        checkpoint=str(t.checkpoint),
        category={"code": t.category_code, "title": t.category_title, "section": t.section},
        subjects=[{"name": name, "role": role} for name, role in t.subjects],
        status=t.status,
        stage=t.stage,
        opened_at=_iso(t.opened_at),
        closed_at=_iso(t.closed_at),
        outcome=t.outcome,
        referrals=[{"entry": i.id, "route": i.data.get("route")} for i in referrals],
        next={"title": t.next_title, "due": _iso(t.next_due), "overdue": t.next_overdue},
        overdue=late,
        actions=[
            {
                "action": a.number,
                "entry": entry_of.get(("action", a.number)),
                "due": _iso(a.due),
                "set_at": _iso(a.set_at),
                "done_at": _iso(a.done_at),
                "done_entry": entry_of.get(("action_done", a.number)),
                "overdue": a.overdue,
            }
            for a in t.actions
        ],
        entries=[_item(item) for item in t.items],
    )


def _item(item: Item) -> Document:
    given = ("text", "subjects") if item.kind == "disclosure" else ("text",)
    document = {
        "id": item.id,
        "number": item.number,
        "kind": item.kind,
        "at": _iso(item.at),
        "recorded_at": _iso(item.recorded_at),
        "late": item.late,
        "author": item.author,
        "text": item.text,
        "amends": item.amends,
        "amended_by": list(item.amended_by),
        "data": {key: value for key, value in item.data.items() if key not in given},
    }
    if item.since:  # said of it since: a transfer it records withdrawn
        document["since"] = [{"label": f.label, "value": f.value} for f in item.since]
    return document


def entry(written: Written, **extra: Any) -> Document:
    """What an entry command wrote and where the case stands: `refer`, `advice`, `action add`
    and `done` (`extra`: the action), `conversation`, `note`, `amend`, `close`, `reopen`."""
    document = _named(
        "safeguard.entry", case=written.reference, entry=written.entry, number=written.number
    )
    if written.action is not None:
        document["action"] = written.action
    document.update(extra)
    document.update(
        status=written.state.status,
        stage=written.state.stage.value,
        next=written.next.title,
        due=written.next.due.isoformat() if written.next.due else None,
    )
    return document


def recorded(written: Written, category: str) -> Document:
    """`record`: an entry's document, with the category, and a restricted case's members."""
    document = entry(written)
    document["category"] = category
    if written.members is not None:
        document["restricted_to"] = list(written.members)
    return document


def cases(summaries: Sequence[CaseSummary], names: bool) -> list[Document]:
    """`cases`: the subjects' names with `names`, else their initials."""
    return [
        {
            "case": s.reference,
            "status": s.state.status,
            "stage": s.state.stage.value,
            "category": s.state.category,
            "subjects": s.state.subjects if names else s.state.initials,
            "next": s.next.title,
            "due": s.next.due.isoformat() if s.next.due else None,
            "overdue": [{"what": o.what, "due": o.due.isoformat()} for o in s.overdue],
            "restricted": s.restricted,
        }
        for s in summaries
    ]


def categories(found: Iterable[Category]) -> list[Document]:
    return [
        {
            "code": c.code,
            "title": c.title,
            "section": c.section,
            "route": c.route.value,
            "deadline_working_days": c.deadline_working_days,
            "outcomes": list(c.allowed_outcomes),
            "guidance": c.guidance,
        }
        for c in found
    ]


def members(found: Members) -> Document:
    """`access show`, `grant` and `revoke`: who may read a restricted case."""
    return _named(
        "safeguard.members",
        case=found.reference,
        members=[
            {"user": m.name, "role": m.role, "waiting_for_keys": m.waiting} for m in found.members
        ],
        recovery_key=True,
    )


def exported(done: Exported) -> Document:
    """`export --json`: what was written where (the export itself is in the file)."""
    return _named(
        "safeguard.export",
        case=done.reference,
        entry=done.entry,
        number=done.number,
        format=done.format,
        redacted=done.redacted,
        output=str(done.path),
        checkpoint=done.checkpoint,
    )


def audit(events: Sequence[Access], *, mine: bool) -> list[Document]:
    return [
        {
            "entry": e.entry,
            "number": e.number,
            "at": e.at.isoformat(),
            "who": e.who,
            "case": e.case or None,
            "action": e.action,
            "format": e.format,
            "redacted": e.redacted,
            "output": e.to if e.action in ("exported", "reported") else None,
            **({"user": e.to} if e.action in ("granted", "revoked") else {}),
            **({"recovery": True} if e.recovery else {}),
            **({"period": e.period} if e.period else {}),
            **({"concern": e.concern, "outcome": e.outcome} if e.concern is not None else {}),
            **({"kind": e.kind} if mine or e.action == "recorded" else {}),
        }
        for e in events
    ]


def report(r: Report) -> Document:
    """`report --format json`: `school`, `period` (`from`, `to`, `term`), `produced_at`, then
    `concerns`, `timeliness` and `pattern` (figures by name; a breakdown is a list of [what,
    count] pairs, or [title, section, count]), `not_broken_down`, `backups_given`,
    `last_verified_backup`, `notices`.  No name; a count of 1 or 2 is "fewer than 3", and one
    that would let it be worked out "withheld"."""
    from dataclasses import asdict

    figures = json.loads(json.dumps(asdict(r), default=lambda value: value.isoformat()))
    p = figures["period"]
    figures["period"] = {"from": p["start"], "to": p["end"], "term": p["term"]}
    return _named("safeguard.report", **figures)


# The vault, its users and its schema ---------------------------------------------------------


def new_vault(path: Location, user: UserInfo, recovery_key: str) -> Document:
    """`init`: the vault, its first user, and the recovery key, shown this once."""
    return _named(
        "safeguard.init",
        vault=str(path),
        user=user.name,
        role=user.role.value,
        recovery_key=recovery_key,
    )


def verified(
    report: ChainReport, checkpoints: int, recovery: bool, unattended: Sequence[str]
) -> Document:
    """`verify` when all is well."""
    return _named(
        "safeguard.verify",
        ok=True,
        entries=report.entries,
        before_signatures=report.before_signatures,
        unchecked=report.unchecked,
        unreadable=report.unreadable,
        **({"cases_with_no_member": list(unattended)} if recovery else {}),
        checkpoint=str(report.head),
        checkpoints_checked=checkpoints,
    )


def verify_failed(problem: str) -> Document:
    """`verify` when a check fails (exit 1)."""
    return _named("safeguard.verify", ok=False, problem=problem)


def checkpoint(head: Checkpoint, signed: EntryFacts) -> Document:
    return _named(
        "safeguard.checkpoint",
        checkpoint=str(head),
        entry=head.seq,
        recorded_at=signed.recorded_at,
        author=signed.author_id,
        signed=signed.signed,
    )


def user_added(user: UserInfo) -> Document:
    return _named("safeguard.user.add", user=user.name, role=user.role.value)


def users(found: Sequence[UserInfo]) -> list[Document]:
    """`user list`."""
    return [
        {
            "user": u.name,
            "role": u.role.value,
            "added_at": u.created_at,
            "active": u.active,
            "disabled_at": u.disabled_at,
        }
        for u in found
    ]


def passphrase_changed(
    user: UserInfo, waiting: Sequence[str], left: Departures, *, rekeyed: bool = True
) -> Document:
    """`user passwd` (a member of staff's own: not `rekeyed`, their slot holds no vault key)."""
    found = _named("safeguard.user.passwd", user=user.name, role=user.role.value)
    return found | _rekey(waiting, left) | ({} if rekeyed else {"rekeyed": False})


def user_disabled(user: UserInfo, waiting: Sequence[str], left: Departures) -> Document:
    return _named(
        "safeguard.user.disable",
        user=user.name,
        role=user.role.value,
        disabled_at=user.disabled_at,
        **_rekey(waiting, left),
    )


def _rekey(waiting: Sequence[str], left: Departures) -> Document:
    """Whether the vault has its new keys, and if not, who must unlock it first (the recovery
    key is named "the recovery key"); how many restricted cases the user left, and how many of
    those now only the recovery key opens."""
    return {
        "rekeyed": not waiting,
        "waiting_for": list(waiting),
        "left_restricted_cases": left.cases,
        "cases_with_no_member": left.unattended,
    }


def schema_status(vault: Location, state: SchemaState) -> Document:
    """`db status`."""
    return _named(
        "safeguard.db.status",
        vault=str(vault),
        revision=state.revision,
        head=state.head,
        up_to_date=state.up_to_date,
    )


def upgraded(vault: Location, done: Upgraded, *, rekey_pending: bool) -> Document:
    """`db upgrade`: the revisions, and the backup taken first (None: nothing to upgrade)."""
    return _named(
        "safeguard.db.upgrade",
        vault=str(vault),
        upgraded=done.backup is not None,
        before=done.before,
        after=done.after,
        backup=None if done.backup is None else str(done.backup),
        rekey_pending=rekey_pending,
    )


# Backups ------------------------------------------------------------------------------------


def backup_created(created: Created) -> Document:
    """`backup create`: where the backup and its manifest are, and the manifest's keys."""
    from safeguarding.backup_files import manifest_path

    return _named(
        "safeguard.backup.create",
        backup=str(created.path),
        manifest=str(manifest_path(created.path)),
        **created.manifest.to_json(),
    )


def backup_verified(file: Path, verified: Verified) -> Document:
    return _named(
        "safeguard.backup.verify",
        ok=True,
        backup=str(file),
        full=verified.full,
        entries=verified.manifest.entries,
        checkpoint=str(verified.manifest.checkpoint),
    )


def backup_verify_failed(file: Path, problem: str) -> Document:
    """`backup verify` when the backup does not verify (exit 1)."""
    return _named("safeguard.backup.verify", ok=False, backup=str(file), problem=problem)


def backups(checks: Sequence[Check]) -> list[Document]:
    """`backup list`, newest first.  A backup's size is read from its file."""
    return [_backup(check) for check in checks]


def _backup(check: Check) -> Document:
    from safeguarding.backup_files import BackupFile

    found = BackupFile.from_path(check.path)
    return {
        "backup": check.path.name,
        "path": str(check.path),
        "taken_at": _utc(found.taken_at) if found else None,
        "size": None if check.missing else check.path.stat().st_size,
        "entries": check.manifest.entries if check.manifest else None,
        "checkpoint": str(check.manifest.checkpoint) if check.manifest else None,
        "verified": check.ok,
        "pending": check.pending,
        "dated_ahead": check.ahead,
        "problem": check.problem,
    }


def pruned(done: Pruned) -> Document:
    """`backup prune`: what each rule kept, and what was (or would be) removed."""
    return _named(
        "safeguard.backup.prune",
        dry_run=done.dry_run,
        kept=[{"backup": b.name, "reasons": why} for b, why in done.kept],
        removed=[b.name for b in done.removed],
        dated_ahead=[b.name for b, _ in done.ahead],
    )


def backup_status(limit: Duration, found: Status) -> Document:
    """`backup status` when a recent backup verifies."""
    return _named(
        "safeguard.backup.status",
        ok=True,
        max_age=str(limit),
        newest_verified=found.newest.name,
        taken_at=_utc(found.newest.taken_at),
        age_seconds=int(found.age.total_seconds()),
        newer_failing=[check.path.name for check in found.failing_newer],
    )


def backup_status_failed(limit: Duration, problem: str) -> Document:
    """`backup status` when it alerts (exit 1)."""
    return _named("safeguard.backup.status", ok=False, max_age=str(limit), problem=problem)


def restored(file: Path, done: Restored) -> Document:
    """`restore`: where the vault now is, what it came from, and what was moved aside."""
    manifest = done.verified.manifest
    return _named(
        "safeguard.restore",
        restored=str(done.path),
        **{"from": str(file)},
        full_check=done.verified.full,
        entries=manifest.entries,
        checkpoint=str(manifest.checkpoint),
        schema_revision=manifest.schema_revision,
        moved_aside=str(done.moved_aside) if done.moved_aside else None,
    )
