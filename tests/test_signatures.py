"""Proof of authorship and of history: each attack an audit ran against the vault, as an insider
holding the vault key or as an outsider with the file, is named by `verify`."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from safeguarding import chronology, crypto, storage
from safeguarding.db import Entry, VaultMeta
from safeguarding.errors import CheckFailed, Damaged, NotAllowed
from safeguarding.vault import Role, Unlocked, Vault
from tests.conftest import DEPUTY_PASSPHRASE, PASSPHRASE, VaultInfo, invoke


def unlock(info: VaultInfo, name: str = "alice", passphrase: str = PASSPHRASE) -> Unlocked:
    return Vault.open(info.path).unlock(name, passphrase)


def note(unlocked: Unlocked, text: str) -> int:
    with storage.writing(unlocked.vault.connection) as db:
        entry = chronology.append(
            db,
            signer=unlocked.signer,
            payload_key=unlocked.keys.field_key,
            kind="note",
            payload={"text": text},
        )
        return entry.seq


def with_bob(info: VaultInfo, role: Role = Role.DEPUTY) -> tuple[Unlocked, Unlocked]:
    alice = unlock(info)
    alice.add_user("bob", role, DEPUTY_PASSPHRASE)
    return alice, unlock(info, "bob", DEPUTY_PASSPHRASE)


def drop_triggers(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER IF EXISTS entries_no_update")
        db.execute("DROP TRIGGER IF EXISTS entries_no_delete")


def put_back_triggers(path: Path) -> None:
    """What a careful insider does after editing: the triggers as the schema made them."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN SELECT "
            "RAISE(ABORT, 'the chronology is append-only: entries cannot be changed'); END"
        )
        db.execute(
            "CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries BEGIN SELECT "
            "RAISE(ABORT, 'the chronology is append-only: entries cannot be removed'); END"
        )


def rewrite(insider: Unlocked, first: int, change: Callable[[Entry], None]) -> None:
    """An insider's rewrite from entry `first` on: `change` edits it, then every entry that is
    theirs is signed again and every hash recomputed, as their keys allow.  Others' entries
    they cannot sign: those keep the signatures they had."""
    drop_triggers(insider.vault.path)
    with storage.writing(insider.vault.connection) as db:
        rows = db.all(Entry, order="seq")
        previous = next((r.mac for r in rows if r.seq == first - 1), crypto.GENESIS_MAC)
        for row in rows:
            if row.seq < first:
                continue
            if row.seq == first:
                change(row)
            body = chronology.signed_bytes(row, previous)
            if row.author_id == insider.user.id:
                row.signature = insider.signer.key.sign(body)
            row.mac = chronology.hash_of(body, row.signature or b"")
            db.update(row)
            previous = row.mac
        meta = db.get_one(VaultMeta, 1)
        meta.head_seq, meta.head_mac = rows[-1].seq, previous
        db.update(meta)
    put_back_triggers(insider.vault.path)


def reseal_text(insider: Unlocked, text: str) -> Callable[[Entry], None]:
    def change(row: Entry) -> None:
        row.payload = chronology.seal_payload(insider.keys.field_key, row.seq, {"text": text})

    return change


def test_an_insider_cannot_rewrite_what_precedes_another_user_s_entry(vault: VaultInfo) -> None:
    alice, bob = with_bob(vault)
    mine = note(alice, "What the child said.")
    theirs = note(bob, "I saw it too.")
    rewrite(alice, mine, reseal_text(alice, "Nothing was said."))
    with pytest.raises(CheckFailed, match=f"entry {theirs} .*signature does not hold"):
        alice.verify()
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1 and f"entry {theirs}" in result.stderr


