"""A full case written through every command: no plaintext reaches the vault files, `verify`
passes, and real processes give scripts the exit codes and JSON of the contract."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import VaultInfo, invoke, run, today, vault_files

CANARIES = {
    "subject": "Quillonby Zastrow",
    "second": "Ottoline Brackwater",
    "discloser": "Perpetua Vindmoor",
    "relationship": "aunt-canary-rel",
    "where": "canary-library-room",
    "account": "CANARY-ACCOUNT-7781 he sent her messages",
    "observations": "CANARY-OPINION-4410",
    "contact": "Canary Liaison Officer",
    "their_reference": "LADO-CANARY-0099",
    "said": "CANARY-SAID-5521",
    "advice": "CANARY-ADVICE-6632",
    "owner": "Canary Owner Name",
    "action": "CANARY-ACTION-7743",
    "done": "CANARY-DONE-8854",
    "with": "Canary Conversation Partner",
    "conversation": "CANARY-CONVERSATION-9965",
    "note": "CANARY-NOTE-1076",
    "amendment": "CANARY-AMENDMENT-2187",
    "closing": "CANARY-CLOSING-3298",
    "reopening": "CANARY-REOPEN-4309",
}
#: Words that would show that a category, route or outcome was stored in clear.
CLEAR_WORDS = ("staff-pupil-contact", "Section 4", "substantiated", "ex-pupil", "LADO")


def test_a_full_flow_leaves_no_plaintext_and_verifies(vault: VaultInfo, tmp_path: Path) -> None:
    def text(key: str) -> str:
        path = tmp_path / f"{key}.txt"
        path.write_text(CANARIES[key])
        return str(path)

    def ok(*args: str, stdin: str | None = None) -> dict[str, object]:
        # The disclosure goes through a real process and a pipe; the rest in-process, for speed.
        if args[0] == "record":
            process = run(*args, "--json", input=stdin)
            assert process.returncode == 0, (args, process.stderr)
            output = process.stdout
        else:
            result = invoke(*args, "--json")
            assert result.exit_code == 0, (args, result.stderr)
            output = result.stdout
        document: dict[str, object] = json.loads(output)
        return document

    opened = ok(
        "record",
        "--category",
        "staff-pupil-contact",
        "--subject",
        CANARIES["subject"],
        "--subject-role",
        "staff",
        "--subject",
        CANARIES["second"],
        "--subject-role",
        "ex-pupil",
        "--disclosed-by",
        CANARIES["discloser"],
        "--relationship",
        CANARIES["relationship"],
        "--where",
        CANARIES["where"],
        "--text-file",
        "-",
        "--observations-file",
        text("observations"),
        stdin=CANARIES["account"],
    )
    case = str(opened["case"])
    assert opened["category"] == "staff-pupil-contact"
    ok(
        "refer",
        case,
        "--to",
        "lado",
        "--contact",
        CANARIES["contact"],
        "--reference",
        CANARIES["their_reference"],
        "--text-file",
        text("said"),
    )
    ok("advice", case, "--from", CANARIES["contact"], "--text-file", text("advice"))
    due = (today() + timedelta(days=5)).isoformat()
    added = ok(
        "action", "add", case, "--owner", CANARIES["owner"], "--due", due,
        "--text-file", text("action"),
    )  # fmt: skip
    assert added["action"] == 1 and added["case"] == case and isinstance(added["entry"], int)
    call = ok(
        "conversation", case, "--with", CANARIES["with"], "--channel", "in-person",
        "--text-file", text("conversation"),
    )  # fmt: skip
    ok("note", case, "--text-file", text("note"))
    ok("amend", case, str(call["number"]), "--text-file", text("amendment"))
    ok("action", "done", case, "1", "--text-file", text("done"))
    ok("close", case, "--outcome", "substantiated", "--text-file", text("closing"))
    ok("reopen", case, "--text-file", text("reopening"))
    ok("close", case, "--outcome", "substantiated", "--text-file", text("closing"))

    verified = run("verify")
    assert verified.returncode == 0, verified.stderr

    files = vault_files(vault.path)
    assert files
    for path in files:
        data = path.read_bytes()
        for name, canary in CANARIES.items():
            assert canary.encode() not in data, f"{name} in clear in {path.name}"
        for word in CLEAR_WORDS:
            assert word.encode() not in data, f"{word!r} in clear in {path.name}"

    listed = run("cases", "--status", "closed", "--json")
    assert json.loads(listed.stdout)[0]["case"] == case
    gone = run("note", "SG-1999-0001", "--text-file", text("note"))
    assert gone.returncode == 4 and gone.stderr.startswith("safeguard: there is no case")
    bad = run("refer", case, "--to", "friend", "--text-file", text("said"))
    assert bad.returncode == 2 and "lado, mash, police" in bad.stderr
    closed = run("close", case, "--outcome", "substantiated", "--text-file", text("closing"))
    assert closed.returncode == 3 and "reopen" in closed.stderr


KEEPER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("SELECT count(*) FROM entries").fetchone()
print("open", flush=True)
sys.stdin.read()
"""


