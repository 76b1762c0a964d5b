"""Case summaries: written with every entry, in step with the chronology after every kind of
entry, sealed with the case's key, checked by `verify`, and read by `cases` so that it shows
exactly what it showed when it read every entry."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from safeguarding import (
    access,
    casefile,
    categories,
    config,
    crypto,
    flow,
    membership,
    migrate,
    storage,
    summaries,
)
from safeguarding.cases import Casebook
from safeguarding.crypto import KeyRing
from safeguarding.db import Case, CaseSummary
from safeguarding.entries import (
    Action,
    ActionDone,
    Advice,
    Amendment,
    Closure,
    Conversation,
    Disclosure,
    Note,
    Referral,
    Reopening,
    Subject,
)
from safeguarding.vault import Role, Unlocked, Vault
from safeguarding.vocabulary import Kind
from tests.conftest import (
    DEFAULT_NOW,
    DEPUTY_PASSPHRASE,
    PASSPHRASE,
    VaultInfo,
    invoke,
    run,
    safeguard_executable,
)
from tests.conftest import today as clock_today
from tests.flowkit import Say, entry, record

GOLDEN = Path(__file__).parent / "golden" / "cases"
HEAD, KIM = "Jo Head", "Kim Lee"
HEAD_PASSPHRASE = "head teacher passphrase"
#: The tests' clock (a Wednesday in term, mid-morning): the listings' dates are fixed.
MOMENT = DEFAULT_NOW


def raw(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db, db:
        return list(db.execute(sql, args))


@contextmanager
def casebook(
    vault: VaultInfo, name: str = "alice", passphrase: str = PASSPHRASE
) -> Iterator[Casebook]:
    unlocked = Vault.open(vault.path).unlock(name, passphrase)
    try:
        yield Casebook(unlocked, categories.load(), config.load())
    finally:
        unlocked.close()


def disclosure(category: str, subject: str = "Daniel Price", role: str = "staff") -> Disclosure:
    return Disclosure(
        category=category,
        subjects=(Subject(subject, role),),
        disclosed_by="Karen Webb",
        relationship="parent",
        where="the office",
        text="He has been messaging my daughter.",
    )


def in_step(book: Casebook, reference: str) -> summaries.Summary:
    """The case's summary as stored, once it is checked against the case read whole: the state
    `flow.fold` makes of its entries, its number of entries and its last entry."""
    unlocked = book.unlocked
    with storage.reading(unlocked.vault.connection) as db:
        case = casefile.find_case(db, reference)
        ring = unlocked.case_ring(db, case)
        stored = summaries.read(db, case.id, ring)
        last = summaries.last_seq(db, case.id)
    assert stored is not None, f"{reference} has no usable summary"
    file = book.read(reference)
    assert stored.state == flow.fold(file)
    assert stored.entries == len(file.entries) == max(e.number for e in file.entries)
    assert stored.last == last
    return stored


@pytest.fixture
def school(vault: VaultInfo) -> VaultInfo:
    """alice (DSL), Jo Head (head) and Kim Lee (deputy)."""
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user(HEAD, Role.HEAD, HEAD_PASSPHRASE)
    alice.add_user(KIM, Role.DEPUTY, DEPUTY_PASSPHRASE)
    alice.close()
    return vault


def test_a_summary_agrees_with_the_chronology_after_every_kind_of_entry(
    school: VaultInfo,
) -> None:
    with casebook(school) as book:
        reference = book.open(disclosure("child-protection", "Amy Price", "pupil")).reference
        assert in_step(book, reference).entries == 1
        due = clock_today() + timedelta(days=7)
        for draft in (
            Referral(route="mash", contact="Front door", text="Referred."),
            Advice(source="MASH", text="Keep watching."),
            Action(owner="Ms Class Teacher", due=due, text="Check in daily."),
            Action(owner="Mr Head of Year", due=due, text="Call home."),
            Conversation(with_whom="Amy", channel="in-person", text="She is fine."),
            Note(text="A note."),
            Amendment(target=6, text="She said she was fine."),
            ActionDone(action=1, text="Checked in."),
            Closure(outcome="no-further-action", force=True, text="Closed with one open."),
            Note(text="A note on a closed case."),
            Reopening(text="Something new."),
            ActionDone(action=2, text="Called home."),
        ):
            written = book.add(reference, draft)
            stored = in_step(book, reference)
            assert stored.state == written.state and stored.entries == written.number
        # An export is an entry of the case: recorded in its summary, as every entry is.
        with access.reading_case(book.unlocked, reference, Kind.EXPORT, {"format": "json"}):
            pass
        assert in_step(book, reference).entries == 14

        # A restricted case: views and changes of its members are its access log, not its
        # record; its summary follows them (its last entry) and is sealed to its members.
        secret = book.open(disclosure("staff-pupil-contact")).reference
        access.view(book.unlocked, secret, categories=None, school="School")
        viewed = in_step(book, secret)
        assert viewed.entries == 1 and viewed.last > 1
        membership.grant(book.unlocked, secret, KIM)
        book.add(secret, Note(text="Kim joins."))
        membership.revoke(book.unlocked, secret, KIM)
        assert in_step(book, secret).entries == 2
        assert book.unlocked.verify().entries > 0


def test_a_summary_is_sealed_to_the_case_s_keys_and_not_to_a_revoked_member(
    school: VaultInfo,
) -> None:
    with casebook(school) as book:
        reference = book.open(disclosure("staff-pupil-contact")).reference
        membership.grant(book.unlocked, reference, KIM)
    with casebook(school, KIM, DEPUTY_PASSPHRASE) as kim:
        with storage.reading(kim.unlocked.vault.connection) as db:
            ring = kim.unlocked.case_ring(db, casefile.find_case(db, reference))
        kept = ring.keys
        assert in_step(kim, reference).state.subjects == [{"name": "Daniel Price", "role": "staff"}]
    with casebook(school) as book:
        membership.revoke(book.unlocked, reference, KIM)
        in_step(book, reference)
    ((case_id, epoch, sealed),) = raw(
        school.path, "SELECT case_id, epoch, summary FROM case_summaries WHERE case_id = 1"
    )
    assert epoch == 1
    row = CaseSummary(int(case_id), 0, 0, bytes(sealed))  # type: ignore[call-overload, arg-type]
    for key in kept:  # every key Kim held: none opens the summary written after she left
        with pytest.raises(crypto.DecryptionError):
            summaries.opened(row, KeyRing((key,)))


# What `verify` says of a summary that does not hold --------------------------------------


def two_cases(vault: VaultInfo) -> tuple[str, str]:
    with casebook(vault) as book:
        first = book.open(disclosure("child-protection", "Amy Price", "pupil")).reference
        second = book.open(disclosure("child-protection", "Ben Stone", "pupil")).reference
        book.add(first, Note(text="One."))
    return first, second


def summary_row(path: Path, case_id: int) -> tuple[int, int, bytes]:
    ((seq, epoch, sealed),) = raw(
        path, "SELECT seq, epoch, summary FROM case_summaries WHERE case_id = ?", case_id
    )
    return int(seq), int(epoch), bytes(sealed)  # type: ignore[call-overload, arg-type]


def put_back(path: Path, case_id: int, row: tuple[int, int, bytes]) -> None:
    raw(
        path,
        "UPDATE case_summaries SET seq = ?, epoch = ?, summary = ? WHERE case_id = ?",
        *row,
        case_id,
    )


def failed(*args: str) -> str:
    checked = run("verify", *args)
    assert checked.returncode == 1, checked.stderr
    return checked.stderr


def test_verify_names_an_old_summary_put_back(vault: VaultInfo, say: Say) -> None:
    first, _ = two_cases(vault)
    old = summary_row(vault.path, 1)
    entry(say, "refer", first, "--to", "mash")
    listed = invoke("cases", "--json").stdout
    put_back(vault.path, 1, old)
    for how in ((), ("--no-passphrase",)):
        said = failed(*how)
        assert f"the summary of {first} is stale" in said, said
    # Not used meanwhile: the case is listed, and written to, as its chronology says.
    assert invoke("cases", "--json").stdout == listed
    assert json.loads(listed)[0]["stage"] == "referred"
    assert entry(say, "note", first)["number"] == 4
    assert run("verify").returncode == 0  # the note wrote it afresh


def test_verify_names_a_summary_moved_to_another_case(vault: VaultInfo) -> None:
    _, second = two_cases(vault)
    seq, epoch, _ = summary_row(vault.path, 2)
    put_back(vault.path, 2, (seq, epoch, summary_row(vault.path, 1)[2]))
    said = failed()
    assert f"the summary of {second} does not open" in said, said
    assert run("verify", "--no-passphrase").returncode == 0  # only a key can tell


def test_verify_names_a_summary_that_disagrees_with_the_chronology(vault: VaultInfo) -> None:
    first, _ = two_cases(vault)
    with casebook(vault) as book:
        unlocked: Unlocked = book.unlocked
        with storage.writing(unlocked.vault.connection) as db:
            case = db.get_one(Case, 1)
            ring = unlocked.case_ring(db, case)
            wrong = summaries.read(db, 1, ring)
            assert wrong is not None
            wrong.state.referrals.append(2)  # a referral no entry records
            wrong.state.decided_not_to_refer = True
            summaries.write(db, 1, ring, wrong)
    said = failed()
    assert f"the summary of {first} does not agree with its chronology" in said, said


def test_a_missing_summary_is_not_damage_and_is_written_again(vault: VaultInfo) -> None:
    two_cases(vault)
    before = invoke("cases", env={"COLUMNS": "80"}).stdout
    raw(vault.path, "DELETE FROM case_summaries")
    assert run("verify").returncode == 0
    assert invoke("cases", env={"COLUMNS": "80"}).stdout == before
    assert {row[0] for row in raw(vault.path, "SELECT case_id FROM case_summaries")} == {1, 2}
    assert run("verify").returncode == 0


def test_no_summary_is_in_clear_on_disk(vault: VaultInfo, say: Say) -> None:
    canaries = ("Zephyrine Quockworth", "Canary Owner Q", "CANARY-ACTION-5150", "mash")
    case = record(say, category="child-protection", subject=canaries[0], role="pupil")["case"]
    entry(say, "refer", case, "--to", "mash")
    due = (clock_today() + timedelta(days=3)).isoformat()
    entry(say, "action", "add", case, "--owner", canaries[1], "--due", due, text=canaries[2])
    ((sealed,),) = raw(vault.path, "SELECT summary FROM case_summaries")
    assert isinstance(sealed, bytes)
    for path in (vault.path, Path(f"{vault.path}-wal")):
        if path.exists():
            data = path.read_bytes()
            for canary in canaries[:3]:
                assert canary.encode() not in data, canary
    assert canaries[3].encode() not in sealed and b"referred" not in sealed


# `cases` shows what it showed before summaries ----------------------------------------------


def a_school_s_cases(say: Say) -> None:
    """Open, overdue, advised, closed and restricted cases, recorded through the CLI."""
    late = (MOMENT - timedelta(days=9)).isoformat()
    overdue = record(say, "--at", late, category="child-protection", subject="Amy Price",
                     role="pupil")["case"]  # fmt: skip
    referred = record(say, category="child-protection", subject="Ben Stone", role="pupil")["case"]
    entry(say, "refer", referred, "--to", "mash")
    entry(say, "advice", referred, "--from", "MASH")
    soon = (MOMENT + timedelta(days=4)).date().isoformat()
    entry(say, "action", "add", referred, "--owner", "Ms Class", "--due", soon)
    record(say, category="staff-pupil-contact", subject="Daniel Price", role="staff")
    closed = record(say, category="cyberbullying-in-school", subject="Cara Bell",
                    role="pupil")["case"]  # fmt: skip
    entry(say, "refer", closed, "--to", "none")
    entry(say, "close", closed, "--outcome", "resolved")
    assert overdue


LISTINGS = {
    "open.txt": ("cases",),
    "names.txt": ("cases", "--names"),
    "all.txt": ("cases", "--status", "all"),
    "overdue.txt": ("cases", "--overdue"),
    "all.json": ("cases", "--status", "all", "--json", "--names"),
}


def listings() -> dict[str, str]:
    shown = {}
    for name, args in LISTINGS.items():
        result = invoke(*args, env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.stderr
        shown[name] = result.stdout
    return shown


def test_cases_shows_what_it_showed_when_it_read_every_entry(vault: VaultInfo, say: Say) -> None:
    """The goldens were written by the release before summaries, from this same vault."""
    a_school_s_cases(say)
    shown = listings()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, text in shown.items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
    for name, text in shown.items():
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), name
    # From the chronology (no summaries, as an upgraded vault starts): the same again.
    raw(vault.path, "DELETE FROM case_summaries")
    assert listings() == shown


def test_a_0004_vault_lists_the_same_cases_after_the_upgrade(vault: VaultInfo, say: Say) -> None:
    a_school_s_cases(say)
    shown = listings()
    engine = storage.make_engine(vault.path)
    try:
        from alembic import command

        with engine.begin() as connection:
            command.downgrade(migrate._config(connection), "0004")
    finally:
        engine.dispose()
    tables = {row[0] for row in raw(vault.path, "SELECT name FROM sqlite_master")}
    assert "case_summaries" not in tables
    assert invoke("cases").exit_code == 5  # an old schema: upgrade first
    upgraded = invoke("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert f"from 0004 to {storage.HEAD_REVISION}" in upgraded.stderr
    assert raw(vault.path, "SELECT count(*) FROM case_summaries") == [(0,)]
    assert listings() == shown
    # The first listing wrote the summaries of the cases it listed (every one, with --all).
    assert raw(vault.path, "SELECT count(*) FROM case_summaries") == [(4,)]
    assert run("verify").returncode == 0
    assert listings() == shown


# `verify` on a terminal -----------------------------------------------------------------------


def on_a_terminal(*args: str) -> tuple[int, str]:
    """The real command with its stderr on a terminal (stdout a pipe): its exit code and what
    the terminal was shown."""
    import pty
    import subprocess

    leader, follower = pty.openpty()
    with subprocess.Popen(
        [safeguard_executable(), *args], stdout=subprocess.PIPE, stderr=follower
    ) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal's other end closed: the command is done
                break
            if not chunk:
                break
            shown += chunk
        code = process.wait(timeout=60)
    os.close(leader)
    return code, shown.decode("utf-8", "replace")


def test_verify_shows_its_progress_on_a_terminal_and_nothing_to_a_script(
    vault: VaultInfo,
) -> None:
    two_cases(vault)
    for how in ((), ("--no-passphrase",)):
        code, shown = on_a_terminal("verify", *how)
        assert code == 0, shown
        assert "Checking entry 1 of " in shown and "\x1b[2K" in shown, shown
        piped = run("verify", *how)
        assert piped.returncode == 0 and "Checking" not in piped.stderr + piped.stdout
