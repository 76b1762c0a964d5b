"""A child's file received from another school reads as that school's own timeline reads it:
each entry's facts shown by its kind, as this vault shows its own; an entry this release
cannot read so (a kind it does not know, fields of another shape) lists its fields as sent."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from safeguarding import documents_json
from tests.conftest import VaultInfo, invoke
from tests.flowkit import Say, entry, record
from tests.test_concerns import TESS, TESS_PASSPHRASE, report, school  # noqa: F401 (the fixture)
from tests.test_transfer import CANARY, _school, _send, a_child_with_a_case

WIDE = {"COLUMNS": "200"}
SAID = "Something was said."  # what `entry` writes
ACCOUNT = "He has been messaging my daughter."  # what `record` writes
#: How a timeline heads an entry: its time, (a received one's school and case,) its title,
#: its number.
HEADING = re.compile(r"^\d\d:\d\d  (?:.+ · )?(?P<title>[^·]+) · entry (?P<number>\d+) · ")


def facts_shown(text: str) -> dict[tuple[str, int], list[str]]:
    """Each entry's facts as a timeline shows them (the lines between its heading and its
    text), by its title and number."""
    found: dict[tuple[str, int], list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        heading = HEADING.match(line)
        if heading:
            current = found.setdefault((heading["title"], int(heading["number"])), [])
        elif current is not None:
            if not line.strip() or line.strip() in (SAID, ACCOUNT) or "↳" in line:
                current = None
            else:
                current.append(line.strip())
    return found


def words(text: str) -> str:
    return " ".join(text.split())


def page_text(data: bytes, fmt: str) -> str:
    """What a reader of an html or pdf export reads, in words."""
    if fmt == "pdf":
        return words(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    return words(html.unescape(re.sub(r"<[^>]+>", " ", data.decode("utf-8"))))


def sent_and_imported(say: Say, tmp_path: Path) -> tuple[str, dict[str, str], str]:
    """A case with a referral, a conversation (corrected), an action (done), advice, and a
    closure and a reopening, sent to Northfield and imported there: the case, Northfield's
    environment, and the person there."""
    case = a_child_with_a_case(say)
    entry(say, "refer", case, "--to", "mash", "--contact", "Jo Duty", "--reference", "MASH-77")
    call = entry(say, "conversation", case, "--with", "Karen Webb", "--channel", "phone")
    entry(say, "action", "add", case, "--owner", "Sam Ortiz", "--due", "2026-12-04")
    entry(say, "action", "done", case, "1")
    entry(say, "advice", case, "--from", "County LADO")
    entry(say, "amend", case, str(call["number"]), text="It was her father.")
    entry(say, "close", case, "--outcome", "unfounded")
    entry(say, "reopen", case)
    north = _school(tmp_path, "Northfield Academy", "Bea Bell")
    package = _send(tmp_path, CANARY, north, "Northfield Academy")
    imported = invoke("import", package, "--json", env=north)
    assert imported.exit_code == 0, imported.stderr
    return case, north, str(json.loads(imported.stdout)["person"])


def test_a_received_file_shows_each_entry_as_the_sending_school_s_timeline_does(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    case, north, person = sent_and_imported(say, tmp_path)
    theirs = facts_shown(invoke("timeline", case, env=WIDE).stdout)
    wanted = {key: facts for key, facts in theirs.items() if key[0] != "Amendment"}
    assert {title for title, _ in wanted} >= {
        "Disclosure", "Referral", "Conversation", "Action", "Action done", "Advice", "Closure",
        "Export",
    }  # fmt: skip

    shown = invoke("file", person, env={**north, **WIDE})
    assert shown.exit_code == 0, shown.stderr
    ours = facts_shown(shown.stdout)
    exported = invoke("export", "--file", person, "--format", "txt", "--output", "-", env=north)
    assert exported.exit_code == 0, exported.stderr
    for key, facts in wanted.items():
        assert ours[key] == facts, key  # the same labels and values, in the same order
    assert facts_shown(exported.stdout) == facts_shown(invoke("file", person, env=north).stdout)

    for fmt in ("html", "pdf"):
        out = tmp_path / f"file.{fmt}"
        made = invoke("export", "--file", person, "--format", fmt, "--output", str(out), env=north)
        assert made.exit_code == 0, made.stderr
        read = page_text(out.read_bytes(), fmt)
        for (title, _), facts in wanted.items():
            for fact in facts if title != "Note" else ():
                label, value = fact.split(": ", 1)
                assert words(label) in read and words(value) in read, (fmt, fact)


def test_what_was_sent_stays_as_it_was_in_the_json_and_names_stay_out_of_an_answer(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    case, north, person = sent_and_imported(say, tmp_path)
    sent = {
        e["id"]: e["data"] for e in json.loads(invoke("timeline", case, "--json").stdout)["entries"]
    }
    document = json.loads(invoke("file", person, "--json", env=north).stdout)
    (received,) = document["received"]
    (carried,) = received["file"]["cases"]
    for arrived in carried["entries"]:
        if arrived["id"] in sent:
            assert arrived["data"] == sent[arrived["id"]]  # the codes as they were recorded
    theirs = facts_shown(invoke("timeline", case, env=WIDE).stdout)

    out = tmp_path / "answer.html"
    answered = invoke("sar", "make", person, "--output", str(out), "--format", "html", env=north)
    assert answered.exit_code == 0, answered.stderr
    read = page_text(out.read_bytes(), "html")
    (route,) = theirs[("Referral", 4)][:1]
    channel = next(f for f in theirs[("Conversation", 5)] if f.startswith("Channel"))
    for fact in (route, channel):
        assert words(fact.replace(": ", " ", 1)) in read
    for name in ("Jo Duty", "Karen Webb", "Sam Ortiz"):  # contact, spoken with, owner
        assert name not in read
    assert CANARY in read


def _reshaped(item: Any) -> dict[str, Any]:
    """An entry of the sent file as a release other than this one may write it."""
    document = dict(ORIGINAL_ITEM(item))
    data = dict(document["data"])
    if document["kind"] == "conversation":
        data["mood"] = "calm"  # a field this release does not know
    elif document["kind"] == "action":
        del data["due"]  # a field missing
    elif document["kind"] == "referral":
        data["route"] = 7  # a field of another type
    elif document["kind"] == "advice":
        document["kind"] = "safety_plan"  # a kind this release does not know
        data["review_due"] = "2026-12-11"
    document["data"] = data
    return document


ORIGINAL_ITEM = documents_json._item


def test_an_entry_this_release_cannot_read_as_its_own_lists_its_fields_as_sent(
    vault: VaultInfo, say: Say, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = a_child_with_a_case(say)
    entry(say, "refer", case, "--to", "mash", "--contact", "Jo Duty")
    entry(say, "conversation", case, "--with", "Karen Webb", "--channel", "phone")
    entry(say, "action", "add", case, "--owner", "Sam Ortiz", "--due", "2026-12-04")
    entry(say, "advice", case, "--from", "County LADO")
    north = _school(tmp_path, "Northfield Academy", "Bea Bell")
    with monkeypatch.context() as patched:
        patched.setattr(documents_json, "_item", _reshaped)
        package = _send(tmp_path, CANARY, north, "Northfield Academy")
    imported = invoke("import", package, "--json", env=north)
    assert imported.exit_code == 0, imported.stderr
    person = str(json.loads(imported.stdout)["person"])

    shown = invoke("file", person, env={**north, **WIDE})
    assert shown.exit_code == 0, shown.stderr
    ours = facts_shown(shown.stdout)
    (received,) = json.loads(invoke("file", person, "--json", env=north).stdout)["received"]
    (carried,) = received["file"]["cases"]
    by_kind = {e["kind"]: e for e in carried["entries"]}
    assert by_kind["conversation"]["data"]["mood"] == "calm"  # kept as it was sent
    for kind, title in (
        ("conversation", "Conversation"),
        ("action", "Action"),
        ("referral", "Referral"),
        ("safety_plan", "Safety plan"),
    ):
        sent = by_kind[kind]
        listed = [
            f"{key.replace('_', ' ').capitalize()}: {value}" for key, value in sent["data"].items()
        ]
        assert ours[(title, sent["number"])] == listed, kind
    # What this release can read as its own still is.
    assert (
        ours[("Disclosure", 1)]
        == facts_shown(invoke("timeline", case, env=WIDE).stdout)[("Disclosure", 1)]
    )


def test_a_concern_from_staff_and_a_subject_linked_read_as_the_sender_s_own(
    school: VaultInfo,  # noqa: F811
    say: Say,
    tmp_path: Path,
) -> None:
    case = record(say, subject=CANARY, role="pupil")["case"]
    assert invoke("person", "add", CANARY, "--dob", "2015-06-01").exit_code == 0
    linked = invoke("person", "link-case", CANARY, case)
    assert linked.exit_code == 0, linked.stderr
    number = report(school.path, TESS, TESS_PASSPHRASE)
    added = invoke("triage", str(number), "--case", case)
    assert added.exit_code == 0, added.stderr
    north = _school(tmp_path, "Northfield Academy", "Bea Bell")
    package = _send(tmp_path, CANARY, north, "Northfield Academy")
    imported = invoke("import", package, "--json", env=north)
    assert imported.exit_code == 0, imported.stderr
    person = str(json.loads(imported.stdout)["person"])

    theirs = facts_shown(invoke("timeline", case, env=WIDE).stdout)
    ours = facts_shown(invoke("file", person, env={**north, **WIDE}).stdout)
    assert {"Concern reported by staff", "Subject linked to a person"} <= {t for t, _ in theirs}
    assert ours == theirs  # their facts, the account, and the reporter's own view after it

    out = tmp_path / "answer.html"
    answered = invoke("sar", "make", person, "--output", str(out), "--format", "html", env=north)
    assert answered.exit_code == 0, answered.stderr
    read = page_text(out.read_bytes(), "html")
    assert "Amy Price" not in read and TESS not in read  # whom it is about, who reported it
    assert CANARY in read
