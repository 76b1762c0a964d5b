"""Erasing a case destroys every copy of its keys: its entries stay, signed and verifiable, but
nothing in the vault, its log or a later backup opens them again; a hold forbids it; an older
backup still holds the keys, and says so."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from safeguarding import backup, chronology, crypto, restore, storage
from safeguarding.crypto import KeyRing
from safeguarding.db import Case, Entry
from safeguarding.errors import NotAllowed
from safeguarding.server import Server
from safeguarding.vault import Role, Vault
from tests.conftest import FAST_KDF, VaultInfo, invoke, on_both_engines, stored_bytes
from tests.flowkit import Say, entry, entry_count, record
from tests.test_concerns import TESS, TESS_PASSPHRASE, report

CANARY = "CANARY-erase-5d1e"
DEPUTY, DEPUTY_PASSPHRASE = "Dee Deputy", "deputy passphrase 2026"


def closed_case(say: Say, category: str = "child-protection", concern: int | None = None) -> str:
    """A case recorded, decided and closed through the command line (the `concern` triaged
    into it first); its reference."""
    allegation = category in ("staff-misuse", "staff-pupil-contact")
    subject, role = ("Daniel Price", "staff") if allegation else ("Amy Pupil", "pupil")
    case = str(record(say, category=category, subject=subject, role=role)["case"])
    if concern is not None:
        added = invoke("triage", str(concern), "--case", case)
        assert added.exit_code == 0, added.stderr
    else:
        entry(say, "note", case, text=f"{CANARY} said more.")
    entry(say, "refer", case, "--to", "none", text="Dealt with in school.")
    outcome = "malicious" if allegation else "resolved"
    entry(say, "close", case, "--outcome", outcome, text="Finished.")
    return case


@dataclass
class Secrets:
    """Every stored copy of a case's keys (and of the concerns added to it), and the keys."""

    stored: list[bytes]
    ring: KeyRing


def secrets_of(info: VaultInfo, reference: str) -> Secrets:
    unlocked = Vault.open(info.path).unlock(info.user, info.passphrase)
    try:
        with storage.reading(unlocked.vault.connection) as db:
            case = db.first(Case, "year = 2026 AND number = ?", int(reference[-4:]))
            assert case is not None
            ring = unlocked.case_ring(db, case)
            stored = [bytes(case.case_key)] if case.case_key else []
            stored += [
                bytes(s)
                for s in db.values("SELECT sealed FROM case_access WHERE case_id = ?", case.id)
                if s
            ]
            stored += [
                bytes(s)
                for s in db.values("SELECT summary FROM case_summaries WHERE case_id = ?", case.id)
            ]
            stored += [
                bytes(s)
                for s in db.values(
                    "SELECT k.sealed FROM concern_keys k JOIN concerns c ON c.id = k.concern_id "
                    "JOIN entries e ON e.seq = c.triaged_seq WHERE e.case_id = ?",
                    case.id,
                )
            ]
            return Secrets(stored, ring)
    finally:
        unlocked.close()


def reason(say: Say, text: str = "Kept for its full retention period; reviewed.") -> list[str]:
    return ["--text-file", say(text)]


def no_copy_in(data: bytes, secrets: Secrets) -> None:
    for stored in secrets.stored:
        assert stored not in data
    for key in secrets.ring.keys:
        assert key not in data
    assert CANARY.encode() not in data


