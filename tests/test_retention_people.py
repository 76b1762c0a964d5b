"""Retention counted from the dates of birth of the people a case is about, and legal holds
placed on a person: every case about them held."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.conftest import VaultInfo, invoke
from tests.flowkit import Say, entry_count, record
from tests.test_erasure import DEPUTY, DEPUTY_PASSPHRASE, closed_case, reason
from tests.test_erasure import two as two  # the fixture


def add_person(name: str, dob: str, *extra: str) -> int:
    added = invoke("person", "add", name, "--dob", dob, *extra)
    assert added.exit_code == 0, added.stderr
    return int(added.stdout.strip())


def dated(*extra: str) -> dict[str, dict[str, Any]]:
    found = invoke("retention", "--all", "--json", *extra)
    assert found.exit_code == 0, found.stderr
    return {c["case"]: c for c in json.loads(found.stdout)["cases"]}


def test_a_linked_subject_dates_a_child_protection_case(
    vault: VaultInfo,
    say: Say,
    set_clock,  # type: ignore[no-untyped-def]
) -> None:
    set_clock(datetime(2026, 2, 2, 12, 0, tzinfo=UTC))
    amy = add_person("Amy Pupil", "2001-02-28")
    linked = str(record(say, "--subject-id", str(amy), category="child-protection")["case"])
    unlinked = str(
        record(say, category="child-protection", subject="Bo Pupil", role="pupil")["case"]
    )
    later = str(record(say, category="child-protection", subject="Cy Pupil", role="pupil")["case"])
    cy = add_person("Cy Pupil", "2010-06-01")
    assert invoke("person", "link-case", str(cy), later).exit_code == 0

    found = dated()
    assert found[linked]["due"] == "2026-02-28" and found[linked]["note"] is None
    assert found[linked]["then"] == "review"
    assert "date of birth not recorded" in found[unlinked]["note"]
    assert found[later]["due"] == "2035-06-01"
    # Not yet due: nothing in `retention` or `cases --overdue`.
    assert json.loads(invoke("retention", "--json").stdout)["cases"] == []
    set_clock(datetime(2026, 2, 28, 9, 0, tzinfo=UTC))
    [due] = json.loads(invoke("retention", "--json").stdout)["cases"]
    assert due["case"] == linked
    overdue = invoke("cases", "--overdue", env={"COLUMNS": "200"})
    assert linked in overdue.stdout and "retention: due for review" in overdue.stdout
    assert overdue.stdout.count("retention:") == 1  # the others are overdue for referral


def test_with_several_subjects_the_youngest_is_kept_longest(
    vault: VaultInfo,
    say: Say,
    set_clock,  # type: ignore[no-untyped-def]
) -> None:
    set_clock(datetime(2026, 2, 2, 12, 0, tzinfo=UTC))
    older = add_person("Amy Pupil", "2001-02-28")
    younger = add_person("Ben Pupil", "2012-02-29")
    both = record(
        say,
        "--subject-id",
        str(older),
        "--subject-id",
        str(younger),
        category="child-protection",
    )
    # 29 February 2012 and 25 years: 1 March 2037, never a day early.
    assert dated()[str(both["case"])]["due"] == "2037-03-01"


def test_a_hold_on_a_person_holds_every_case_about_them(two: VaultInfo, say: Say) -> None:
    amy = add_person("Amy Pupil", "2012-05-01")
    first = closed_case(say)  # its subject, Amy Pupil, linked afterwards
    assert invoke("person", "link-case", str(amy), first).exit_code == 0
    second = str(record(say, "--subject-id", str(amy), category="child-protection")["case"])
    other = closed_case(say, "staff-misuse")  # about someone else
    count = entry_count(two.path)

    # Bad input: each refused with its code, nothing written.
    assert invoke("hold", "Nobody Known", *reason(say)).exit_code == 4
    assert invoke("hold", "99", *reason(say)).exit_code == 4
    assert invoke("hold", "SG-2026-01", *reason(say)).exit_code == 2  # a case, misshapen
    assert invoke("hold", "release", str(amy)).exit_code == 3  # not held
    as_deputy = {"SAFEGUARD_USER": DEPUTY, "SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE}
    deputy = invoke("hold", str(amy), *reason(say), env=as_deputy)
    assert deputy.exit_code == 3 and "only a DSL or the headteacher" in deputy.stderr
    assert entry_count(two.path) == count

    held = invoke("hold", "amy pupil", *reason(say, "The inquiry asked for her records."), "--json")
    assert held.exit_code == 0, held.stderr
    document = json.loads(held.stdout)
    assert (document["person"], document["case"], document["released"]) == (amy, None, False)
    assert invoke("hold", str(amy), *reason(say)).exit_code == 3  # held already

    count = entry_count(two.path)
    refused = invoke("erase", first, *reason(say))
    assert refused.exit_code == 3 and f"about person {amy}, who is held" in refused.stderr
    forced = invoke("erase", second, "--force", *reason(say))
    assert forced.exit_code == 3 and "who is held" in forced.stderr
    assert entry_count(two.path) == count

    listed = json.loads(invoke("hold", "list", "--json").stdout)["holds"]
    assert [(h["person"], h["name"]) for h in listed] == [(amy, "Amy Pupil")]
    shown = invoke("hold", "list", env={"COLUMNS": "200"})
    assert f"person {amy} (Amy Pupil)" in shown.stdout
    everything = dated()
    assert everything[first]["hold"]["person"] == amy
    assert everything[other]["hold"] is None
    table = invoke("retention", "--all", env={"COLUMNS": "250"})
    assert f"held (person {amy}, entry" in table.stdout
    assert invoke("verify").exit_code == 0

    released = invoke("hold", "release", str(amy), "--json")
    assert released.exit_code == 0, released.stderr
    assert json.loads(released.stdout)["released"] is True
    assert json.loads(invoke("hold", "list", "--json").stdout)["holds"] == []
    audit = json.loads(invoke("audit", "--json").stdout)
    held = [(e["case"], e["kind"]) for e in audit if str(e.get("kind")).startswith("person_")]
    assert held == [(f"person {amy}", "person_hold"), (f"person {amy}", "person_hold_released")]
    assert invoke("erase", first, *reason(say)).exit_code == 0
    assert invoke("verify").exit_code == 0
