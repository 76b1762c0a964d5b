"""`record` links each subject to a person (`--subject-id`, `--subject-dob`, or on a terminal
chosen among the people of that name), and `person link-case` links an existing case's subject
afterwards, as a signed entry of the case."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeguarding.server import Server
from tests.conftest import PASSPHRASE, SetClock, VaultInfo, invoke, on_both_engines
from tests.flowkit import Say, record_args, sql_value

MOMENT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed(set_clock: SetClock) -> None:
    set_clock(MOMENT)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguarding.cli import credentials

    monkeypatch.setattr(credentials, "is_interactive", lambda: True)


def subjects(path: Path, reference: str) -> list[dict[str, object]]:
    from safeguarding import categories, config
    from safeguarding.cases import Casebook
    from safeguarding.vault import Vault

    unlocked = Vault.open(path).unlock("alice", PASSPHRASE)
    try:
        case = Casebook(unlocked, categories.load(), config.load()).read(reference)
    finally:
        unlocked.close()
    return list(case.disclosure.data["subjects"])


def pupil(say: Say, *extra: str, subject: str = "Amy Price") -> str:
    args = record_args(say("She said it."), category="child-protection", subject=subject)
    result = invoke(*[a if a != "staff" else "pupil" for a in args], *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def people_count(path: Path | Server) -> int:
    return int(sql_value(path, "SELECT count(*) FROM people"))


@on_both_engines
def test_a_subject_with_a_date_of_birth_is_matched_or_added(vault: VaultInfo, say: Say) -> None:
    first = pupil(say, "--subject-dob", "2016-03-14")
    assert subjects(vault.path, first) == [{"name": "Amy Price", "role": "pupil", "person": 1}]
    # The same name and date of birth, however written: the same person, none added.
    second = pupil(say, "--subject-dob", "14/03/2016", subject="amy  price")
    assert subjects(vault.path, second)[0]["person"] == 1
    # A namesake born on another day is someone else.
    third = pupil(say, "--subject-dob", "2017-05-01")
    assert subjects(vault.path, third)[0]["person"] == 2
    assert people_count(vault.path) == 2
    shown = json.loads(invoke("person", "show", "1", "--json").stdout)
    assert shown["cases"] == [first, second]
    assert invoke("verify").exit_code == 0


def test_a_name_in_another_unicode_form_is_the_same_name(vault: VaultInfo, say: Say) -> None:
    """'e' and a combining accent, as some keyboards and copied text give 'é': the subject is
    still linked, or added, as the same name typed the usual way is."""
    import unicodedata

    name = "Zoë Ångström"
    first = pupil(say, "--subject-dob", "2015-05-02", subject=unicodedata.normalize("NFD", name))
    assert subjects(vault.path, first) == [{"name": name, "role": "pupil", "person": 1}]
    second = pupil(say, "--subject-dob", "2015-05-02", subject=name)
    assert subjects(vault.path, second)[0]["person"] == 1 and people_count(vault.path) == 1


def test_a_subject_given_by_number_takes_the_person_s_name(vault: VaultInfo, say: Say) -> None:
    assert invoke("person", "add", "Amy Price", "--dob", "2016-03-14").exit_code == 0
    result = invoke(
        "record",
        "--category",
        "child-protection",
        "--subject-id",
        "1",
        "--disclosed-by",
        "Amy",
        "--relationship",
        "pupil",
        "--where",
        "class",
        "--text-file",
        say("She said it."),
    )
    assert result.exit_code == 0, result.stderr
    found = subjects(vault.path, result.stdout.strip())
    assert found == [{"name": "Amy Price", "role": "pupil", "person": 1}]


def test_record_without_a_date_of_birth_links_no_one(vault: VaultInfo, say: Say) -> None:
    reference = pupil(say)
    assert subjects(vault.path, reference) == [{"name": "Amy Price", "role": "pupil"}]
    assert people_count(vault.path) == 0


@pytest.mark.parametrize(
    ("extra", "code", "said"),
    [
        (("--subject-dob", "2030-01-01"), 2, "in the future"),
        (("--subject-dob", "2016-03-14", "--subject-dob", "2016-03-15"), 2, "dates of birth"),
        (("--subject-id", "7"), 4, "there is no person 7"),
        (("--subject-id", "x"), 2, "not a person's number"),
    ],
)
def test_bad_subject_links_save_nothing(
    vault: VaultInfo, say: Say, extra: tuple[str, ...], code: int, said: str
) -> None:
    args = record_args(say("She said it."), category="child-protection", role="pupil")
    result = invoke(*args, *extra)
    assert result.exit_code == code, result.stderr
    assert said in result.stderr
    with sqlite3.connect(vault.path) as db:
        assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
    assert people_count(vault.path) == 0


def test_on_a_terminal_the_people_of_that_name_are_offered(
    vault: VaultInfo, terminal: None
) -> None:
    for dob in ("2016-03-14", "2017-05-01"):
        assert invoke("person", "add", "Amy Price", "--dob", dob).exit_code == 0
    answers = [
        "1",  # category: the first listed
        "Amy Price",
        "1",  # role: pupil
        "n",  # anyone else?
        "2",  # which Amy Price: the one born in 2017
        "Amy",
        "pupil",
        "the classroom",
        "",  # received by: me
        "",  # when: now
        "She said it.",
        ".",
        "n",  # observations?
        "y",  # save
    ]
    result = invoke("record", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.stderr
    assert "born 2016-03-14" in result.stderr and "born 2017-05-01" in result.stderr
    assert subjects(vault.path, result.stdout.strip())[0]["person"] == 2


@on_both_engines
def test_on_a_terminal_a_new_person_is_added_with_the_case(
    vault: VaultInfo, terminal: None
) -> None:
    assert invoke("person", "add", "Ben Price", "--dob", "2018-09-14").exit_code == 0
    answers = [
        "1",
        "Cara Lee",
        "1",
        "n",
        "2015-07-01",  # not among the people: her date of birth adds her
        "Year 6",
        "Cara",
        "pupil",
        "the hall",
        "",
        "",
        "She said it.",
        ".",
        "n",
        "y",
    ]
    result = invoke("record", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.stderr
    assert subjects(vault.path, result.stdout.strip())[0]["person"] == 2
    shown = json.loads(invoke("person", "show", "2", "--json").stdout)
    assert (shown["name"], shown["dob"], shown["year_group"]) == (
        "Cara Lee",
        "2015-07-01",
        "Year 6",
    )


@on_both_engines
def test_an_existing_case_s_subject_is_linked_afterwards(vault: VaultInfo, say: Say) -> None:
    reference = pupil(say)
    assert invoke("person", "add", "Amy Price", "--dob", "2016-03-14").exit_code == 0
    linked = invoke("person", "link-case", "1", reference, "--json")
    assert linked.exit_code == 0, linked.stderr
    found = json.loads(linked.stdout)
    assert (found["subject"], found["number"]) == ("Amy Price", 2)
    assert json.loads(invoke("person", "show", "1", "--json").stdout)["cases"] == [reference]
    timeline = invoke("timeline", reference)
    assert "Subject linked to a person" in timeline.stdout
    again = invoke("person", "link-case", "1", reference)
    assert again.exit_code == 2 and "already linked" in again.stderr
    assert invoke("verify").exit_code == 0


def test_a_subject_linked_to_a_person_of_another_name_is_warned_of(
    vault: VaultInfo, say: Say
) -> None:
    reference = pupil(say, subject="Dana Price")
    assert invoke("person", "add", "Amy Price", "--dob", "2016-03-14").exit_code == 0
    linked = invoke("person", "link-case", "1", reference, "--subject", "Dana Price")
    said = " ".join(linked.stderr.split())
    assert linked.exit_code == 0 and "Dana Price is not the name of person 1" in said
    same = invoke("person", "add", "Dana Price", "--dob", "1985-01-01")
    assert same.exit_code == 0
    relinked = invoke("person", "link-case", "2", reference, "--subject", "Dana Price")
    assert relinked.exit_code == 0 and "is not the name" not in relinked.stderr


def test_a_link_to_a_person_never_added_is_caught(vault: VaultInfo, say: Say) -> None:
    """A subject linked to a person who is not in the chronology: the case's entry is signed,
    so only a forger could write it; with the person row removed, verify says so."""
    pupil(say, "--subject-dob", "2016-03-14")
    with sqlite3.connect(vault.path) as db:
        db.execute("DELETE FROM people")
    result = invoke("verify")
    assert result.exit_code == 1
    assert "person 1" in result.stderr
