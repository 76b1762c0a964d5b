"""Every `--json` document gives each recorded text once: a case with a distinct canary in every
field of every kind of entry, read back through every document that shows it.

A text given twice (an entry's `text` again in its `data`, a name again in a summary line)
doubles what a script reads and leaves it two copies to reconcile; given once, it must still be
found, in the entry it belongs to.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SetClock, VaultInfo, invoke
from tests.flowkit import Say

#: One canary a field: no canary is part of another, so a count of one is one copy.
CANARIES = {
    "subject": "Quillonby Zastrow",
    "second": "Ottoline Brackwater",
    "discloser": "Perpetua Vindmoor",
    "received_by": "Hesketh Marrowby",
    "relationship": "aunt-canary-rel",
    "where": "canary-library-room",
    "account": "CANARY-ACCOUNT-7781 he sent her messages",
    "observations": "CANARY-OPINION-4410",
    "contact": "Isolde Fenwright",
    "their_reference": "MASH-CANARY-0099",
    "said": "CANARY-SAID-5521",
    "adviser": "Barnaby Quellhurst",
    "advice": "CANARY-ADVICE-6632",
    "owner": "Wendeline Harrowgate",
    "action": "CANARY-ACTION-7743",
    "done": "CANARY-DONE-8854",
    "with": "Tobiah Scarrowdale",
    "conversation": "CANARY-CONVERSATION-9965",
    "note": "CANARY-NOTE-1076",
    "amendment": "CANARY-AMENDMENT-2187",
    "closing": "CANARY-CLOSING-3298",
    "reopening": "CANARY-REOPEN-4309",
    "second_owner": "Rosalind Ebbsworth",
    "second_action": "CANARY-SECOND-ACTION-5410",
    "export": "canary-export-6521.json",
    "reporter": "Marigold Pennywhistle",
    "concern_about": "Leopold Thistlewick",
    "concern_where": "canary-concern-corridor",
    "concern": "CANARY-CONCERN-1187",
    "concern_view": "CANARY-CONCERN-VIEW-2298",
    "concern_done": "CANARY-CONCERN-DONE-3309",
}

#: Where the case's document gives each canary: the entry's kind and its field, or the case's.
PLACES = {
    "subject": ("subjects", "name"),
    "second": ("subjects", "name"),
    "discloser": ("disclosure", "data.disclosed_by"),
    "received_by": ("disclosure", "data.received_by"),
    "relationship": ("disclosure", "data.relationship"),
    "where": ("disclosure", "data.where"),
    "account": ("disclosure", "text"),
    "observations": ("disclosure", "data.observations"),
    "contact": ("referral", "data.contact"),
    "their_reference": ("referral", "data.reference"),
    "said": ("referral", "text"),
    "adviser": ("advice", "data.source"),
    "advice": ("advice", "text"),
    "owner": ("action", "data.owner"),
    "action": ("action", "text"),
    "done": ("action_done", "text"),
    "with": ("conversation", "data.with"),
    "conversation": ("conversation", "text"),
    "note": ("note", "text"),
    "amendment": ("amendment", "text"),
    "closing": ("closure", "text"),
    "reopening": ("reopening", "text"),
    "second_owner": ("action", "data.owner"),
    "second_action": ("action", "text"),
    "export": ("export", "data.to"),
    "reporter": ("concern_added", "data.reported_by"),
    "concern_about": ("concern_added", "data.about.0.name"),
    "concern_where": ("concern_added", "data.where"),
    "concern": ("concern_added", "text"),
    "concern_view": ("concern_added", "data.observations"),
    "concern_done": ("concern_added", "data.done"),
}

#: The people redaction replaces with a role label: everyone named but the subjects.
REDACTED = {
    "discloser", "received_by", "contact", "adviser", "owner", "with", "second_owner", "reporter"
}  # fmt: skip

#: Monday 16 November 2026, when the case is written; it is read on Wednesday 25th.
WRITTEN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
READ = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def strings(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every string in a JSON value, keys included, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), key
            yield from strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, (*path, index))
    elif isinstance(value, str):
        yield path, value


def found(document: Any, canary: str) -> list[tuple[Any, ...]]:
    """Where `canary` is in `document`, once a copy (twice in one string is two places)."""
    return [path for path, text in strings(document) for _ in range(text.count(canary))]


def counts(document: Any) -> dict[str, int]:
    return {name: len(found(document, canary)) for name, canary in CANARIES.items()}


def ok(*args: str, env: dict[str, str] | None = None) -> Any:
    result = invoke(*args, "--json", env=env)
    assert result.exit_code == 0, (args, result.stderr)
    return json.loads(result.stdout)


@pytest.fixture
def case(vault: VaultInfo, say: Say, set_clock: SetClock, tmp_path: Path) -> Iterator[str]:
    """The case, every kind of entry in it, and every document printed while it was written
    (none of which may give a canary twice); then the clock at `READ`, its second action
    overdue."""
    printed: list[Any] = []

    def entry(*args: str, text: str) -> Any:
        document = ok(*args, "--text-file", say(CANARIES[text]))
        printed.append(document)
        return document

    set_clock(WRITTEN)
    reference = entry(
        "record", "--category", "child-protection",
        "--subject", CANARIES["subject"], "--subject-role", "pupil",
        "--subject", CANARIES["second"], "--subject-role", "pupil",
        "--disclosed-by", CANARIES["discloser"], "--received-by", CANARIES["received_by"],
        "--relationship", CANARIES["relationship"], "--where", CANARIES["where"],
        "--observations-file", say(CANARIES["observations"]),
        text="account",
    )["case"]  # fmt: skip
    entry("refer", reference, "--to", "mash", "--contact", CANARIES["contact"],
          "--reference", CANARIES["their_reference"], text="said")  # fmt: skip
    entry("advice", reference, "--from", CANARIES["adviser"], text="advice")
    entry("action", "add", reference, "--owner", CANARIES["owner"], "--due", "2026-11-20",
          text="action")  # fmt: skip
    call = entry("conversation", reference, "--with", CANARIES["with"], "--channel", "phone",
                 text="conversation")  # fmt: skip
    entry("note", reference, text="note")
    printed.extend(concern_triaged(say, reference))
    entry("amend", reference, str(call["number"]), text="amendment")
    entry("action", "done", reference, "1", text="done")
    entry("close", reference, "--outcome", "resolved", text="closing")
    entry("reopen", reference, text="reopening")
    entry("action", "add", reference, "--owner", CANARIES["second_owner"], "--due", "2026-11-17",
          text="second_action")  # fmt: skip
    printed.append(ok("export", reference, "-f", "json", "-o", str(tmp_path / CANARIES["export"])))
    for document in printed:
        assert max(counts(document).values()) <= 1, document
    set_clock(READ)
    yield reference


def concern_triaged(say: Say, reference: str) -> list[Any]:
    """A member of staff's concern, added to the case: the documents it printed."""
    staff = {"SAFEGUARD_USER": CANARIES["reporter"], "SAFEGUARD_PASSPHRASE": "staff pass 2026"}
    added = ok("user", "add", CANARIES["reporter"], "--role", "staff",
               env={"SAFEGUARD_NEW_PASSPHRASE": staff["SAFEGUARD_PASSPHRASE"]})  # fmt: skip
    reported = ok(
        "concern", "--about", CANARIES["concern_about"], "--about-role", "pupil",
        "--where", CANARIES["concern_where"], "--text-file", say(CANARIES["concern"]),
        "--observations-file", say(CANARIES["concern_view"]),
        "--done-file", say(CANARIES["concern_done"]), env=staff,
    )  # fmt: skip
    mine = ok("concerns", env=staff)
    triaged = ok("triage", str(reported["concern"]), "--case", reference)
    return [added, reported, mine, triaged]