def test_what_an_insider_alone_wrote_last_they_can_re_sign(vault: VaultInfo) -> None:
    """The limit, stated in the README: after the last entry of anyone else, a key holder can
    rewrite their own entries; only a checkpoint kept elsewhere shows it."""
    alice, bob = with_bob(vault)
    note(bob, "I saw it too.")
    checkpoint = alice.head()
    mine = note(alice, "What the child said.")
    before = alice.head()
    rewrite(alice, mine, reseal_text(alice, "Nothing was said."))
    assert alice.verify([checkpoint]).entries == mine
    with pytest.raises(CheckFailed, match=f"entry {mine} does not match checkpoint"):
        alice.verify([before])


def test_deleting_an_entry_and_renumbering_is_caught(vault: VaultInfo) -> None:
    alice, bob = with_bob(vault)
    gone = note(alice, "Inconvenient.")
    theirs = note(bob, "Later, by bob.")
    drop_triggers(vault.path)
    with sqlite3.connect(vault.path) as db:
        db.execute("DELETE FROM entries WHERE seq = ?", (gone,))
        db.execute("UPDATE entries SET seq = seq - 1 WHERE seq > ?", (gone,))
    rewrite(alice, gone, lambda row: None)
    with pytest.raises(CheckFailed, match=f"entry {theirs - 1} .*signature does not hold"):
        alice.verify()


def test_an_entry_in_another_user_s_name_is_caught(vault: VaultInfo) -> None:
    alice, bob = with_bob(vault)
    with storage.writing(alice.vault.connection) as db:
        forged = chronology.prepare(
            db,
            signer=chronology.Signer(bob.user.id, alice.signer.key, bob.signer.public),
            payload_key=alice.keys.field_key,
            kind="note",
            payload={"text": "bob says it never happened"},
        )
        chronology.insert(db, forged)
    with pytest.raises(CheckFailed, match=f"entry {forged.seq} .*signature does not hold"):
        alice.verify()


def test_a_deputy_who_reseals_their_role_is_caught(vault: VaultInfo) -> None:
    alice, bob = with_bob(vault)
    dsl = crypto.seal_text(bob.keys.field_key, "dsl", table="users", row=2, column="role")
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE users SET role = ? WHERE id = 2", (dsl,))
    with pytest.raises(CheckFailed, match="user 2's role was changed by hand"):
        alice.verify()
    promoted = unlock(vault, "bob", DEPUTY_PASSPHRASE)
    assert promoted.user.role is Role.DSL  # the cache believes it, the chronology does not:
    before = alice.head()
    for attempt in (
        lambda: promoted.add_user("backdoor", Role.DSL, "a backdoor passphrase"),
        lambda: promoted.disable_user("alice"),
        lambda: promoted.set_passphrase("alice", "a passphrase bob knows"),
    ):
        with pytest.raises(Damaged, match="role was changed by hand"):
            attempt()
    assert alice.head() == before
    # Written past the library, such an entry is still named by the role the chronology keeps.
    with storage.writing(bob.vault.connection) as db:
        chronology.append(
            db,
            signer=bob.signer,
            payload_key=bob.keys.field_key,
            kind="user_added",
            payload={"user": "backdoor", "role": "dsl"},
        )
    with sqlite3.connect(vault.path) as db:  # the role put back, to hide the promotion
        db.execute(
            "UPDATE users SET role = ? WHERE id = 2",
            (crypto.seal_text(bob.keys.field_key, "deputy", table="users", row=2, column="role"),),
        )
    with pytest.raises(CheckFailed, match=r"user added.* a deputy: only a DSL or the headteacher"):
        alice.verify()


