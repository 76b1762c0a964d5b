"""Who may read: restricted allegation cases, and revocation that really revokes.

Below the CLI, the threats are people holding keys and the raw file: a deputy who is the subject
of an allegation, a disabled user with their slot from an old backup, a member after their
access was revoked.  Through the CLI, what a user sees: for a non-member a restricted case does
not exist, and every bad request changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest

from safeguarding import categories, config, crypto, membership, slots, storage
from safeguarding.cases import Casebook
from safeguarding.crypto import KeyRing
from safeguarding.entries import Disclosure, Note, Subject
from safeguarding.errors import Damaged, NotAllowed, NotFound
from safeguarding.server import Server
from safeguarding.vault import Role, Unlocked, Vault
from tests.conftest import DEPUTY_PASSPHRASE, PASSPHRASE, VaultInfo, invoke

HEAD_PASSPHRASE = "head teacher passphrase"
CHAIR_PASSPHRASE = "chair of governors phrase"
SAM, JO, KIM = "Sam Patel", "Jo Head", "Kim Lee"


def snapshot(path: Path, copy: Path) -> None:
    """The vault as a backup would hold it, its write-ahead log included, while its users'
    connections are still open."""
    with (
        contextlib.closing(sqlite3.connect(path)) as source,
        contextlib.closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)


def book(unlocked: Unlocked) -> Casebook:
    return Casebook(unlocked, categories.load(), config.load())


def allegation(subject: str = SAM, text: str = "He messaged a pupil at night.") -> Disclosure:
    return Disclosure(
        category="staff-pupil-contact",
        subjects=(Subject(subject, "staff"),),
        disclosed_by="A parent",
        relationship="parent",
        where="office",
        text=text,
    )


def concern(text: str = "Before.", subject: Subject | None = None) -> Disclosure:
    """A pupil concern: not an allegation, so not restricted unless its subject uses the vault."""
    return Disclosure(
        category="child-protection",
        subjects=(subject or Subject("Amy Price", "pupil"),),
        disclosed_by="Amy",
        relationship="pupil",
        where="classroom",
        text=text,
    )


@pytest.fixture
def school(vault: VaultInfo) -> VaultInfo:
    """alice (DSL), Jo Head (head), Sam Patel and Kim Lee (deputies)."""
    return _staffed(vault)


@pytest.fixture
def school_anywhere(any_vault: VaultInfo) -> VaultInfo:
    """The `school`, in a vault file and then in a schema on a PostgreSQL server."""
    return _staffed(any_vault)


def _staffed(vault: VaultInfo) -> VaultInfo:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user(JO, Role.HEAD, HEAD_PASSPHRASE)
    alice.add_user(SAM, Role.DEPUTY, DEPUTY_PASSPHRASE)
    alice.add_user(KIM, Role.DEPUTY, DEPUTY_PASSPHRASE)
    alice.close()
    return vault


def as_user(vault: VaultInfo, name: str, passphrase: str) -> Unlocked:
    return Vault.open(vault.path).unlock(name, passphrase)


def raw(path: Path | Server, sql: str, *args: object) -> list[tuple[object, ...]]:
    """What `sql` reads straight from the vault's tables (a file, or a schema on a server)."""
    if isinstance(path, Server):
        connection = storage.open_connection(path)
        try:
            return [tuple(row) for row in connection.execute(sql, args).fetchall()]
        finally:
            connection.close()
    with sqlite3.connect(path) as db:
        return list(db.execute(sql, args))


def case_payloads(path: Path, case_id: int = 1) -> list[tuple[int, bytes]]:
    return [
        (int(seq), bytes(payload))  # type: ignore[call-overload]
        for seq, payload in raw(
            path, "SELECT seq, payload FROM entries WHERE case_id = ? ORDER BY seq", case_id
        )
    ]


def opens(keys: list[bytes], seq: int, payload: bytes) -> bool:
    for key in keys:
        try:
            crypto.open_sealed(key, payload, table="entries", row=seq, column="payload")
        except crypto.DecryptionError:
            continue
        return True
    return False


