"""Retention rules are data: the packaged file carries the schools' schedule, and each rule gives
the date its anchors make, leap days included, and never a guessed one."""

from __future__ import annotations

from datetime import date

import pytest

from safeguarding import categories, retention_rules
from safeguarding.errors import UsageError
from safeguarding.retention_rules import Anchors, Period, Rule, add_years, due

CHILD = Rule((Period("birth", 25),), "review")
ALLEGATION = Rule((Period("disclosure", 10), Period("retirement")), "review")
MALICIOUS = Rule((Period("closure"),), "erase")
SIX_AFTER_CLOSING = Rule((Period("closure", 6),), "erase")

D = date


@pytest.mark.parametrize(
    ("rule", "anchors", "on", "then", "noted"),
    [
        # a child protection file: date of birth + 25 years
        (CHILD, Anchors(D(2026, 3, 2), birth=D(2014, 6, 30)), D(2039, 6, 30), "review", None),
        # born on a leap day: 25 years on has no 29 February, so 1 March (never a day early)
        (CHILD, Anchors(D(2026, 3, 2), birth=D(2012, 2, 29)), D(2037, 3, 1), "review", None),
        # 28 February stays 28 February
        (CHILD, Anchors(D(2026, 3, 2), birth=D(2012, 2, 28)), D(2037, 2, 28), "review", None),
        # 29 February + 28 years is a leap year again
        (
            Rule((Period("birth", 28),), "review"),
            Anchors(D(2026, 3, 2), birth=D(2012, 2, 29)),
            D(2040, 2, 29),
            "review",
            None,
        ),
        # no date of birth: counted from the disclosure (the child was born before it)
        (CHILD, Anchors(D(2026, 3, 2)), D(2051, 3, 2), "review", "at the latest"),
        # an allegation: retirement (born 1990, 67 in 2057) is later than 10 years on
        (ALLEGATION, Anchors(D(2026, 5, 4), birth=D(1990, 1, 15)), D(2057, 1, 15), "review", None),
        # ... and 10 years on is later for someone near retirement
        (ALLEGATION, Anchors(D(2026, 5, 4), birth=D(1961, 8, 1)), D(2036, 5, 4), "review", None),
        # an allegation on 29 February 2028: ten years on is 1 March 2038
        (ALLEGATION, Anchors(D(2028, 2, 29), birth=D(1960, 1, 1)), D(2038, 3, 1), "review", None),
        # no date of birth: the ten years alone, then reviewed
        (ALLEGATION, Anchors(D(2026, 5, 4)), D(2036, 5, 4), "review", "not recorded"),
        # a malicious allegation: erased once closed
        (MALICIOUS, Anchors(D(2026, 5, 4), D(2026, 6, 1)), D(2026, 6, 1), "erase", None),
        # ... but an open case has no date
        (MALICIOUS, Anchors(D(2026, 5, 4)), None, "erase", "while the case is open"),
        # from the closing, on a leap day
        (SIX_AFTER_CLOSING, Anchors(D(2023, 1, 9), D(2024, 2, 29)), D(2030, 3, 1), "erase", None),
        # a rule that would erase is only reviewed when a date of birth is missing
        (
            Rule((Period("birth", 25),), "erase"),
            Anchors(D(2026, 3, 2)),
            D(2051, 3, 2),
            "review",
            "not recorded",
        ),
    ],
)
def test_a_rule_dates_a_case(
    rule: Rule, anchors: Anchors, on: date | None, then: str, noted: str | None
) -> None:
    found = due(rule, anchors, retirement_age=67)
    assert (found.on, found.then) == (on, then)
    if noted is None:
        assert found.note is None
    else:
        assert found.note is not None and noted in found.note


def test_the_retirement_age_is_the_files() -> None:
    earlier = due(ALLEGATION, Anchors(D(2026, 5, 4), birth=D(1990, 1, 15)), retirement_age=60)
    assert earlier.on == D(2050, 1, 15)
    assert "retirement age (60)" in earlier.rule


def test_adding_years_to_leap_days() -> None:
    assert add_years(D(2024, 2, 29), 1) == D(2025, 3, 1)
    assert add_years(D(2024, 2, 29), 4) == D(2028, 2, 29)
    assert add_years(D(2024, 2, 29), 0) == D(2024, 2, 29)
    assert add_years(D(2023, 12, 31), 25) == D(2048, 12, 31)


def test_the_packaged_categories_carry_the_schedule() -> None:
    found = categories.load()
    assert found.retirement_age == 67
    by_code = {c.code: c for c in found}
    for code in ("staff-misuse", "staff-pupil-contact"):
        retention = by_code[code].retention
        assert retention is not None
        assert retention.rule == ALLEGATION
        assert retention.for_outcome("malicious") == MALICIOUS
        assert retention.for_outcome("unfounded") == ALLEGATION
    for code in ("child-protection", "pupil-under-13", "adult-posing-as-child"):
        retention = by_code[code].retention
        assert retention is not None and retention.rule == CHILD
    assert by_code["low-level-concern"].retention is None


GOOD = """
[retention]
retirement_age = 65

[[category]]
code = "x"
title = "X"
section = "1"
route = "none"
outcomes = "allegation"
guidance = "g"

[category.retention]
keep = [{ from = "disclosure", years = 6 }]
then = "erase"
"""


def test_a_schools_own_rules_and_retirement_age() -> None:
    found = categories.parse(GOOD, "mine.toml")
    assert found.retirement_age == 65
    rule = found.get("x").retention
    assert rule is not None and rule.rule == Rule((Period("disclosure", 6),), "erase")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (('then = "erase"', 'then = "shred"'), "'then' must be 'review' or 'erase'"),
        (('from = "disclosure"', 'from = "birthday"'), "'from' must be one of"),
        (("years = 6", "years = -1"), "'years' must be a whole number"),
        (("years = 6", 'years = "6"'), "'years' must be a whole number"),
        (('keep = [{ from = "disclosure", years = 6 }]', "keep = []"), "'keep' must be a list"),
        (("retirement_age = 65", "retirement_age = 200"), "'retirement_age' must be"),
        (
            (
                'then = "erase"',
                'then = "erase"\n[category.retention.outcome.resolved]\n'
                'then = "erase"\nkeep = [{ from = "closure" }]',
            ),
            "'retention.outcome.resolved' is not one of its outcomes",
        ),
    ],
)
def test_a_bad_rule_is_named(change: tuple[str, str], said: str) -> None:
    with pytest.raises(UsageError) as raised:
        categories.parse(GOOD.replace(*change), "mine.toml")
    assert said in str(raised.value) and "mine.toml" in str(raised.value)


def test_rules_read_as_a_sentence() -> None:
    assert CHILD.describe(67) == "25 years from the date of birth, then review"
    assert ALLEGATION.describe(67) == (
        "the longer of 10 years from the disclosure or retirement age (67), then review"
    )
    assert MALICIOUS.describe(67) == "until the case's closing, then erase"
    assert retention_rules.DEFAULT_RETIREMENT_AGE == 67
