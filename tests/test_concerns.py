"""Concerns reported by staff: sealed to the safeguarding team, their author and the recovery
key alone; read back by their author; triaged once, with their author's signature checked at
triage and again by `verify`."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeguarding import clock, concerns, crypto
from safeguarding.concerns import About, Content
from safeguarding.errors import CheckFailed, NotFound
from safeguarding.vault import Role, Vault
from tests.conftest import (
    PASSPHRASE,
    SetClock,
    VaultInfo,
    invoke,
    on_both_engines,
    run,
    safeguard_executable,
    write_secret,
)
from tests.flowkit import sql_value
from tests.test_release_fixtures import old  # noqa: F401 (the fixture)

TESS, TESS_PASSPHRASE = "Tess Teacher", "tess passphrase 2026"
TOM, TOM_PASSPHRASE = "Tom Assistant", "tom passphrase 2026"
CHAIR, CHAIR_PASSPHRASE = "Cath Chair", "chair passphrase 2026"
CANARY = "CANARY-concern-7f3a"


@pytest.fixture
def school(vault: VaultInfo) -> VaultInfo:
    """alice (DSL), two members of staff and the chair of governors."""
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user(TESS, Role.STAFF, TESS_PASSPHRASE)
    alice.add_user(TOM, Role.STAFF, TOM_PASSPHRASE)
    alice.add_user(CHAIR, Role.CHAIR, CHAIR_PASSPHRASE)
    alice.close()
    return vault


def content(text: str = f"Amy said: {CANARY} hits me.") -> Content:
    return Content.checked(
        [About("Amy Price", "pupil")], clock.now(), "classroom", text, "She was upset."
    )


def report(path: Path, name: str, passphrase: str, text: str | None = None) -> int:
    who = concerns.reporter(Vault.open(path), name, passphrase)
    try:
        return concerns.report(who, content(text) if text else content()).number
    finally:
        who.close()


def test_staff_keys_open_no_case_and_no_other_staff_concern(school: VaultInfo) -> None:
    alice = Vault.open(school.path).unlock("alice", PASSPHRASE)
    from safeguarding.cases import Casebook
    from tests.test_restricted import book
    from tests.test_restricted import concern as pupil_case

    Casebook.open(book(alice), pupil_case(CANARY), None)
    alice.close()
    tess_concern = report(school.path, TESS, TESS_PASSPHRASE)
    tom_concern = report(school.path, TOM, TOM_PASSPHRASE, "Tom's own words.")
    tom = concerns.reporter(Vault.open(school.path), TOM, TOM_PASSPHRASE)
    mine = concerns.mine(tom)
    assert [item.number for item in mine] == [tom_concern]
    with sqlite3.connect(school.path) as db:
        boxes = db.execute("SELECT concern_id, holder, sealed FROM concern_keys").fetchall()
        payloads = db.execute("SELECT seq, payload FROM entries").fetchall()
        slot = db.execute("SELECT wrapped_key FROM key_slots WHERE user_id = 3").fetchone()
    assert slot == (None,)  # no vault key to try
    keys = [
        key
        for concern, holder, box in boxes
        if (key := concerns.open_key(bytes(box), concern, holder, tom.exchange)) is not None
    ]
    assert len(keys) == 1  # his own concern's key, and no other
    opened = []
    for seq, payload in payloads:
        for key in keys:
            with contextlib.suppress(crypto.DecryptionError):
                opened.append(
                    crypto.open_sealed(key, payload, table="entries", row=seq, column="payload")
                )
    assert all(CANARY.encode() not in text for text in opened)
    assert tess_concern != tom_concern
    tom.close()


def test_a_concerns_bytes_in_the_file_hold_no_canary(school: VaultInfo) -> None:
    report(school.path, TESS, TESS_PASSPHRASE)
    for path in school.path.parent.glob("vault.db*"):
        assert CANARY.encode() not in path.read_bytes()
        assert CANARY.encode("utf-16-le") not in path.read_bytes()


def test_the_chair_reads_no_concern_that_is_not_about_a_headteacher(school: VaultInfo) -> None:
    number = report(school.path, TESS, TESS_PASSPHRASE)
    chair = Vault.open(school.path).unlock(CHAIR, CHAIR_PASSPHRASE)
    assert concerns.inbox(chair) == []
    with pytest.raises(NotFound):
        concerns.read(chair, number)
    chair.close()
    env = {"SAFEGUARD_USER": CHAIR, "SAFEGUARD_PASSPHRASE": CHAIR_PASSPHRASE}
    listed = invoke("inbox", env=env)
    assert listed.exit_code == 0, listed.stderr
    assert "No concern is waiting." in listed.stderr and "waiting, the oldest" not in listed.stderr
    staff = {"SAFEGUARD_USER": TESS, "SAFEGUARD_PASSPHRASE": TESS_PASSPHRASE}
    assert invoke("inbox", env=staff).exit_code == 3  # staff read no one's concerns


@on_both_engines
def test_triage_adds_the_concern_to_a_case_once(school: VaultInfo, say) -> None:  # type: ignore[no-untyped-def]
    number = report(school.path, TESS, TESS_PASSPHRASE)
    recorded = invoke(
        "record",
        "--category",
        "child-protection",
        "--subject",
        "Amy Price",
        "--subject-role",
        "pupil",
        "--disclosed-by",
        "Amy",
        "--relationship",
        "pupil",
        "--where",
        "class",
        "--text-file",
        say("Amy told me."),
    )
    assert recorded.exit_code == 0, recorded.stderr
    listed = invoke("inbox", "--json")
    assert json.loads(listed.stdout)["concerns"][0]["author"] == TESS
    added = invoke("triage", str(number), "--case", "SG-2026-0001", "--json")
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["outcome"] == "case"
    again = invoke("triage", str(number), "--no-action", "--text-file", say("no"))
    assert again.exit_code == 3 and "triaged already" in again.stderr
    unknown = invoke("triage", "99", "--case", "SG-2026-0001")
    assert unknown.exit_code == 4
    timeline = invoke("timeline", "SG-2026-0001", "--json")
    kinds = [e["kind"] for e in json.loads(timeline.stdout)["entries"]]
    assert "concern_added" in kinds
    assert invoke("verify").exit_code == 0
    mine = invoke(
        "--user", TESS, "concerns", "--json", env={"SAFEGUARD_PASSPHRASE": TESS_PASSPHRASE}
    )
    assert json.loads(mine.stdout)["concerns"][0]["state"] == "added to a case"
    assert "Amy told me" not in mine.stdout  # never a case's content


def test_no_action_needs_a_reason_and_is_recorded(school: VaultInfo, say) -> None:  # type: ignore[no-untyped-def]
    number = report(school.path, TESS, TESS_PASSPHRASE)
    done = invoke("triage", str(number), "--no-action", "--text-file", say("Known; handled."))
    assert done.exit_code == 0, done.stderr
    mine = invoke(
        "--user", TESS, "concerns", "--json", env={"SAFEGUARD_PASSPHRASE": TESS_PASSPHRASE}
    )
    assert json.loads(mine.stdout)["concerns"][0]["state"] == "no further action"
    assert invoke("verify").exit_code == 0
    assert invoke("inbox", "--older-than", "0h").exit_code == 0  # nothing waits


def test_bad_input_changes_nothing(school: VaultInfo, say) -> None:  # type: ignore[no-untyped-def]
    before = school.path.read_bytes()
    staff = {"SAFEGUARD_PASSPHRASE": TESS_PASSPHRASE}
    nobody = invoke(
        "--user", TESS, "concern", "--where", "hall", "--text-file", say("x"), env=staff
    )
    assert nobody.exit_code == 2 and "who it is about" in nobody.stderr
    concern = ["concern", "--about", "Amy", "--about-role", "pupil", "--where", "hall"]
    empty = invoke("--user", TESS, *concern, "--text-file", say(""), env=staff)
    assert empty.exit_code == 2
    assert invoke("triage", "1", "--case", "SG-2026-0001").exit_code == 4
    assert invoke("--user", TESS, "inbox", env=staff).exit_code == 3
    assert school.path.read_bytes() == before
    with sqlite3.connect(school.path) as db:
        entries = db.execute("SELECT count(*) FROM entries").fetchone()
    wrong = invoke(
        "--user",
        TESS,
        *concern,
        "--text-file",
        say("x"),
        env={"SAFEGUARD_PASSPHRASE": "not tess's passphrase"},
    )
    assert wrong.exit_code == 3
    with sqlite3.connect(school.path) as db:
        # Only the failed attempt to unlock, recorded outside the chronology, is written.
        assert db.execute("SELECT count(*) FROM unlock_attempts").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM entries").fetchone() == entries
        assert db.execute("SELECT count(*) FROM concerns").fetchone() == (0,)


def test_a_concern_altered_in_the_file_is_named(school: VaultInfo) -> None:
    number = report(school.path, TESS, TESS_PASSPHRASE)
    with sqlite3.connect(school.path) as db:
        seq, payload = db.execute(
            "SELECT seq, payload FROM concerns JOIN entries USING (seq)"
        ).fetchone()
        db.execute("DROP TRIGGER entries_no_update")
        changed = bytes(payload[:-1]) + bytes([payload[-1] ^ 1])
        db.execute("UPDATE entries SET payload = ? WHERE seq = ?", (changed, seq))
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1 and f"entry {seq}" in result.stderr
    assert number == 1


def test_a_concern_row_removed_or_marked_by_hand_is_named(school: VaultInfo) -> None:
    report(school.path, TESS, TESS_PASSPHRASE)
    with sqlite3.connect(school.path) as db:
        db.execute("UPDATE concerns SET outcome = 'no_action', triaged_seq = 1")
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1 and "concern 1" in result.stderr
    with sqlite3.connect(school.path) as db:
        db.execute("DELETE FROM concern_keys")
        db.execute("DELETE FROM concerns")
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1 and "concern 1's row was removed" in result.stderr


def test_a_reader_s_key_to_a_concern_removed_by_hand_is_named(school: VaultInfo) -> None:
    """Deleting a DSL's key to a concern would take it out of their inbox unseen: `verify`
    compares the keys with the holders its signed report names."""
    report(school.path, TESS, TESS_PASSPHRASE)
    assert invoke("verify", "--no-passphrase").exit_code == 0
    with sqlite3.connect(school.path) as db:
        db.execute("DELETE FROM concern_keys WHERE holder = (SELECT MIN(holder) FROM concern_keys)")
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1 and "concern 1's keys are not those entry" in result.stderr


def test_the_signature_carried_into_a_case_is_checked(school: VaultInfo) -> None:
    from safeguarding.chronology import EntryRow
    from safeguarding.concern_checks import Concerns, signed_bytes

    number = report(school.path, TESS, TESS_PASSPHRASE)
    alice = Vault.open(school.path).unlock("alice", PASSPHRASE)
    item = concerns.inbox(alice)[0]
    alice.close()
    state = Concerns()
    key = bytes.fromhex("00" * 32)
    state.reported[number] = (3, 2, key, item.recorded_at)
    entry = EntryRow(
        9, 1, "concern_added", "", "", 1, b"", b"", json.dumps({"concern": number}), b""
    )
    carried = {**item.content.payload(), "signature": "00" * 64, "reported_at": item.recorded_at}
    with pytest.raises(CheckFailed, match="not what its author signed"):
        state.carried(entry, carried)
    assert signed_bytes(number, 2, item.recorded_at, item.content.payload()).startswith(b"SGC1")


@on_both_engines
def test_the_inbox_counts_working_hours_and_reminds(school: VaultInfo, set_clock: SetClock) -> None:
    set_clock(datetime(2026, 12, 4, 15, 0, tzinfo=UTC))  # a Friday, 15:00
    report(school.path, TESS, TESS_PASSPHRASE)
    set_clock(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))  # Monday, 10:00: 3 + 2 working hours
    listed = invoke("inbox", "--json")
    assert json.loads(listed.stdout)["concerns"][0]["working_hours"] == 5.0
    cases = invoke("cases")
    assert cases.stderr.strip().splitlines()[-1] == (
        "1 concern waiting, the oldest for 5 working hours: safeguard inbox"
    )
    late = run("inbox", "--older-than", "4h", env={"SAFEGUARD_PASSPHRASE": ""})
    assert late.returncode == 1
    assert late.stderr.count("\n") == 1 and "Amy" not in late.stderr and TESS not in late.stderr
    assert run("inbox", "--older-than", "6h").returncode == 0


@on_both_engines
def test_two_staff_and_a_dsl_writing_at_once_lose_nothing(
    school: VaultInfo, tmp_path: Path
) -> None:
    texts = {}
    for name, _secret in ((TESS, TESS_PASSPHRASE), (TOM, TOM_PASSPHRASE)):
        texts[name] = tmp_path / f"{name}.txt"
        texts[name].write_text("seen at break")
    write_secret(tmp_path / "tess", TESS_PASSPHRASE)
    write_secret(tmp_path / "tom", TOM_PASSPHRASE)
    write_secret(tmp_path / "alice", PASSPHRASE)
    (tmp_path / "note.txt").write_text("a DSL's record")
    processes = []
    for _ in range(5):
        for name, secret_file in ((TESS, "tess"), (TOM, "tom")):
            processes.append(
                subprocess.Popen(
                    [
                        safeguard_executable(),
                        "--user",
                        name,
                        "concern",
                        "--about",
                        "Amy",
                        "--about-role",
                        "pupil",
                        "--where",
                        "hall",
                        "--text-file",
                        str(texts[name]),
                    ],
                    env={
                        **__import__("os").environ,
                        "SAFEGUARD_PASSPHRASE_FILE": str(tmp_path / secret_file),
                    },
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
        processes.append(
            subprocess.Popen(
                [
                    safeguard_executable(),
                    "record",
                    "--category",
                    "child-protection",
                    "--subject",
                    "Amy",
                    "--subject-role",
                    "pupil",
                    "--disclosed-by",
                    "Amy",
                    "--relationship",
                    "pupil",
                    "--where",
                    "hall",
                    "--text-file",
                    str(tmp_path / "note.txt"),
                ],
                env={
                    **__import__("os").environ,
                    "SAFEGUARD_PASSPHRASE_FILE": str(tmp_path / "alice"),
                },
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read() if process.stderr else ""
    assert sql_value(school.path, "SELECT COUNT(*) FROM concerns") == 10
    assert sql_value(school.path, "SELECT COUNT(*) FROM cases") == 5
    assert invoke("verify").exit_code == 0
    assert len(json.loads(invoke("inbox", "--json").stdout)["concerns"]) == 10


def test_unknown_concern_is_not_found(school: VaultInfo) -> None:
    alice = Vault.open(school.path).unlock("alice", PASSPHRASE)
    with pytest.raises(NotFound):
        concerns.read(alice, 5)
    alice.close()


@on_both_engines
def test_triage_new_opens_a_case_from_the_concern_in_a_script(school: VaultInfo, say) -> None:  # type: ignore[no-untyped-def]
    number = report(school.path, TESS, TESS_PASSPHRASE)
    missing = invoke("triage", str(number), "--new", "--category", "child-protection")
    assert missing.exit_code == 2 and "--disclosed-by, --relationship" in missing.stderr
    opened = invoke(
        "triage", str(number), "--new", "--category", "child-protection",
        "--disclosed-by", "Amy Price", "--relationship", "pupil", "--json",
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    done = json.loads(opened.stdout)
    assert (done["outcome"], done["case"], done["opened"]) == ("case", "SG-2026-0001", True)
    case = json.loads(invoke("timeline", "SG-2026-0001", "--json").stdout)
    first, second = case["entries"][:2]
    assert (first["kind"], second["kind"]) == ("disclosure", "concern_added")
    assert first["text"] == second["text"] == f"Amy said: {CANARY} hits me."
    assert first["data"]["received_by"] == TESS and first["data"]["where"] == "classroom"
    assert case["subjects"] == [{"name": "Amy Price", "role": "pupil"}]
    assert second["data"]["reported_by"] == TESS and second["data"]["signature"]
    again = invoke("triage", str(number), "--new", "--category", "child-protection",
                   "--disclosed-by", "Amy", "--relationship", "pupil")  # fmt: skip
    assert again.exit_code == 3 and "triaged already" in again.stderr
    assert invoke("verify").exit_code == 0
    mine = invoke(
        "--user", TESS, "concerns", "--json", env={"SAFEGUARD_PASSPHRASE": TESS_PASSPHRASE}
    )
    assert json.loads(mine.stdout)["concerns"][0]["state"] == "added to a case"


def test_triage_new_on_a_terminal_asks_only_what_the_concern_does_not_say(
    school: VaultInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safeguarding.cli import credentials

    number = report(school.path, TESS, TESS_PASSPHRASE)
    monkeypatch.setattr(credentials, "is_interactive", lambda: True)
    answers = "\n".join(
        [
            "child-protection",  # the category: the concern does not say
            "Amy Price",  # who disclosed it
            "pupil",  # their relationship
            "n",  # no observations of the DSL's own
            "y",  # save
        ]
    )
    result = invoke("triage", str(number), "--new", input=answers + "\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "SG-2026-0001"
    asked = result.stderr
    assert "Category" in asked and "Who disclosed it?" in asked
    assert "Who is it about?" not in asked and "Where was it disclosed?" not in asked
    assert "Who received it?" not in asked and "The account" not in asked
    assert "Check before saving" in asked and CANARY in asked  # the account, to confirm
    assert "entry 2" in asked
    assert invoke("verify").exit_code == 0


def test_triage_new_cancelled_saves_nothing(
    school: VaultInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safeguarding.cli import credentials

    number = report(school.path, TESS, TESS_PASSPHRASE)
    before = school.path.read_bytes()
    monkeypatch.setattr(credentials, "is_interactive", lambda: True)
    answers = "\n".join(["child-protection", "Amy Price", "pupil", "n", "n", "y"]) + "\n"
    result = invoke("triage", str(number), "--new", input=answers)
    assert result.exit_code == 130, result.stderr
    assert school.path.read_bytes() == before
    listed = json.loads(invoke("inbox", "--json").stdout)["concerns"]
    assert [c["state"] for c in listed] == ["waiting"]


def test_verify_names_a_readers_list_that_leaves_out_a_reader(
    school: VaultInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readers recorded when a user is added must be every active DSL, deputy and head."""
    from safeguarding import roster

    alice = Vault.open(school.path).unlock("alice", PASSPHRASE)
    alice.add_user("Dee Deputy", Role.DEPUTY, "deputy passphrase 2026")
    alice.close()
    assert invoke("verify").exit_code == 0
    monkeypatch.setattr(roster, "readers", lambda db, keys: [1])  # the deputy left out
    alice = Vault.open(school.path).unlock("alice", PASSPHRASE)
    alice.add_user("Sue Staff", Role.STAFF, "staff passphrase 2026")
    alice.close()
    result = invoke("verify")
    assert result.exit_code == 1
    assert "receiving concerns" in result.stderr and "[1, 5]" in result.stderr