@on_both_engines
def test_an_erased_case_is_opened_by_nothing_and_still_verifies(
    vault: VaultInfo, say: Say, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    number = report(vault.path, TESS, TESS_PASSPHRASE, CANARY) if _staff(vault) else 0
    case = closed_case(say, concern=number)
    secrets = secrets_of(vault, case)
    assert len(secrets.stored) >= 3  # the case's key, its summary, the concern's keys
    # Before: the case's pages sit in the vault file and its log.
    for name in ("before", "after"):
        (tmp_path / name).mkdir(mode=0o700)
    before = invoke("backup", "create", str(tmp_path / "before"), "--json")
    assert before.exit_code == 0, before.stderr
    on_disk = stored_bytes(vault, request)
    older = Path(json.loads(before.stdout)["backup"]).read_bytes()
    assert all(stored in on_disk and stored in older for stored in secrets.stored)

    erased = invoke("erase", case, *reason(say))
    assert erased.exit_code == 0, erased.stderr
    assert "no longer be read by anyone" in erased.stderr
    assert "Backups taken before now still hold its keys" in erased.stderr
    assert "backup prune" in erased.stderr

    # No copy of the keys in the vault, its log, or a backup taken afterwards.
    after = invoke("backup", "create", str(tmp_path / "after"), "--json")
    assert after.exit_code == 0, after.stderr
    no_copy_in(stored_bytes(vault, request), secrets)
    no_copy_in(Path(json.loads(after.stdout)["backup"]).read_bytes(), secrets)

    # Neither a user nor the recovery key opens it; the entries are there, and the old key
    # (which nothing in the vault holds any more) still would.
    alice = Vault.open(vault.path).unlock(vault.user, vault.passphrase)
    rescue = Vault.open(vault.path).unlock_for_recovery(vault.recovery_key, vault.user)
    try:
        for who in (alice, rescue):
            with storage.reading(who.vault.connection) as db:
                row = db.first(Case, "number = ?", int(case[-4:]))
                assert row is not None and row.erased_seq is not None and row.case_key == b""
                with pytest.raises(NotAllowed, match="was erased"):
                    who.case_ring(db, row)
                entries = db.all(Entry, "case_id = ?", row.id)
                assert len(entries) == 4
                for stored in entries:
                    for key in who.keys.fields.keys:
                        with pytest.raises(crypto.DecryptionError):
                            chronology.open_payload(KeyRing((key,)), stored)
                    chronology.open_payload(secrets.ring, stored)  # the ciphertext is whole
    finally:
        alice.close()
        rescue.close()

    verified = invoke("verify")
    assert verified.exit_code == 0, verified.stderr
    assert "4 entries of erased cases, which no key opens" in verified.stdout
    assert json.loads(invoke("verify", "--json").stdout)["erased"] == 4
    assert invoke("verify", "--no-passphrase").exit_code == 0
    # The concern's author no longer reads it either: its key went with the case.
    mine = invoke(
        "--user", TESS, "concerns", "--json", env={"SAFEGUARD_PASSPHRASE": TESS_PASSPHRASE}
    )
    assert mine.exit_code == 0 and json.loads(mine.stdout)["concerns"] == []

    # An older backup restores, and says it holds erased data.
    old = Path(json.loads(before.stdout)["backup"])
    checked = invoke("backup", "verify", str(old))
    assert (
        checked.exit_code == 0 and "holds erased data" in checked.stderr and case in checked.stderr
    )
    assert json.loads(invoke("backup", "verify", str(old), "--json").stdout)["erased_since"] == [
        case
    ]
    if isinstance(vault.path, Server):  # restored only into an empty schema, or to a file
        elsewhere = tmp_path / "restored.db"
        restored = invoke("restore", str(old), "--to", str(elsewhere))
        assert restored.exit_code == 0, restored.stderr
        again = invoke("--vault", str(elsewhere), "timeline", case)
    else:
        # A copy restored somewhere new is compared with the school's vault, and says so.
        copy = invoke("restore", str(old), "--to", str(tmp_path / "copy.db"))
        assert copy.exit_code == 0, copy.stderr
        said = " ".join(copy.stderr.split())
        assert f"before {case} was erased in the vault at {vault.path}" in said, said
        listed = invoke("restore", str(old), "--to", str(tmp_path / "copy2.db"), "--json")
        assert json.loads(listed.stdout)["erased_since"] == [case]
        assert json.loads(listed.stdout)["compared_with"] == str(vault.path)
        # With no school vault to compare with, it says it could not, rather than "none".
        nowhere = {"SAFEGUARD_VAULT": str(tmp_path / "none.db")}
        blind = invoke("restore", str(old), "--to", str(tmp_path / "copy3.db"), env=nowhere)
        assert blind.exit_code == 0 and "Not compared with the school's vault" in blind.stderr
        unknown = invoke("backup", "verify", str(old), "--json", env=nowhere)
        assert json.loads(unknown.stdout)["compared_with"] is None
        restored = invoke("restore", str(old), "--to", str(vault.path), "--force")
        assert restored.exit_code == 0, restored.stderr
        assert "holds erased data" in restored.stderr and case in restored.stderr
        again = invoke("timeline", case)
    assert again.exit_code == 0  # readable again: erase it again
    assert "erased" not in again.stdout


def _staff(info: VaultInfo) -> bool:
    alice = Vault.open(info.path).unlock(info.user, info.passphrase)
    try:
        alice.add_user(TESS, Role.STAFF, TESS_PASSPHRASE, kdf=FAST_KDF)
    finally:
        alice.close()
    return True


def test_timelines_and_cases_show_the_erasure(any_vault: VaultInfo, say: Say) -> None:
    """On a vault file and on a server alike."""
    case = closed_case(say)
    assert invoke("timeline", case).exit_code == 0
    assert invoke("export", case, "--format", "txt", "--output", "-").exit_code == 0
    erased = invoke("erase", case, *reason(say, "The retention period ended."))
    assert erased.exit_code == 0, erased.stderr
    assert "VACUUM" not in erased.stderr  # the server's tables were rewritten, no copy left
    assert invoke("verify").exit_code == 0
    # Who read it, and who erased it, stay in the audit.
    for args in (("audit", "--json"), ("audit", "--case", case, "--json")):
        events = json.loads(invoke(*args).stdout)
        assert [(e["case"], e["action"], e.get("kind")) for e in events] == [
            (case, "viewed", None),
            (case, "recorded", "export"),  # its details gone with the keys
            (case, "recorded", "erased"),
        ]
    exported = invoke("export", case, "--format", "txt", "--output", "-")
    assert exported.exit_code == 3 and "was erased" in exported.stderr
    timeline = invoke("timeline", case)
    assert timeline.exit_code == 0
    assert f"{case} was erased on" in timeline.stdout and "by alice" in timeline.stdout
    assert "The retention period ended." in timeline.stdout
    document = json.loads(invoke("timeline", case, "--json").stdout)
    assert document["schema"] == "safeguard.erased" and document["by"] == "alice"
    listed = invoke("cases", "--status", "all")
    assert f"{case}: erased on" in listed.stdout
    [shown] = json.loads(invoke("cases", "--status", "all", "--json").stdout)
    assert shown["status"] == "erased" and shown["erasure"]["entries"] == 5  # with the export
    note = invoke("note", case, *reason(say, "more"))
    assert note.exit_code == 3 and "was erased" in note.stderr


@pytest.fixture
def two(vault: VaultInfo) -> Iterator[VaultInfo]:
    alice = Vault.open(vault.path).unlock(vault.user, vault.passphrase)
    alice.add_user(DEPUTY, Role.DEPUTY, DEPUTY_PASSPHRASE, kdf=FAST_KDF)
    alice.close()
    yield vault


def test_bad_input_gets_its_exit_code_and_writes_nothing(two: VaultInfo, say: Say) -> None:
    closed = closed_case(say)
    open_case = str(
        record(say, category="child-protection", subject="Bo Pupil", role="pupil")["case"]
    )
    count = entry_count(two.path)

    unknown = invoke("erase", "SG-2026-0099", *reason(say))
    assert unknown.exit_code == 4
    still_open = invoke("erase", open_case, *reason(say))
    assert (
        still_open.exit_code == 3
        and "is open" in still_open.stderr
        and "--force" in still_open.stderr
    )
    deputy = invoke(
        "--user",
        DEPUTY,
        "erase",
        closed,
        *reason(say),
        env={"SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE},
    )
    assert deputy.exit_code == 3 and "only a DSL or the headteacher" in deputy.stderr
    empty = invoke("erase", closed, "--text-file", say("  \n"))
    assert empty.exit_code == 2
    assert entry_count(two.path) == count

    held = invoke("hold", closed, *reason(say, "The inquiry asked for these records."))
    assert held.exit_code == 0, held.stderr
    count = entry_count(two.path)
    refused = invoke("erase", closed, *reason(say))
    assert refused.exit_code == 3 and "is held" in refused.stderr
    assert invoke("hold", closed, *reason(say)).exit_code == 3  # held already
    assert invoke("hold", "release", open_case).exit_code == 3  # not held
    assert invoke("hold", "SG-2026-0099", *reason(say)).exit_code == 4
    assert entry_count(two.path) == count

    assert invoke("hold", "release", closed).exit_code == 0
    assert invoke("erase", closed, *reason(say)).exit_code == 0
    count = entry_count(two.path)
    again = invoke("erase", closed, *reason(say))
    assert again.exit_code == 3 and "already erased" in again.stderr
    assert invoke("hold", closed, *reason(say)).exit_code == 3
    assert entry_count(two.path) == count

    forced = invoke("erase", open_case, "--force", *reason(say, "Recorded in error."))
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(invoke("timeline", open_case, "--json").stdout)["forced"] is True
    assert invoke("verify").exit_code == 0
    # A re-key gives every case a new key, but none to an erased one.
    assert invoke("user", "disable", DEPUTY).exit_code == 0
    assert invoke("verify").exit_code == 0
    with closing(sqlite3.connect(two.path)) as db:
        assert db.execute("SELECT COUNT(*) FROM cases WHERE case_key != x''").fetchone()[0] == 0


def test_a_restricted_case_is_erased_by_its_members_alone(two: VaultInfo, say: Say) -> None:
    case = closed_case(say, "staff-pupil-contact")
    secrets = secrets_of(two, case)
    deputy = invoke(
        "--user",
        DEPUTY,
        "erase",
        case,
        *reason(say),
        env={"SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE},
    )
    assert deputy.exit_code == 4  # not a member: the case is not there for them
    as_deputy = {"SAFEGUARD_USER": DEPUTY, "SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE}
    assert invoke("hold", case, *reason(say), env=as_deputy).exit_code == 4
    assert invoke("hold", case, *reason(say, "Kept for the LADO.")).exit_code == 0
    assert json.loads(invoke("hold", "list", "--json", env=as_deputy).stdout)["holds"] == []
    assert len(json.loads(invoke("hold", "list", "--json").stdout)["holds"]) == 1
    assert invoke("hold", "release", case, env=as_deputy).exit_code == 4
    assert invoke("hold", "release", case).exit_code == 0
    erased = invoke("erase", case, *reason(say, "A malicious allegation: removed."), "--json")
    assert erased.exit_code == 0, erased.stderr
    document = json.loads(erased.stdout)
    assert document["case"] == case and document["log_emptied"] is True
    with closing(sqlite3.connect(two.path)) as db:
        assert db.execute("SELECT COUNT(*) FROM case_access").fetchone()[0] == 0
    members = invoke("access", case)
    assert members.exit_code == 3 and "was erased" in members.stderr
    no_copy_in(two.path.read_bytes(), secrets)
    assert invoke("verify").exit_code == 0


def test_retention_lists_what_is_due_oldest_first_with_holds(vault: VaultInfo, say: Say) -> None:
    malicious = closed_case(say, "staff-misuse")
    child = closed_case(say)
    due = invoke("retention", "--json")
    assert due.exit_code == 0, due.stderr
    [found] = json.loads(due.stdout)["cases"]
    assert found["case"] == malicious and found["then"] == "erase"
    assert "until the case's closing, then erase" in found["rule"]
    everything = json.loads(invoke("retention", "--all", "--json").stdout)["cases"]
    assert [c["case"] for c in everything] == [malicious, child]
    assert "date of birth not recorded" in everything[1]["note"]
    assert invoke("hold", malicious, *reason(say, "The LADO asked us to keep it.")).exit_code == 0
    shown = invoke("retention", env={"COLUMNS": "200"})
    assert "held (entry" in shown.stdout and "The LADO asked us to keep it." in shown.stdout
    narrow = invoke("retention", env={"COLUMNS": "80"}).stdout
    assert malicious in narrow and "…" not in narrow  # the reference whole, at 80 columns
    overdue = invoke("cases", "--overdue", env={"COLUMNS": "200"})
    assert malicious in overdue.stdout and "retention: due for erase" in overdue.stdout
    assert child not in overdue.stdout
    listed = json.loads(invoke("hold", "list", "--json").stdout)["holds"]
    assert [h["case"] for h in listed] == [malicious]


def test_a_case_reaches_its_date_under_the_clock(vault: VaultInfo, say: Say, set_clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    case = closed_case(say)
    assert json.loads(invoke("retention", "--json").stdout)["cases"] == []
    set_clock(datetime(2052, 1, 5, 12, 0, tzinfo=UTC))
    [found] = json.loads(invoke("retention", "--json").stdout)["cases"]
    assert found["case"] == case and found["then"] == "review"
    assert case in invoke("cases", "--overdue", env={"COLUMNS": "200"}).stdout


def test_verify_names_an_erasure_faked_or_undone_by_hand(vault: VaultInfo, say: Say) -> None:
    kept, erased = closed_case(say), closed_case(say)
    assert invoke("erase", erased, *reason(say)).exit_code == 0
    with closing(sqlite3.connect(vault.path)) as db:
        db.execute("UPDATE cases SET erased_seq = 3 WHERE number = ?", (int(kept[-4:]),))
        db.commit()
    faked = invoke("verify")
    assert faked.exit_code == 1 and "marked erased or held" in faked.stderr
    with closing(sqlite3.connect(vault.path)) as db:
        db.execute("UPDATE cases SET erased_seq = NULL WHERE number = ?", (int(kept[-4:]),))
        db.execute("UPDATE cases SET held_seq = 1 WHERE number = ?", (int(kept[-4:]),))
        db.commit()
    assert invoke("verify").exit_code == 1


def test_backups_before_and_after_are_told_apart(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    case = closed_case(say)
    (tmp_path / "b").mkdir(mode=0o700)
    first = backup.create(vault.path, tmp_path / "b")
    assert invoke("erase", case, *reason(say)).exit_code == 0
    second = backup.create(vault.path, tmp_path / "b")
    from safeguarding import erasure

    assert erasure.kept_in(first.path, vault.path) == [case]
    assert erasure.kept_in(second.path, vault.path) == []
    into = restore.restore(first.path, tmp_path / "elsewhere.db")
    assert into.erased_since == ()  # nothing was replaced: nothing to compare with


def test_verify_names_an_entry_written_into_an_erased_case(vault: VaultInfo, say: Say) -> None:
    case = closed_case(say)
    assert invoke("erase", case, *reason(say)).exit_code == 0
    alice = Vault.open(vault.path).unlock(vault.user, vault.passphrase)
    try:
        with storage.writing(alice.vault.connection) as db:
            row = db.first(Case, "number = ?", int(case[-4:]))
            assert row is not None
            chronology.append(
                db,
                signer=alice.signer,
                payload_key=KeyRing((crypto.new_key(),)),
                kind="note",
                payload={"text": "written after the erasure"},
                case_id=row.id,
            )
    finally:
        alice.close()
    checked = invoke("verify", "--no-passphrase")
    assert checked.exit_code == 1 and "after its erasure" in checked.stderr


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguarding.cli import credentials

    monkeypatch.setattr(credentials, "is_interactive", lambda: True)


def test_at_a_terminal_the_reason_is_asked_then_whether_to_go_on(
    vault: VaultInfo, say: Say, terminal: None
) -> None:
    case = closed_case(say)
    count = entry_count(vault.path)
    declined = invoke("erase", case, input="Its retention period ended.\n.\nn\n")
    assert declined.exit_code != 0 and "No one will be able to read it again" in declined.stderr
    assert entry_count(vault.path) == count
    erased = invoke("erase", case, input="Its retention period ended.\n.\ny\n")
    assert erased.exit_code == 0, erased.stderr
    assert "Its retention period ended." in invoke("timeline", case).stdout


def test_the_write_ahead_log_is_emptied_while_another_process_holds_it_open(
    vault: VaultInfo, say: Say
) -> None:
    """Kept open by another connection, the log is not removed when `erase` closes the vault:
    the pages with the keys that it held before must be gone from it all the same."""
    wal = Path(f"{vault.path}-wal")
    with closing(sqlite3.connect(vault.path)) as other:
        other.execute("SELECT COUNT(*) FROM entries").fetchone()
        case = closed_case(say)
        secrets = secrets_of(vault, case)
        assert wal.exists() and any(s in wal.read_bytes() for s in secrets.stored)
        erased = invoke("erase", case, *reason(say), "--json")
        assert erased.exit_code == 0, erased.stderr
        assert json.loads(erased.stdout)["log_emptied"] is True
        assert wal.exists()  # still open elsewhere
        no_copy_in(wal.read_bytes() if wal.exists() else b"", secrets)
        no_copy_in(vault.path.read_bytes(), secrets)
        # The other connection still reads the vault as it now is.
        assert other.execute("SELECT erased_seq FROM cases").fetchone()[0] is not None


def test_a_reader_that_keeps_the_log_busy_is_said(vault: VaultInfo, say: Say) -> None:
    case = closed_case(say)
    with closing(sqlite3.connect(vault.path, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM entries").fetchone()  # a snapshot held open
        erased = invoke("erase", case, *reason(say), env={"SAFEGUARD_BUSY_TIMEOUT": "0.2"})
        reader.execute("COMMIT")
    assert erased.exit_code == 0, erased.stderr
    assert "write-ahead log still holds earlier pages" in erased.stderr
    assert invoke("verify").exit_code == 0


def test_the_governors_report_still_counts_an_erased_case(vault: VaultInfo, say: Say) -> None:
    case = closed_case(say)
    period = ("report", "--from", "2026-09-01", "--to", "2026-12-31", "--format", "json")
    before = json.loads(invoke(*period).stdout)
    assert invoke("erase", case, *reason(say)).exit_code == 0
    after = json.loads(invoke(*period).stdout)
    assert after["concerns"]["opened"] == before["concerns"]["opened"] != 0
    assert (before["not_broken_down"], after["not_broken_down"]) == (0, "fewer than 3")
    shown = invoke(*period[:-2], "--format", "text", env={"COLUMNS": "200"}).stdout
    assert "an erased case's by no one" in shown


def test_erasing_a_case_before_its_retention_date_is_warned_of(vault: VaultInfo, say: Say) -> None:
    """A child protection case is kept until the child is 25: erasing it sooner is said."""
    case = closed_case(say)
    erased = invoke("erase", case, *reason(say, "Asked to."))
    assert erased.exit_code == 0, erased.stderr
    warned = " ".join(erased.stderr.split())
    assert f"warning: {case}'s category keeps it until" in warned
    assert "before its retention date" in warned
    malicious = closed_case(say, "staff-misuse")  # erased once closed: its date has come
    assert "warning" not in invoke("erase", malicious, *reason(say, "Malicious.")).stderr