def test_after_a_flow_with_backup_restore_and_exports_no_plaintext_is_left_anywhere(
    vault: VaultInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file in the test's folder — vault, WAL, SHM, backups, their manifests, a restored
    copy, caches and any temporary file — is scanned, except the exports the user asked for.
    Texts come from standard input, so no input file holds them either."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home" / ".cache"))  # scanned too
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    # A connection held open for the whole flow keeps the WAL (and SHM) on disk to be scanned:
    # the last connection to close would otherwise checkpoint and delete them.  It lives in a
    # process of its own: POSIX drops a process's SQLite locks when any of its descriptors of
    # the file closes, and the in-process commands open and close the vault.
    keeper = subprocess.Popen(
        [sys.executable, "-c", KEEPER, str(vault.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert keeper.stdout is not None and keeper.stdout.readline().strip() == "open"

    def ok(*args: str, say: str | None = None) -> dict[str, object]:
        extra = ("--text-file", "-") if say is not None else ()
        result = invoke(*args, *extra, "--json", input=CANARIES[say] if say else None)
        assert result.exit_code == 0, (args, result.stderr)
        document: dict[str, object] = json.loads(result.stdout)
        return document

    case = str(
        ok(
            "record", "--category", "staff-pupil-contact",
            "--subject", CANARIES["subject"], "--subject-role", "staff",
            "--subject", CANARIES["second"], "--subject-role", "ex-pupil",
            "--disclosed-by", CANARIES["discloser"], "--relationship", CANARIES["relationship"],
            "--where", CANARIES["where"], say="account",
        )["case"]
    )  # fmt: skip
    ok("refer", case, "--to", "lado", "--contact", CANARIES["contact"],
       "--reference", CANARIES["their_reference"], say="said")  # fmt: skip
    ok("advice", case, "--from", CANARIES["contact"], say="advice")
    due = (today() + timedelta(days=5)).isoformat()
    ok("action", "add", case, "--owner", CANARIES["owner"], "--due", due, say="action")
    call = ok("conversation", case, "--with", CANARIES["with"], "--channel", "phone",
              say="conversation")  # fmt: skip
    ok("note", case, say="note")
    ok("amend", case, str(call["number"]), say="amendment")
    ok("action", "done", case, "1", say="done")
    ok("close", case, "--outcome", "substantiated", say="closing")
    ok("reopen", case, say="reopening")

    shown = invoke("timeline", case)
    assert shown.exit_code == 0 and CANARIES["note"] in shown.stdout
    exports = tmp_path / "exports"
    exports.mkdir()
    for fmt in ("txt", "html", "json", "pdf"):
        ok("export", case, "--format", fmt, "--output", str(exports / f"{case}.{fmt}"))
    ok("export", case, "--format", "txt", "--output", str(exports / "redacted.txt"), "--redact")
    assert CANARIES["note"] in (exports / f"{case}.txt").read_text()  # the user asked for it

    backups = tmp_path / "backups"
    backups.mkdir(mode=0o700)
    backed_up = run("backup", "create", str(backups))
    assert backed_up.returncode == 0, backed_up.stderr
    (copy,) = backups.glob("*.db")
    restored = tmp_path / "restored" / "vault.db"
    back = run("restore", str(copy), "--to", str(restored))
    assert back.returncode == 0, back.stderr
    assert run("verify", "--checkpoints", str(backups)).returncode == 0
    assert run("--vault", str(restored), "verify").returncode == 0

    scanned = [p for p in tmp_path.rglob("*") if p.is_file() and exports not in p.parents]
    wal = Path(f"{vault.path}-wal")
    assert {vault.path, wal, Path(f"{vault.path}-shm"), copy, restored} <= set(scanned)
    assert wal.stat().st_size > 100_000  # the flow's writes, frame by frame
    for path in scanned:
        data = path.read_bytes()
        for name, canary in CANARIES.items():
            assert canary.encode() not in data, f"{name} in clear in {path}"
        if path.suffix in (".db", ".db-wal", ".db-shm") or path.name.endswith("-wal"):
            for word in CLEAR_WORDS:
                assert word.encode() not in data, f"{word!r} in clear in {path}"
    keeper.communicate("", timeout=30)