def test_the_case_gives_each_text_once_in_the_entry_it_belongs_to(case: str) -> None:
    document = ok("timeline", case)
    assert counts(document) == dict.fromkeys(CANARIES, 1)
    for name, (kind, field) in PLACES.items():
        (path,) = found(document, CANARIES[name])
        if kind == "subjects":
            assert path[0] == "subjects" and path[2:] == (field,), name
            continue
        assert path[0] == "entries", (name, path)
        assert document["entries"][path[1]]["kind"] == kind, name
        assert ".".join(str(part) for part in path[2:]) == field, name


def test_what_the_case_sums_up_names_its_entries(case: str) -> None:
    """The referrals, the actions and what is overdue lead a script to the entries' texts."""
    document = ok("timeline", case)
    entries = {e["id"]: e for e in document["entries"]}
    (referral,) = document["referrals"]
    assert referral["route"] == "mash"
    assert entries[referral["entry"]]["data"]["contact"] == CANARIES["contact"]
    first, second = document["actions"]
    assert entries[first["entry"]]["text"] == CANARIES["action"]
    assert entries[first["entry"]]["data"]["owner"] == CANARIES["owner"]
    assert entries[first["done_entry"]]["text"] == CANARIES["done"]
    assert entries[second["entry"]]["data"]["owner"] == CANARIES["second_owner"]
    assert second["done_entry"] is None and second["overdue"] is True
    assert document["overdue"] == [{"what": "action", "action": 2, "due": "2026-11-17"}]