def test_a_reader_not_yet_unlocked_after_the_upgrade_is_not_silently_left_out(
    old: Path,  # noqa: F811
) -> None:
    """In a vault upgraded from 0.1.0, the deputy has no exchange key until they unlock: a
    concern reported meanwhile says it cannot reach them; once they have, concerns do."""
    from tests.test_release_fixtures import ALEX, SAM

    assert invoke("db", "upgrade", env=ALEX).exit_code == 0
    args = ("concern", "--about", "Amy", "--about-role", "pupil", "--where", "hall")
    text = old / "said.txt"
    text.write_text("Amy said it again.")
    # Alex's first unlock since the upgrade records who receives concerns: Alex can report one.
    own = invoke(*args, "--text-file", str(text), "--json", env=ALEX)
    assert own.exit_code == 0, own.stderr
    assert json.loads(own.stdout)["not_sealed_to"] == 1
    staff = {"SAFEGUARD_NEW_PASSPHRASE": TESS_PASSPHRASE}
    assert invoke("user", "add", TESS, "--role", "staff", env={**ALEX, **staff}).exit_code == 0
    tess = {"SAFEGUARD_USER": TESS, "SAFEGUARD_PASSPHRASE": TESS_PASSPHRASE}
    first = invoke(*args, "--text-file", str(text), "--json", env=tess)
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["not_sealed_to"] == 1
    assert "1 member of the safeguarding team cannot read it" in first.stderr
    assert invoke("inbox", env=SAM).exit_code == 0  # Sam unlocks: now has an exchange key
    sam_sees = json.loads(invoke("inbox", "--json", env=SAM).stdout)["concerns"]
    assert sam_sees == []  # the first was sealed before Sam could receive it
    second = invoke(*args, "--text-file", str(text), "--json", env=tess)
    assert json.loads(second.stdout)["not_sealed_to"] == 0
    assert "cannot read it" not in second.stderr
    sam_sees = json.loads(invoke("inbox", "--json", env=SAM).stdout)["concerns"]
    assert [c["concern"] for c in sam_sees] == [3]
    alex_sees = json.loads(invoke("inbox", "--json", env=ALEX).stdout)["concerns"]
    assert [c["concern"] for c in alex_sees] == [1, 2, 3]
    assert invoke("verify", env=ALEX).exit_code == 0


