"""People: `person add`, `list`, `show` and `link`, what each refuses (changing nothing), and
`verify` holding every person and link to the signed chronology."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeguarding.server import Server
from tests.conftest import SetClock, VaultInfo, invoke, on_both_engines
from tests.flowkit import sql_run, sql_value

MOMENT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed(set_clock: SetClock) -> None:
    set_clock(MOMENT)


def head(path: Path | Server) -> int:
    return int(sql_value(path, "SELECT head_seq FROM vault_meta"))


def rows(path: Path | Server, table: str) -> int:
    return int(sql_value(path, f"SELECT count(*) FROM {table}"))


def add(name: str, dob: str, *extra: str) -> int:
    result = invoke("person", "add", name, "--dob", dob, *extra)
    assert result.exit_code == 0, result.stderr
    return int(result.stdout.strip())


@on_both_engines
def test_a_person_is_added_listed_and_shown(vault: VaultInfo) -> None:
    amy = add("Amy Price", "2016-03-14", "--year-group", "Year 5", "--upn", "a123456789012")
    ben = add("Ben Price", "14/09/2018")
    assert (amy, ben) == (1, 2)

    listed = json.loads(invoke("person", "list", "--json").stdout)
    assert [(p["name"], p["dob"], p["upn"]) for p in listed["people"]] == [
        ("Amy Price", "2016-03-14", "A123456789012"),
        ("Ben Price", "2018-09-14", None),
    ]
    shown = invoke("person", "show", "1")
    assert shown.exit_code == 0, shown.stderr
    assert "Amy Price" in shown.stdout and "Year 5" in shown.stdout
    assert "2016-03-14" in shown.stdout
    # By name too, whatever its case and spacing, when only one person has it.
    by_name = json.loads(invoke("person", "show", "  amy   PRICE ", "--json").stdout)
    assert by_name["person"] == 1 and by_name["cases"] == []


@on_both_engines
def test_two_people_linked_see_each_other(vault: VaultInfo) -> None:
    add("Amy Price", "2016-03-14")
    add("Dana Price", "1988-01-02", "--role", "parent")
    linked = invoke("person", "link", "1", "2", "--as", "parent", "--json")
    assert linked.exit_code == 0, linked.stderr
    assert json.loads(linked.stdout)["as"] == "parent"
    amy = json.loads(invoke("person", "show", "1", "--json").stdout)
    dana = json.loads(invoke("person", "show", "2", "--json").stdout)
    assert amy["linked"] == [{"as": "parent", "person": 2, "name": "Dana Price"}]
    assert dana["linked"] == [{"as": "child", "person": 1, "name": "Amy Price"}]
    assert invoke("verify").exit_code == 0


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (("person", "add", "Amy", "--dob", "2027-01-01"), 2, "in the future"),
        (("person", "add", "Amy", "--dob", "14 March"), 2, "is not a date"),
        (("person", "add", "Amy", "--dob", "2016-02-30"), 2, "is not a date"),
        (("person", "add", "Amy", "--dob", "2016-03-14", "--role", "king"), 2, "unknown role"),
        (("person", "add", "Amy", "--dob", "2016-03-14", "--upn", "123"), 2, "a UPN is"),
        (("person", "add", " ", "--dob", "2016-03-14"), 2, "cannot be empty"),
        (("person", "show", "9"), 4, "there is no person 9"),
        (("person", "show", "Nobody Known"), 4, "no person of that name ('Nobody Known')"),
        (("person", "show", "SG-2026-0001"), 2, "is a case's reference"),
        (("person", "link", "1", "1", "--as", "sibling"), 2, "linked to themselves"),
        (("person", "link", "1", "9", "--as", "sibling"), 4, "there is no person 9"),
        (("person", "link", "1", "2", "--as", "cousin"), 2, "unknown link"),
        (("person", "link-case", "9", "SG-2026-0001"), 4, "there is no person 9"),
        (("person", "link-case", "1", "SG-2026-0009"), 4, "no case SG-2026-0009"),
        (("file", "9"), 4, "there is no person 9"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    vault: VaultInfo, args: tuple[str, ...], code: int, said: str
) -> None:
    add("Amy Price", "2016-03-14")
    add("Ben Price", "2018-09-14")
    before = head(vault.path), rows(vault.path, "people"), rows(vault.path, "person_links")
    result = invoke(*args)
    assert result.exit_code == code, result.stderr
    assert said in result.stderr
    assert result.stderr.startswith("safeguard: ") and "Traceback" not in result.stderr
    assert (head(vault.path), rows(vault.path, "people"), rows(vault.path, "person_links")) == (
        before
    )


def test_two_namesakes_are_told_apart_by_number(vault: VaultInfo) -> None:
    add("Sam Jones", "2015-01-01")
    add("Sam Jones", "2017-06-30")
    result = invoke("person", "show", "Sam Jones")
    assert result.exit_code == 2
    assert "2 people have that name" in result.stderr and "(1, 2)" in result.stderr
    assert json.loads(invoke("person", "show", "2", "--json").stdout)["dob"] == "2017-06-30"


def test_verify_catches_a_person_row_changed_by_hand(vault: VaultInfo) -> None:
    add("Amy Price", "2016-03-14")
    add("Ben Price", "2018-09-14")
    assert invoke("verify").exit_code == 0
    with sqlite3.connect(vault.path) as db:  # Ben's date of birth put in Amy's row
        dob = db.execute("SELECT dob FROM people WHERE id = 2").fetchone()[0]
        db.execute("UPDATE people SET dob = ? WHERE id = 1", (dob,))
    result = invoke("verify")
    assert result.exit_code == 1
    assert "person 1" in result.stderr


def test_verify_catches_a_person_added_or_removed_by_hand(vault: VaultInfo) -> None:
    add("Amy Price", "2016-03-14")
    with sqlite3.connect(vault.path) as db:
        db.execute(
            "INSERT INTO people SELECT 2, 1, name_tag, name, dob, year_group, upn, role, "
            "created_at FROM people WHERE id = 1"
        )
    assert invoke("verify").exit_code == 1
    with sqlite3.connect(vault.path) as db:
        db.execute("DELETE FROM people")
    result = invoke("verify")
    assert result.exit_code == 1
    assert "removed by hand" in result.stderr


@on_both_engines
def test_verify_without_a_passphrase_checks_people_too(vault: VaultInfo) -> None:
    add("Amy Price", "2016-03-14")
    sql_run(vault.path, "UPDATE people SET created_at = '2020-01-01T00:00:00.000000Z'")
    result = invoke("verify", "--no-passphrase")
    assert result.exit_code == 1, result.stderr
    assert "person 1" in result.stderr


def test_a_link_changed_by_hand_is_caught(vault: VaultInfo) -> None:
    add("Amy Price", "2016-03-14")
    add("Ben Price", "2018-09-14")
    add("Cal Price", "2019-09-14")
    assert invoke("person", "link", "1", "2", "--as", "sibling").exit_code == 0
    with sqlite3.connect(vault.path) as db:
        db.execute("UPDATE person_links SET person_b = 3")
    result = invoke("verify")
    assert result.exit_code == 1
    assert "link 1" in result.stderr


@on_both_engines
def test_people_stay_readable_and_verified_after_a_re_key(vault: VaultInfo) -> None:
    """Disabling a user turns the vault's keys: every person is sealed again under the new."""
    from safeguarding.vault import Role, Vault
    from tests.conftest import DEPUTY_PASSPHRASE

    add("Amy Price", "2016-03-14")
    add("Ben Price", "2018-09-14")
    assert invoke("person", "link", "1", "2", "--as", "sibling").exit_code == 0
    sealed_before = sql_value(vault.path, "SELECT name FROM people WHERE id = 1")
    alice = Vault.open(vault.path).unlock("alice", vault.passphrase)
    alice.add_user("Sam Patel", Role.DEPUTY, DEPUTY_PASSPHRASE)
    alice.disable_user("Sam Patel")
    alice.close()
    sealed_after = sql_value(vault.path, "SELECT name FROM people WHERE id = 1")
    assert sealed_after != sealed_before
    shown = json.loads(invoke("person", "show", "1", "--json").stdout)
    assert shown["name"] == "Amy Price"
    assert shown["linked"] == [{"as": "sibling", "person": 2, "name": "Ben Price"}]
    assert invoke("verify").exit_code == 0