def test_hiding_an_open_case_or_dropping_the_triggers_is_named_without_a_passphrase(
    vault: VaultInfo, tmp_path: Path
) -> None:
    from tests.flowkit import record, text_writer

    case = record(text_writer(tmp_path))["case"]
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE cases SET status = 'closed', closed_at = '2026-11-25T09:00:00.000000Z'")
    hidden = invoke("verify", "--no-passphrase")
    assert hidden.exit_code == 1
    assert f"case {case} is marked 'closed' but its chronology says 'open'" in hidden.stderr
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE cases SET status = 'open', closed_at = NULL")
        db.execute("UPDATE cases SET opened_at = '2026-01-01T00:00:00.000000Z'")
    assert "says it was opened at 2026-01-01" in invoke("verify", "--no-passphrase").stderr
    with sqlite3.connect(vault.path) as db:
        db.execute(
            "UPDATE cases SET opened_at = (SELECT recorded_at FROM entries WHERE case_id = 1)"
        )
    assert invoke("verify", "--no-passphrase").exit_code == 0
    drop_triggers(vault.path)
    dropped = invoke("verify", "--no-passphrase")
    assert dropped.exit_code == 1 and "append-only triggers were removed" in dropped.stderr


def test_renumbering_or_redating_cases_is_caught_without_a_passphrase(
    vault: VaultInfo, tmp_path: Path
) -> None:
    from tests.flowkit import record, text_writer

    say = text_writer(tmp_path)
    first, second = record(say)["case"], record(say)["case"]
    assert (first, second) == ("SG-2026-0001", "SG-2026-0002")
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE cases SET number = 3 WHERE id = 1")
        db.execute("UPDATE cases SET number = 1 WHERE id = 2")
        db.execute("UPDATE cases SET number = 2 WHERE id = 1")
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1
    assert "case row 1 is numbered 2026-0002 but its chronology says SG-2026-0001" in result.stderr
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE cases SET number = 2, year = 2025 WHERE id = 2")
        db.execute("UPDATE cases SET number = 1 WHERE id = 1")
    assert "renumbered by hand" in invoke("verify", "--no-passphrase").stderr


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE users SET disabled_at = '2026-11-24T09:00:00.000000Z' WHERE id = 2", "user 2"),
        ("UPDATE users SET created_at = '2020-01-01T00:00:00.000000Z' WHERE id = 2", "user 2"),
        ("UPDATE key_slots SET kdf_iterations = kdf_iterations + 1 WHERE id = 3", "key slot 3"),
        (
            "UPDATE key_slots SET wrapped_key = randomblob(61) WHERE purpose = 'recovery'",
            "recovery",
        ),
        ("UPDATE key_slots SET user_id = NULL WHERE user_id = 2", "key slot"),
    ],
)
def test_clear_columns_edited_by_hand_are_named_without_a_passphrase(
    vault: VaultInfo, statement: str, named: str
) -> None:
    with_bob(vault)
    with sqlite3.connect(vault.path) as db:
        db.execute(statement)
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1, result.stderr
    assert named in result.stderr