def test_a_concern_added_to_a_case_shows_at_its_own_time_in_its_authors_words(
    school: VaultInfo,
    say,
    set_clock: SetClock,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    set_clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    paragraph = "\n\nShe would not say more.\n"
    recorded = invoke(
        "record", "--category", "child-protection", "--subject", "Amy Price",
        "--subject-role", "pupil", "--disclosed-by", "Amy", "--relationship", "pupil",
        "--at", "2026-11-25 11:00", "--where", "class", "--text-file", say("Amy told me."),
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.stderr
    staff = {"SAFEGUARD_PASSPHRASE": TESS_PASSPHRASE}
    reported = invoke(
        "--user", TESS, "concern", "--about", "Amy Price", "--about-role", "pupil",
        "--at", "2026-11-25 09:15", "--where", "the hall",
        "--text-file", say("Amy said: my dad hit me."),
        "--observations-file", say(f"She seemed frightened of going home.{paragraph}"),
        "--done-file", say("I stayed with her until break ended."),
        env=staff,
    )  # fmt: skip
    assert reported.exit_code == 0, reported.stderr
    assert invoke("triage", "1", "--case", "SG-2026-0001").exit_code == 0

    shown = invoke("timeline", "SG-2026-0001")
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if "Concern reported by staff" in line)
    assert "reported by Tess Teacher, added by alice" in lines[head]
    assert any("09:15" in line for line in lines[head - 1 : head + 1])  # what was seen, when
    text = "\n".join(lines[head:])
    account = text.index("my dad hit me")
    view = text.index("Their own view")
    done = text.index("Done so far")
    assert account < view < text.index("frightened of going home") < done
    assert "Recorder's observations" not in shown.stdout
    assert not [line for line in lines if line != line.rstrip() and not line.strip("│ ")]

    document = json.loads(invoke("timeline", "SG-2026-0001", "--json").stdout)
    (entry,) = [e for e in document["entries"] if e["kind"] == "concern_added"]
    assert entry["at"].startswith("2026-11-25T09:15")
    assert not entry["recorded_at"].startswith("2026-11-25T09:15")

    page = tmp_path / "case.html"
    assert invoke("export", "SG-2026-0001", "-f", "html", "-o", str(page)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "reported by Tess Teacher, added by alice" in html
    assert html.index("my dad hit me") < html.index("Their own view") < html.index("Done so far")
    assert "Recorder&#39;s observations" not in html and "Recorder's observations" not in html
    assert invoke("verify").exit_code == 0
