"""A full case written through every command: no plaintext reaches the vault files, `verify`
passes, and real processes give scripts the exit codes and JSON of the contract."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from tests.conftest import VaultInfo, invoke, run, vault_files

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
    due = (date.today() + timedelta(days=5)).isoformat()
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
    ok("amend", case, str(call["entry"]), "--text-file", text("amendment"))
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