def every_key_of(unlocked: Unlocked, path: Path) -> list[bytes]:
    """Every key an attacker holding `unlocked` could try: every epoch's field key, and the
    keys in every case-key column and sealed box they can open."""
    keys = list(unlocked.keys.fields.keys)
    for case_id, sealed in raw(path, "SELECT id, case_key FROM cases"):
        for field_key in unlocked.keys.fields.keys:
            try:
                packed = crypto.open_sealed(
                    field_key,
                    bytes(sealed),
                    table="cases",
                    row=case_id,
                    column="case_key",  # type: ignore[arg-type]
                )
            except crypto.DecryptionError:
                continue
            keys += KeyRing.of(packed).keys
    for case_id, holder, box in raw(path, "SELECT case_id, holder, sealed FROM case_access"):
        try:
            packed = crypto.open_from(
                unlocked.exchange,
                bytes(box),
                place=f"case={case_id};holder={holder}",  # type: ignore[arg-type]
            )
        except crypto.DecryptionError:
            continue
        keys += KeyRing.of(packed).keys
    return keys


def test_an_allegation_is_sealed_to_the_recorder_and_the_head_only(
    school_anywhere: VaultInfo,
) -> None:
    alice = as_user(school_anywhere, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    assert written.members == ("alice", JO)
    book(alice).add(written.reference, Note(text="Spoke to the LADO."))
    alice.close()

    # The subject, a deputy holding the vault key, reading the SQLite file directly.
    sam = as_user(school_anywhere, SAM, DEPUTY_PASSPHRASE)
    payloads = case_payloads(school_anywhere.path)
    assert payloads and not any(
        opens(every_key_of(sam, school_anywhere.path), s, p) for s, p in payloads
    )
    assert raw(school_anywhere.path, "SELECT case_key FROM cases") == [(b"",)]
    with pytest.raises(NotFound, match="there is no case SG-2026-0001"):
        book(sam).read(written.reference)
    assert book(sam).list("all") == []
    sam.close()

    # A member, and the recovery key, read every entry.
    jo = as_user(school_anywhere, JO, HEAD_PASSPHRASE)
    assert all(opens(every_key_of(jo, school_anywhere.path), s, p) for s, p in payloads)
    assert (
        book(jo).read(written.reference).disclosure.data["text"] == "He messaged a pupil at night."
    )
    jo.close()
    rescue = Vault.open(school_anywhere.path).unlock_for_recovery(school_anywhere.recovery_key, KIM)
    assert all(opens(every_key_of(rescue, school_anywhere.path), s, p) for s, p in payloads)
    rescue.close()


def test_a_subject_cannot_record_or_be_given_an_allegation_about_them(
    school_anywhere: VaultInfo,
) -> None:
    sam = as_user(school_anywhere, SAM, DEPUTY_PASSPHRASE)
    before = raw(school_anywhere.path, "SELECT head_seq FROM vault_meta")
    with pytest.raises(NotAllowed, match="named as a subject"):
        book(sam).open(allegation(SAM))
    assert raw(school_anywhere.path, "SELECT head_seq FROM vault_meta") == before
    sam.close()


def test_an_allegation_about_the_head_goes_to_the_chair(school_anywhere: VaultInfo) -> None:
    alice = as_user(school_anywhere, "alice", PASSPHRASE)
    unmanaged = book(alice).open(allegation(JO))  # no chair yet: the one to add is a chair
    assert (unmanaged.without_manager, unmanaged.manager) == (True, "chair")
    alice.add_user("Pat Chair", Role.CHAIR, CHAIR_PASSPHRASE)
    written = book(alice).open(allegation(JO))
    assert written.members == ("alice", "Pat Chair")
    alice.close()
    with pytest.raises(NotFound):
        book(as_user(school_anywhere, JO, HEAD_PASSPHRASE)).read(written.reference)
    chair = as_user(school_anywhere, "Pat Chair", CHAIR_PASSPHRASE)
    assert book(chair).read(written.reference).reference == written.reference
    chair.close()


def test_any_case_can_be_restricted_and_others_stay_open(school_anywhere: VaultInfo) -> None:
    alice = as_user(school_anywhere, "alice", PASSPHRASE)
    pupil = concern("Bruises.")
    open_case = book(alice).open(pupil)
    closed_case = book(alice).open(pupil, restricted=True)
    assert open_case.members is None and closed_case.members == ("alice", JO)
    alice.close()
    kim = as_user(school_anywhere, KIM, DEPUTY_PASSPHRASE)
    assert [s.reference for s in book(kim).list("all")] == [open_case.reference]
    kim.close()


def test_a_disabled_user_with_an_old_slot_reads_nothing_new(
    school: VaultInfo, tmp_path: Path
) -> None:
    alice = as_user(school, "alice", PASSPHRASE)
    pupil = concern()
    first = book(alice).open(pupil)
    copy = tmp_path / "backup.db"
    snapshot(school.path, copy)  # Sam's slot, as last night's backup holds it

    alice.disable_user(SAM)
    assert alice.keys.epoch == 1
    book(alice).add(first.reference, Note(text="After the disable."))
    second = book(alice).open(concern("A new case."))
    alice.close()

    # Sam opens the copy of his slot with his passphrase: the vault key of then.
    old = Vault.open(copy).unlock(SAM, DEPUTY_PASSPHRASE)
    keys = every_key_of(old, copy)
    old.close()
    before = {seq for seq, _ in case_payloads(copy)}
    for case_id in (1, 2):
        for seq, payload in case_payloads(school.path, case_id):
            assert opens(keys, seq, payload) == (seq in before), seq
    assert second.reference == "SG-2026-0002"
    with pytest.raises(NotAllowed, match="disabled"):
        as_user(school, SAM, DEPUTY_PASSPHRASE)
    assert Vault.open(school.path).unlock("alice", PASSPHRASE).verify().entries > 0


def test_an_old_passphrase_after_a_change_reads_nothing_new(
    school: VaultInfo, tmp_path: Path
) -> None:
    alice = as_user(school, "alice", PASSPHRASE)
    pupil = concern()
    first = book(alice).open(pupil)
    written = book(alice).open(allegation())
    alice.close()
    copy = tmp_path / "backup.db"
    snapshot(school.path, copy)

    jo = as_user(school, JO, HEAD_PASSPHRASE)
    jo.set_passphrase(None, "a new head passphrase")
    book(jo).add(first.reference, Note(text="After the change."))
    book(jo).add(written.reference, Note(text="Restricted, after the change."))
    assert (
        book(jo).read(written.reference).entries[-1].data["text"] == "Restricted, after the change."
    )
    jo.close()

    old = Vault.open(copy).unlock(JO, HEAD_PASSPHRASE)
    keys = every_key_of(old, copy)
    old.close()
    before = {seq for case_id in (1, 2) for seq, _ in case_payloads(copy, case_id)}
    for case_id in (1, 2):
        for seq, payload in case_payloads(school.path, case_id):
            assert opens(keys, seq, payload) == (seq in before), seq
    again = as_user(school, JO, "a new head passphrase")
    assert again.verify().entries > 0
    again.close()


def test_a_revoked_member_reads_up_to_the_revocation_and_nothing_after(
    school: VaultInfo, tmp_path: Path
) -> None:
    alice = as_user(school, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    membership.grant(alice, written.reference, KIM)
    kim = as_user(school, KIM, DEPUTY_PASSPHRASE)
    book(kim).add(written.reference, Note(text="Kim's note."))
    copy = tmp_path / "kim-kept.db"
    snapshot(school.path, copy)  # what Kim's sealed box was, before the revoke
    membership.revoke(alice, written.reference, KIM)
    book(alice).add(written.reference, Note(text="After Kim left."))
    alice.close()

    keys = every_key_of(kim, copy) + every_key_of(kim, school.path)
    kim.close()
    revoked_at = int(
        raw(school.path, "SELECT seq FROM entries WHERE kind = 'access_revoked'")[0][0]  # type: ignore[call-overload]
    )
    for seq, payload in case_payloads(school.path):
        assert opens(keys, seq, payload) == (seq < revoked_at), seq
    with pytest.raises(NotFound):
        book(as_user(school, KIM, DEPUTY_PASSPHRASE)).read(written.reference)


def test_a_case_with_no_member_left_is_opened_with_the_recovery_key(
    school_anywhere: VaultInfo,
) -> None:
    jo = as_user(school_anywhere, JO, HEAD_PASSPHRASE)
    written = book(jo).open(allegation())
    assert written.members == (JO,)
    jo.close()
    alice = as_user(school_anywhere, "alice", PASSPHRASE)
    alice.disable_user(JO)
    with pytest.raises(NotFound):
        book(alice).read(written.reference)
    alice.close()

    granted = invoke(
        "access", "grant", written.reference, "alice", "--recovery",
        env={"SAFEGUARD_RECOVERY_KEY": school_anywhere.recovery_key},
    )  # fmt: skip
    assert granted.exit_code == 0, granted.stderr
    assert "alice" in granted.stdout
    shown = invoke("timeline", written.reference, "--json")
    assert shown.exit_code == 0, shown.stderr
    audit = invoke("audit", "--json")
    assert any(a["action"] == "granted" and a.get("recovery") for a in json.loads(audit.stdout)), (
        audit.stdout
    )
    assert invoke("verify").exit_code == 0


def test_for_a_non_member_a_restricted_case_does_not_exist(school_anywhere: VaultInfo) -> None:
    alice = as_user(school_anywhere, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    alice.close()
    kim = {"SAFEGUARD_USER": KIM, "SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE}
    assert json.loads(invoke("cases", "--status", "all", "--json", env=kim).stdout) == []
    for args in (
        ("timeline", written.reference),
        ("export", written.reference, "--format", "json", "--output", "-"),
        ("access", written.reference),
        ("note", written.reference, "--text-file", "-"),
        ("audit", "--case", written.reference),
    ):
        result = invoke(*args, input="x", env=kim)
        assert result.exit_code == 4, (args, result.stderr)
        unknown = invoke(*(a.replace("0001", "0099") for a in args), input="x", env=kim)
        assert result.stderr == unknown.stderr.replace("0099", "0001"), args
    report = json.loads(invoke("verify", "--json", env=kim).stdout)
    assert report["ok"] and report["unreadable"] == 1
    assert json.loads(invoke("verify", "--json").stdout)["unreadable"] == 0


def test_bad_access_requests_change_nothing(school_anywhere: VaultInfo) -> None:
    alice = as_user(school_anywhere, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    alice.disable_user(KIM)
    alice.close()
    ref = written.reference
    before = raw(school_anywhere.path, "SELECT head_seq, head_mac FROM vault_meta")
    access = raw(school_anywhere.path, "SELECT * FROM case_access")
    sam = {"SAFEGUARD_USER": SAM, "SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE}
    jo = {"SAFEGUARD_USER": JO, "SAFEGUARD_PASSPHRASE": HEAD_PASSPHRASE}
    for args, env, code, says in (
        (("access", "grant", ref, KIM), None, 4, "disabled"),
        (("access", "grant", ref, "Nobody Here"), None, 4, "no user"),
        (("access", "grant", ref, SAM), None, 3, "subject of this allegation"),
        (("access", "revoke", ref, JO), jo, 0, ""),  # the head steps aside
        (("access", "revoke", ref, "alice"), None, 3, "last member"),
        (("access", ref), sam, 4, "there is no case"),
        (("access", "grant", ref, SAM), sam, 4, "there is no case"),
    ):
        result = invoke(*args, env=env)
        assert result.exit_code == code, (args, result.stderr)
        assert says in result.stderr, (args, result.stderr)
        if code == 0:  # the one good request, to get to a last member
            before = raw(school_anywhere.path, "SELECT head_seq, head_mac FROM vault_meta")
            access = raw(school_anywhere.path, "SELECT * FROM case_access")
        else:
            assert raw(school_anywhere.path, "SELECT head_seq, head_mac FROM vault_meta") == before
            assert raw(school_anywhere.path, "SELECT * FROM case_access") == access
    added = invoke("user", "add", "New Person", "--role", "deputy", env=sam)
    assert added.exit_code == 3 and "only a DSL or the headteacher" in added.stderr


def test_access_lists_the_members(school_anywhere: VaultInfo) -> None:
    alice = as_user(school_anywhere, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    alice.close()
    listed = invoke("access", written.reference, "--json")
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.stdout) == {
        "schema": "safeguard.members",
        "schema_version": 1,
        "case": written.reference,
        "members": [
            {"user": "alice", "role": "dsl", "waiting_for_keys": False},
            {"user": JO, "role": "head", "waiting_for_keys": False},
        ],
        "recovery_key": True,
    }
    shown = invoke("access", written.reference)
    assert "Jo Head" in shown.stdout and "the recovery key" in shown.stdout
    assert invoke("user", "list", "--json").exit_code == 0


def test_verify_names_members_or_restriction_changed_by_hand(school: VaultInfo) -> None:
    alice = as_user(school, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    alice.close()
    with sqlite3.connect(school.path) as db:
        db.execute("INSERT INTO case_access (case_id, holder, sealed) VALUES (1, 3, NULL)")
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1 and "access was changed by hand" in result.stderr
    with sqlite3.connect(school.path) as db:
        db.execute("DELETE FROM case_access WHERE holder = 3")
        db.execute("UPDATE cases SET restricted = 0")
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1 and f"case {written.reference} is marked" in result.stderr


def test_a_passphrase_slot_holds_the_vault_key_sealed_to_its_exchange_key(vault: VaultInfo) -> None:
    slot_rows = raw(vault.path, "SELECT exchange_public, exchange_key FROM key_slots")
    assert all(public is not None and len(public) == 32 and sealed for public, sealed in slot_rows)  # type: ignore[arg-type]
    assert slots.previous_place(3) == "1;epoch=3"


def test_verify_names_an_entry_sealed_with_a_key_a_departed_member_holds(
    school: VaultInfo,
) -> None:
    from safeguarding import chronology, storage
    from safeguarding.casefile import find_case

    alice = as_user(school, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    membership.grant(alice, written.reference, KIM)
    with storage.reading(alice.vault.connection) as db:
        kept = alice.case_ring(db, find_case(db, written.reference))
    membership.revoke(alice, written.reference, KIM)
    assert alice.verify().entries > 0
    # An insider writes the next entry with the ring Kim still holds, around the re-key.
    with storage.writing(alice.vault.connection) as db:
        case = find_case(db, written.reference)
        chronology.append(
            db,
            signer=alice.signer,
            payload_key=kept,
            kind="note",
            payload={"text": "Kim can read this."},
            case_id=case.id,
        )
    alice.close()
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1
    assert "a member who has left may still hold" in result.stderr


def test_entries_after_a_disable_are_sealed_in_a_new_epoch_or_named(school: VaultInfo) -> None:
    from safeguarding import chronology, storage
    from safeguarding.casefile import find_case

    alice = as_user(school, "alice", PASSPHRASE)
    pupil = concern()
    written = book(alice).open(pupil)
    with storage.reading(alice.vault.connection) as db:
        kept = alice.case_ring(db, find_case(db, written.reference))
    alice.disable_user(SAM)
    book(alice).add(written.reference, Note(text="Sealed in the new epoch."))
    assert invoke("verify", "--no-passphrase").exit_code == 0
    with storage.writing(alice.vault.connection) as db:
        chronology.append(
            db,
            signer=alice.signer,
            payload_key=kept.keys[0],  # the key Sam's old slot opens
            kind="note",
            payload={"text": "Sam can read this."},
            case_id=find_case(db, written.reference).id,
        )
    alice.close()
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1 and "a member who has left may still hold" in result.stderr


def test_only_a_member_or_the_recovery_key_may_reset_a_members_passphrase(
    school: VaultInfo,
) -> None:
    """The head, the subject of an allegation, cannot take the chair out of the case about her
    by resetting the chair's passphrase (and so learn it): refused, nothing changed.  The
    recovery key can, and the chair stays a member; so can the chair herself."""
    alice = as_user(school, "alice", PASSPHRASE)
    alice.add_user("Cal Chair", Role.CHAIR, CHAIR_PASSPHRASE)
    written = book(alice).open(allegation(JO))  # about the head: alice and the chair
    alice.close()
    before = raw(school.path, "SELECT head_seq, head_mac FROM vault_meta")
    slots_before = raw(school.path, "SELECT * FROM key_slots ORDER BY id")
    result = invoke(
        "user",
        "passwd",
        "Cal Chair",
        env={
            "SAFEGUARD_USER": JO,
            "SAFEGUARD_PASSPHRASE": HEAD_PASSPHRASE,
            "SAFEGUARD_NEW_PASSPHRASE": "the head knows this one",
        },
    )
    assert result.exit_code == 3, result.stderr
    assert "a member of a restricted case you are not a member of" in result.stderr
    assert "--recovery" in result.stderr
    assert raw(school.path, "SELECT head_seq, head_mac FROM vault_meta") == before
    assert raw(school.path, "SELECT * FROM key_slots ORDER BY id") == slots_before

    rescue = Vault.open(school.path).unlock_for_recovery(school.recovery_key, "Cal Chair")
    rescue.set_passphrase(None, "a phrase from the safe", via="recovery key")
    rescue.close()
    chair = as_user(school, "Cal Chair", "a phrase from the safe")
    assert book(chair).read(written.reference).disclosure.data["text"]
    chair.set_passphrase(None, "the chair's own phrase now")
    chair.close()
    chair = as_user(school, "Cal Chair", "the chair's own phrase now")
    assert [m.name for m in membership.members(chair, written.reference).members] == [
        "alice",
        "Cal Chair",
    ]
    book(chair).add(written.reference, Note(text="Spoke to the LADO."))
    chair.close()
    assert invoke("verify", "--no-passphrase").exit_code == 0


def test_a_case_manager_is_revoked_only_by_themselves_or_the_recovery_key(
    school: VaultInfo,
) -> None:
    alice = as_user(school, "alice", PASSPHRASE)
    written = book(alice).open(allegation())  # about Sam: alice and the head
    membership.grant(alice, written.reference, KIM)
    alice.close()
    ref = written.reference
    before = raw(school.path, "SELECT * FROM case_access ORDER BY holder")
    kim = {"SAFEGUARD_USER": KIM, "SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE}
    for env in (kim, None):
        result = invoke("access", "revoke", ref, JO, env=env)
        assert result.exit_code == 3, result.stderr
        assert f"{JO} is this case's manager (head)" in result.stderr
        assert raw(school.path, "SELECT * FROM case_access ORDER BY holder") == before
    stepped = invoke(
        "access",
        "revoke",
        ref,
        JO,
        env={"SAFEGUARD_USER": JO, "SAFEGUARD_PASSPHRASE": HEAD_PASSPHRASE},
    )
    assert stepped.exit_code == 0, stepped.stderr
    assert JO not in [
        m["user"] for m in json.loads(invoke("access", ref, "--json").stdout)["members"]
    ]
    assert invoke("access", "revoke", ref, KIM, env=kim).exit_code == 0  # anyone else: any member


def test_a_name_that_differs_only_in_spacing_or_case_is_refused(school: VaultInfo) -> None:
    before = raw(school.path, "SELECT COUNT(*) FROM users")
    for name in ("Kim  Lee", "KIM LEE"):
        result = invoke(
            "user",
            "add",
            name,
            "--role",
            "deputy",
            env={"SAFEGUARD_NEW_PASSPHRASE": "another deputy phrase"},
        )
        assert result.exit_code == 2, result.stderr
        assert "only in spacing or letter case" in result.stderr or "already a user" in (
            result.stderr
        )
    assert raw(school.path, "SELECT COUNT(*) FROM users") == before


def test_a_misspelt_access_command_is_named(school: VaultInfo) -> None:
    result = invoke("access", "revok", "SG-2026-0001", KIM)
    assert result.exit_code == 2
    assert "no such command 'revok'" in result.stderr


def test_a_subject_who_uses_the_vault_is_caught_however_spaced_and_restricts_any_case(
    school: VaultInfo,
) -> None:
    alice = as_user(school, "alice", PASSPHRASE)
    written = book(alice).open(concern("Kim shouted at a child.", Subject("kim  LEE", "staff")))
    assert written.members == ("alice", JO)
    with pytest.raises(NotAllowed, match="subject"):
        membership.grant(alice, written.reference, KIM)
    alice.close()


def test_an_allegation_with_no_case_manager_says_so(vault: VaultInfo, say: object) -> None:
    from tests.flowkit import record_args, text_writer

    args = record_args(text_writer(vault.path.parent)("He messaged a pupil."))
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert "No case manager is among them: the vault has no headteacher" in said
    assert "--role head'" in said  # a governor is the case manager only about a headteacher


def test_own_entries_stay_in_audit_mine_after_leaving_a_case(school: VaultInfo) -> None:
    alice = as_user(school, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    membership.grant(alice, written.reference, KIM)
    kim = as_user(school, KIM, DEPUTY_PASSPHRASE)
    noted = book(kim).add(written.reference, Note(text="Kim's note."))
    kim.close()
    membership.revoke(alice, written.reference, KIM)
    alice.close()
    kim_env = {"SAFEGUARD_USER": KIM, "SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE}
    mine = json.loads(invoke("audit", "--mine", "--json", env=kim_env).stdout)
    assert [(e["entry"], e["case"]) for e in mine] == [(noted.entry, written.reference)]


def test_verify_with_the_recovery_key_is_a_check_of_the_key(vault: VaultInfo) -> None:
    env = {"SAFEGUARD_RECOVERY_KEY": vault.recovery_key}
    checked = invoke("verify", "--recovery", env=env)
    assert checked.exit_code == 0 and "the recovery key opens this vault" in checked.stdout
    both = invoke("verify", "--recovery", "--no-passphrase", env=env)
    assert both.exit_code == 2
    stranger = invoke("--user", "Nobody", "verify", "--recovery", env=env)
    assert stranger.exit_code == 3 and "no user 'Nobody'" in stranger.stderr


def test_a_disable_that_leaves_a_case_with_no_member_says_so(school: VaultInfo) -> None:
    jo = {"SAFEGUARD_USER": JO, "SAFEGUARD_PASSPHRASE": HEAD_PASSPHRASE}
    alice = as_user(school, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    alice.close()
    head = as_user(school, JO, HEAD_PASSPHRASE)
    membership.revoke(head, written.reference, JO)  # the head steps aside
    head.close()
    invoke("user", "add", "Dana Cole", "--role", "dsl", env={
        **jo, "SAFEGUARD_NEW_PASSPHRASE": "dana cole passphrase"})  # fmt: skip
    disabled = invoke("user", "disable", "alice", "--json", env=jo)
    assert disabled.exit_code == 0, disabled.stderr
    document = json.loads(disabled.stdout)
    assert (document["left_restricted_cases"], document["cases_with_no_member"]) == (1, 1)
    checked = invoke(
        "--user", JO, "verify", "--recovery", "--json",
        env={"SAFEGUARD_RECOVERY_KEY": school.recovery_key},
    )  # fmt: skip
    assert json.loads(checked.stdout)["cases_with_no_member"] == [written.reference]


def test_a_key_entry_deleted_by_hand_stops_every_sealing(school: VaultInfo) -> None:
    """The key slots are checked against the entries about keys alone: an entry deleted from
    the middle of the chronology (a passphrase change, its old slot put back) is found before
    anything is sealed (exit 5), and nothing changes."""
    alice = as_user(school, "alice", PASSPHRASE)
    ref = book(alice).open(allegation()).reference
    book(alice).add(ref, Note(text="Spoke to the LADO."))
    alice.close()
    with sqlite3.connect(school.path) as db:
        db.execute("DROP TRIGGER entries_no_delete")
        db.execute("DELETE FROM entries WHERE seq = 2")  # a user added, a slot with it
    before = school.path.read_bytes()
    result = invoke("access", "grant", ref, KIM)
    assert result.exit_code == 5, result.stderr
    assert "entries are missing from its chronology; no key was sealed" in result.stderr
    assert school.path.read_bytes() == before


def test_a_key_planted_in_a_slot_by_hand_is_never_sealed_to(school: VaultInfo) -> None:
    """An outsider who can write to the file puts their own public key in Kim's slot (and then
    in the recovery slot) and waits for the next re-key or grant: nothing is sealed to it, the
    vault is named damaged (exit 5), and nothing changes."""
    alice = as_user(school, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    alice.close()
    ref = written.reference
    planted = crypto.new_exchange_key()
    kim_slot = raw(
        school.path,
        "SELECT s.id FROM key_slots s JOIN users u ON u.id = s.user_id WHERE s.purpose = "
        "'passphrase' AND u.id = (SELECT MAX(id) FROM users)",
    )[0][0]
    theirs = planted.public_key().public_bytes_raw()

    def state() -> list[object]:
        return [
            raw(school.path, "SELECT head_seq, head_mac, key_epoch FROM vault_meta"),
            raw(school.path, "SELECT * FROM key_slots ORDER BY id"),
            raw(school.path, "SELECT * FROM case_access ORDER BY case_id, holder"),
            raw(school.path, "SELECT id, case_key, rekey_due FROM cases ORDER BY id"),
        ]

    genuine = raw(school.path, "SELECT id, exchange_public FROM key_slots")
    for where in (f"id = {kim_slot}", "purpose = 'recovery'"):
        with sqlite3.connect(school.path) as db:
            db.executemany(
                "UPDATE key_slots SET exchange_public = ? WHERE id = ?",
                [(public, slot) for slot, public in genuine],
            )
            db.execute(f"UPDATE key_slots SET exchange_public = ? WHERE {where}", (theirs,))
        before = state()
        for args in (("user", "disable", SAM), ("access", "grant", ref, KIM)):
            result = invoke(*args)
            assert result.exit_code == 5, (args, result.stderr)
            assert "the vault is damaged" in result.stderr
            assert "outside the chronology; nothing was sealed to it" in result.stderr
            assert state() == before
        alice = as_user(school, "alice", PASSPHRASE)
        refused = "outside the chronology; nothing was sealed to it"
        with pytest.raises(Damaged, match=refused):
            alice.set_passphrase(None, "a brand new passphrase for alice")
        assert state() == before
        # A note seals nothing (the case's keys are where they were), so it is written.
        book(alice).add(ref, Note(text="Spoke to the LADO."))
        assert state()[1:] == before[1:]
        alice.close()
        for _, holder, box in raw(school.path, "SELECT * FROM case_access"):
            with pytest.raises(crypto.DecryptionError):
                crypto.open_from(planted, bytes(box), place=f"case=1;holder={holder}")  # type: ignore[arg-type]
        assert invoke("verify", "--no-passphrase").exit_code == 1


def test_members_see_a_restricted_case_marked_as_such(school: VaultInfo) -> None:
    alice = as_user(school, "alice", PASSPHRASE)
    written = book(alice).open(allegation())
    book(alice).open(concern())
    alice.close()
    listed = json.loads(invoke("cases", "--json").stdout)
    assert [(c["case"], c["restricted"]) for c in listed] == [
        (written.reference, True),
        ("SG-2026-0002", False),
    ]
    table = invoke("cases").stdout
    assert "restricted" in table.split("SG-2026-0002")[0]
    assert "restricted" not in table.split("SG-2026-0002")[1]
    shown = invoke("timeline", written.reference).stdout
    assert "Access" in shown and "its members and the recovery key only" in shown
    assert "Access" not in invoke("timeline", "SG-2026-0002").stdout