def test_swapping_two_users_slots_does_not_let_one_write_as_the_other(vault: VaultInfo) -> None:
    with_bob(vault)
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE key_slots SET user_id = 99 WHERE user_id = 1")
        db.execute("UPDATE key_slots SET user_id = 1 WHERE user_id = 2")
        db.execute("UPDATE key_slots SET user_id = 2 WHERE user_id = 99")
    # bob's passphrase, against the slot now filed under alice: it is bound to bob
    refused = invoke(
        "note",
        "SG-2026-0001",
        "--text-file",
        "-",
        input="x",
        env={"SAFEGUARD_USER": "alice", "SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE},
    )
    assert refused.exit_code == 3
    assert "key slot" in invoke("verify", "--no-passphrase").stderr


def test_a_user_disabled_while_their_command_waits_writes_nothing(vault: VaultInfo) -> None:
    alice, bob = with_bob(vault, Role.DSL)
    before = alice.head()
    alice.disable_user("bob")
    with pytest.raises(NotAllowed, match="disabled while this command waited"):
        note(bob, "written after being disabled")
    with pytest.raises(NotAllowed, match="disabled while this command waited"):
        bob.add_user("backdoor", Role.DSL, "a backdoor passphrase")
    assert alice.head().seq == before.seq + 1  # the disable, and nothing of bob's


def test_an_entry_signed_by_a_disabled_user_s_old_key_is_caught(vault: VaultInfo) -> None:
    alice, bob = with_bob(vault)
    alice.disable_user("bob")
    with storage.writing(alice.vault.connection) as db:  # skipping the library's own check
        forged = chronology.prepare(
            db,
            signer=alice.signer,
            payload_key=alice.keys.field_key,
            kind="note",
            payload={"text": "x"},
        )
        forged.author_id = bob.user.id
        body = chronology.signed_bytes(forged, db.get_one(VaultMeta, 1).head_mac)
        forged.signature = bob.signer.key.sign(body)
        forged.mac = chronology.hash_of(body, forged.signature)
        db.insert(forged)
        meta = db.get_one(VaultMeta, 1)
        meta.head_seq, meta.head_mac = forged.seq, forged.mac
        db.update(meta)
    with pytest.raises(CheckFailed, match=f"entry {forged.seq} was written by user 2 after"):
        alice.verify()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("kdf_lanes = 0", "impossible key derivation parameters"),
        ("kdf_memory_kib = 8, kdf_lanes = 1", "key derivation was lowered"),
    ],
)
def test_nonsense_or_lowered_kdf_parameters_are_refused(
    vault: VaultInfo, change: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(vault.path) as db:
        db.execute(f"UPDATE key_slots SET {change} WHERE user_id = 1")
    result = invoke("cases")
    assert result.exit_code == 5, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_name_unlocked_must_be_the_name_given(vault: VaultInfo) -> None:
    with_bob(vault)
    # Give alice's lookup tag to bob's row: "alice" now finds bob's row and bob's slot.
    with sqlite3.connect(vault.path) as db:
        tags = dict(db.execute("SELECT id, name_tag FROM users").fetchall())
        db.execute("UPDATE users SET name_tag = ? WHERE id = 1", (b"x" * 32,))
        db.execute("UPDATE users SET name_tag = ? WHERE id = 2", (tags[1],))
    with pytest.raises(Damaged, match="key slot was swapped"):
        Vault.open(vault.path).unlock("alice", DEPUTY_PASSPHRASE)


def test_a_new_vault_verifies_without_a_passphrase(vault: VaultInfo, tmp_path: Path) -> None:
    with_bob(vault)
    result = invoke("verify", "--no-passphrase", "--json", env={"SAFEGUARD_PASSPHRASE": ""})
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] and document["unchecked"] == 0 and document["before_signatures"] == 0


def test_a_checkpoint_on_paper_catches_what_the_vault_alone_cannot(vault: VaultInfo) -> None:
    alice, _ = with_bob(vault)
    mine = note(alice, "What the child said.")
    printed = invoke("checkpoint", env={"SAFEGUARD_PASSPHRASE": ""})
    assert printed.exit_code == 0, printed.stderr
    line = printed.stdout.strip()
    assert line.startswith(f"{mine}:") and f"Entry {mine}, signed by user 1" in printed.stderr
    rewrite(alice, mine, reseal_text(alice, "Nothing was said."))
    assert invoke("verify", "--no-passphrase").exit_code == 0  # her own, last: it holds...
    caught = invoke("verify", "--no-passphrase", "--checkpoint", line)
    assert caught.exit_code == 1  # ...but not against the line written down
    assert f"entry {mine} does not match checkpoint" in caught.stderr


def _modules(drawing: str) -> list[list[bool]]:
    """The dark modules of a QR code drawn with half blocks (dark: the terminal's background,
    a space), two rows a line, its quiet zone included."""
    halves = {
        " ": (True, True),
        "\u2580": (False, True),
        "\u2584": (True, False),
        "\u2588": (False, False),
    }
    rows: list[list[bool]] = []
    for line in drawing.splitlines():
        pairs = [halves[ch] for ch in line]
        rows += [[top for top, _ in pairs], [bottom for _, bottom in pairs]]
    return rows