def test_every_json_export_gives_each_text_once(case: str, tmp_path: Path) -> None:
    """The file, the same on standard output, and redacted: the names redaction replaces are
    gone, and every other text is there once."""
    again = tmp_path / "again.json"
    ok("export", case, "-f", "json", "-o", str(again))
    written = json.loads(again.read_text(encoding="utf-8"))
    assert counts(written) == dict.fromkeys(CANARIES, 1)
    piped = invoke("export", case, "-f", "json", "-o", "-")
    assert piped.exit_code == 0, piped.stderr
    assert counts(json.loads(piped.stdout)) == dict.fromkeys(CANARIES, 1)
    redacted = invoke("export", case, "-f", "json", "-o", "-", "--redact")
    assert redacted.exit_code == 0, redacted.stderr
    expected = {name: 0 if name in REDACTED else 1 for name in CANARIES}
    assert counts(json.loads(redacted.stdout)) == expected


def test_the_case_list_and_the_audit_give_what_they_show_once(case: str) -> None:
    """`cases` shows the subjects (with `--names`) and the overdue action's owner; `audit`,
    the name of the file the case was exported to; and nothing else of the case."""
    listed = {name: 0 for name in CANARIES} | {"second_owner": 1}
    assert counts(ok("cases")) == listed
    assert counts(ok("cases", "--names")) == listed | {"subject": 1, "second": 1}
    shown = {name: 0 for name in CANARIES} | {"export": 1}
    assert counts(ok("audit")) == shown
    assert counts(ok("audit", "--case", case)) == shown


def test_a_missed_referral_deadline_comes_first_in_what_is_overdue(
    vault: VaultInfo, say: Say, set_clock: SetClock
) -> None:
    """Until the referral is recorded, it is overdue beside the actions, as `cases` says."""
    set_clock(WRITTEN)
    made = ok(
        "record", "--category", "child-protection", "--subject", "Sam Small",
        "--subject-role", "pupil", "--disclosed-by", "Karen Webb", "--relationship", "parent",
        "--where", "the office", "--text-file", say("He said it happened again."),
    )  # fmt: skip
    reference = made["case"]
    ok("action", "add", reference, "--owner", "Class teacher", "--due", "2026-11-18",
       "--text-file", say("Check in with Sam each morning."))  # fmt: skip
    set_clock(READ)
    overdue = ok("timeline", reference)["overdue"]
    assert overdue == [
        {"what": "referral", "due": "2026-11-17"},
        {"what": "action", "action": 1, "due": "2026-11-18"},
    ]
    (listed,) = ok("cases")
    assert [o["due"] for o in listed["overdue"]] == [o["due"] for o in overdue]
    ok("refer", reference, "--to", "mash", "--text-file", say("Told the front door."))
    assert ok("timeline", reference)["overdue"] == overdue[1:]