def _printed_on_a_terminal(*args: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """A real `safeguard` with its stdout on a pseudo-terminal: what it drew there, and stderr."""
    import os
    import pty
    import subprocess

    from tests.conftest import safeguard_executable

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [safeguard_executable(), *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        env={
            **{k: v for k, v in os.environ.items() if k != "NO_COLOR"},
            "SAFEGUARD_PASSPHRASE": "",
            **(env or {}),
        },
    )
    os.close(follower)
    drawn = b""
    try:
        while chunk := os.read(leader, 4096):
            drawn += chunk
    except OSError:  # EIO: the process closed the terminal
        pass
    finally:
        os.close(leader)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return drawn.decode().replace("\r\n", "\n"), stderr.decode()


def test_a_checkpoint_on_a_terminal_comes_with_the_qr_code_of_its_line(vault: VaultInfo) -> None:
    import segno

    alice, _ = with_bob(vault)
    mine = note(alice, "What the child said.")
    drawn, stderr = _printed_on_a_terminal("checkpoint")
    line, _, drawing = drawn.partition("\n")
    assert drawing.startswith("\x1b[97;40m")  # light on dark, whatever the terminal's colours
    drawing = re.sub(r"\x1b\[[0-9;]*m", "", drawing)
    assert line == str(alice.head()) and line.startswith(f"{mine}:")
    expected = segno.make_qr(line, error="m")
    border = 4
    size = expected.symbol_size(border=border)[0]
    modules = _modules(drawing.rstrip("\n"))
    assert len(modules) == size + size % 2 and all(len(row) == size for row in modules)
    modules = modules[:size]  # an odd last row is drawn beside one of filler
    assert not any(any(row) for row in modules[:border] + modules[size - border :])
    inside = [row[border : size - border] for row in modules[border : size - border]]
    assert inside == [[bool(bit) for bit in row] for row in expected.matrix]
    assert "the QR code holds the same line" in stderr
    assert invoke("verify", "--no-passphrase", "--checkpoint", line).exit_code == 0
    plain, _ = _printed_on_a_terminal("checkpoint", "--no-qr")
    assert plain == line + "\n"
    uncoloured, _ = _printed_on_a_terminal("checkpoint", env={"NO_COLOR": "1"})
    assert uncoloured == f"{line}\n{drawing}" and "\x1b" not in uncoloured


def test_a_piped_checkpoint_is_the_line_alone_unless_asked(vault: VaultInfo) -> None:
    from tests.conftest import run

    with_bob(vault)
    piped = run("checkpoint", env={"SAFEGUARD_PASSPHRASE": ""})
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.count("\n") == 1 and "\u2588" not in piped.stdout
    line = piped.stdout.strip()
    asked = invoke("checkpoint", "--qr")  # for a printer: no colour codes
    assert asked.exit_code == 0 and asked.stdout.startswith(line + "\n")
    assert "\u2588" in asked.stdout and len(asked.stdout.splitlines()) > 20
    assert "\x1b" not in asked.stdout
    document = invoke("checkpoint", "--json")
    assert document.exit_code == 0 and json.loads(document.stdout)["checkpoint"] == line
    both = invoke("checkpoint", "--json", "--qr")
    assert both.exit_code == 2 and "leave it out with --json" in both.stderr and not both.stdout


def _reseal_manifest(backup_file: Path) -> None:
    """What someone who rewrote a backup would do next: make its manifest agree again."""
    import hashlib

    manifest_file = backup_file.with_suffix(".json")
    manifest = json.loads(manifest_file.read_text())
    manifest["sha256"] = hashlib.sha256(backup_file.read_bytes()).hexdigest()
    manifest["size"] = backup_file.stat().st_size
    manifest_file.write_text(json.dumps(manifest))


def test_a_backup_rewritten_with_its_hash_recomputed_fails_without_a_passphrase(
    vault: VaultInfo, tmp_path: Path
) -> None:
    alice, bob = with_bob(vault)
    mine = note(alice, "What the child said.")
    note(bob, "I saw it too.")
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    assert invoke("backup", "create", str(folder)).exit_code == 0
    [copy] = folder.glob("*.db")
    forged = crypto.seal(
        alice.keys.field_key, b'{"text":"Nothing."}', table="entries", row=mine, column="payload"
    )
    drop_triggers(copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE entries SET payload = ? WHERE seq = ?", (forged, mine))
    _reseal_manifest(copy)
    checked = invoke("backup", "verify", str(copy), env={"SAFEGUARD_PASSPHRASE": ""})
    assert checked.exit_code == 1
    assert f"entry {mine} has been altered" in checked.stderr
    restored = invoke("restore", str(copy), "--to", str(tmp_path / "restored.db"))
    assert restored.exit_code == 1 and not (tmp_path / "restored.db").exists()


def test_a_vault_rolled_back_behind_its_backups_is_refused_by_the_nightly_jobs(
    vault: VaultInfo, tmp_path: Path
) -> None:
    alice, bob = with_bob(vault)
    bob.close()
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    aside = tmp_path / "aside"
    aside.mkdir(mode=0o700)
    assert invoke("backup", "create", str(aside)).exit_code == 0  # kept to roll back to
    [yesterday] = aside.glob("*.db")
    note(alice, "Written after the copy.")
    alice.close()
    assert invoke("backup", "create", str(folder)).exit_code == 0
    shutil.copyfile(yesterday, vault.path)  # the whole file rolled back
    for suffix in ("-wal", "-shm"):
        Path(f"{vault.path}{suffix}").unlink(missing_ok=True)
    alone = invoke("verify", "--no-passphrase")
    assert alone.exit_code == 0, alone.stderr  # self-consistent...
    refused = invoke("backup", "create", str(folder))
    assert refused.exit_code == 1  # ...but not with the backup taken since
    assert "rolled back" in refused.stderr and "nothing was backed up" in refused.stderr
    assert len(list(folder.glob("*.db"))) == 1
    status = invoke("backup", "status", str(folder), "--max-age", "36h")
    assert status.exit_code == 1 and "rolled back" in status.stderr


def test_a_vault_replaced_or_gone_is_named_by_the_nightly_jobs(
    vault: VaultInfo, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    assert invoke("backup", "create", str(folder)).exit_code == 0
    other = tmp_path / "other.db"
    Vault.create(other, "mallory", "mallory's own passphrase")[0].close()
    env = {"SAFEGUARD_VAULT": str(other)}
    for command in (("backup", "create"), ("backup", "status")):
        refused = invoke(*command, str(folder), env=env)
        assert refused.exit_code == 1, refused.stderr
        assert "is of another vault" in refused.stderr
    assert len(list(folder.glob("*.db"))) == 1
    gone = invoke("backup", "status", str(folder), env={"SAFEGUARD_VAULT": str(tmp_path / "no")})
    assert gone.exit_code == 1 and "there is no vault at" in gone.stderr


def test_a_vault_rewritten_behind_its_backup_is_refused_by_backup_create(
    vault: VaultInfo, tmp_path: Path
) -> None:
    alice, _ = with_bob(vault)
    mine = note(alice, "What the child said.")
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    assert invoke("backup", "create", str(folder)).exit_code == 0
    rewrite(alice, mine, reseal_text(alice, "Nothing was said."))
    refused = invoke("backup", "create", str(folder))
    assert refused.exit_code == 1
    assert f"entry {mine} of the vault is not the one the backup" in refused.stderr


@pytest.mark.parametrize("ahead", [1, 4])
def test_signatures_checked_on_every_core_name_the_same_first_entry(
    vault: VaultInfo, monkeypatch: pytest.MonkeyPatch, ahead: int
) -> None:
    """A long chronology's signatures are checked by worker processes in batches; the entry
    named is still the first that fails, before any later problem, whether its batch is
    answered while the walk goes on (few batches ahead) or at its end."""
    from safeguarding import integrity

    monkeypatch.setattr(integrity, "PARALLEL_FROM", 1)
    monkeypatch.setattr(integrity, "_BATCH", 3)
    monkeypatch.setattr(integrity, "_AHEAD", ahead)
    alice, bob = with_bob(vault)
    first = note(alice, "one")
    for n in range(12):
        note(bob if n % 2 else alice, f"note {n}")
    assert alice.verify().entries == first + 12
    theirs = first + 2  # bob's first note, after alice's rewritten one
    rewrite(alice, first, reseal_text(alice, "rewritten"))
    drop_triggers(vault.path)
    with sqlite3.connect(vault.path) as db:  # and a later problem of another kind
        db.execute("UPDATE entries SET facts = 'not json' WHERE seq = ?", (first + 10,))
    with pytest.raises(CheckFailed, match=f"entry {theirs} .*signature does not hold"):
        alice.verify()
    with pytest.raises(CheckFailed, match=f"entry {theirs} .*signature does not hold"):
        alice.vault.verify_public()


def test_a_head_edited_by_hand_is_named_for_what_is_wrong(vault: VaultInfo) -> None:
    with sqlite3.connect(vault.path) as db:
        (seq,) = db.execute("SELECT head_seq FROM vault_meta").fetchone()
        db.execute("UPDATE vault_meta SET head_seq = head_seq - 1")
    lowered = invoke("verify", "--no-passphrase")
    assert lowered.exit_code == 1
    assert f"the vault's head names entry {seq - 1}, before its last entry ({seq})" in (
        lowered.stderr
    )
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE vault_meta SET head_seq = ?, head_mac = zeroblob(32)", (seq,))
    changed = invoke("verify", "--no-passphrase")
    assert changed.exit_code == 1
    assert f"the vault's head lacks the hash of its last entry ({seq})" in changed.stderr


@pytest.mark.parametrize("on_every_core", [False, True])
def test_a_payload_moved_or_a_hash_changed_is_named_before_what_it_breaks_later(
    vault: VaultInfo, monkeypatch: pytest.MonkeyPatch, on_every_core: bool
) -> None:
    """The stored hashes are checked aside in batches as the signatures are, while the walk
    opens payloads and goes on: the entry named is still the first that fails, before the next
    user's signature (and the head) that the change breaks."""
    from safeguarding import integrity

    if on_every_core:
        monkeypatch.setattr(integrity, "PARALLEL_FROM", 1)
        monkeypatch.setattr(integrity, "_BATCH", 3)
        monkeypatch.setattr(integrity, "_AHEAD", 1)
    alice, bob = with_bob(vault)
    first = note(alice, "one")
    for n in range(8):
        note(bob if n % 2 else alice, f"note {n}")
    with sqlite3.connect(vault.path) as db:
        (other,) = db.execute("SELECT payload FROM entries WHERE seq = ?", (first + 1,)).fetchone()

    def moved(row: Entry) -> None:  # a ciphertext of entry first + 1, re-signed as alice's
        row.payload = other

    rewrite(alice, first, moved)
    with pytest.raises(CheckFailed, match=f"entry {first} does not decrypt"):
        alice.verify()
    # Without a passphrase the payload cannot be opened: bob's next signature is what fails.
    with pytest.raises(CheckFailed, match=f"entry {first + 2} .*signature does not hold"):
        alice.vault.verify_public()

    drop_triggers(vault.path)
    with sqlite3.connect(vault.path) as db:  # and an earlier entry's stored hash, by hand
        db.execute("UPDATE entries SET mac = zeroblob(32) WHERE seq = ?", (first - 1,))
    for check in (alice.verify, alice.vault.verify_public):
        with pytest.raises(CheckFailed, match=f"entry {first - 1}'s stored hash has been altered"):
            check()


def test_a_payload_edited_into_text_is_named_not_a_crash(vault: VaultInfo) -> None:
    drop_triggers(vault.path)
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE entries SET payload = 'plain words' WHERE seq = 2")
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1, result.stderr
    assert "entry 2's payload, signature or hash is not bytes" in result.stderr
