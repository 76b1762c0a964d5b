"""Working-day deadlines, the config file, and times as people type them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguarding import config, deadlines, moments
from safeguarding.deadlines import ClosedDays
from safeguarding.errors import UsageError
from tests.conftest import SetClock, VaultInfo, invoke

MONDAY = date(2026, 11, 23)
FRIDAY = date(2026, 11, 27)


def test_one_working_day_skips_the_weekend() -> None:
    assert deadlines.add_working_days(MONDAY, 1) == MONDAY + timedelta(days=1)
    assert deadlines.add_working_days(FRIDAY, 1) == FRIDAY + timedelta(days=3)  # Monday
    saturday = FRIDAY + timedelta(days=1)
    assert deadlines.add_working_days(saturday, 1) == FRIDAY + timedelta(days=3)
    assert deadlines.add_working_days(saturday, 0) == FRIDAY + timedelta(days=3)
    assert deadlines.add_working_days(MONDAY, 0) == MONDAY
    assert deadlines.add_working_days(MONDAY, 5) == MONDAY + timedelta(days=7)


def test_closure_days_are_not_working_days() -> None:
    closures = {FRIDAY + timedelta(days=3), FRIDAY + timedelta(days=4)}  # Mon, Tue
    assert deadlines.add_working_days(FRIDAY, 1, closures) == FRIDAY + timedelta(days=5)


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)),
    st.integers(min_value=0, max_value=30),
    st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 3, 1)), max_size=20),
)
def test_a_deadline_is_a_working_day_that_many_working_days_on(
    start: date, days: int, closures: set[date]
) -> None:
    due = deadlines.add_working_days(start, days, closures)
    assert deadlines.is_working_day(due, closures)
    assert due >= start
    # From a day off, even "0 working days" means the next working day.
    least = 0 if deadlines.is_working_day(start, closures) else 1
    assert deadlines.working_days_between(start, due, closures) == max(days, least)


def test_a_bank_holiday_is_not_a_working_day() -> None:
    friday = date(2026, 5, 1)  # before the early May bank holiday, Monday 4 May
    england = ClosedDays()
    assert deadlines.add_working_days(friday, 1, england) == date(2026, 5, 5)
    assert deadlines.add_working_days(friday, 0, england) == friday
    assert deadlines.add_working_days(friday, 1) == date(2026, 5, 4)  # weekends alone
    # A bank holiday on a Saturday is taken on the Monday: Boxing Day 2026.
    assert deadlines.add_working_days(date(2026, 12, 24), 1, england) == date(2026, 12, 29)
    assert deadlines.describe(date(2026, 5, 5), friday, england) == "in 1 working day"
    assert deadlines.describe(date(2026, 5, 5), friday) == "in 2 working days"
    assert deadlines.describe(friday, date(2026, 5, 5), england) == "1 working day overdue"


def test_scotland_has_bank_holidays_of_its_own() -> None:
    new_years_eve = date(2025, 12, 31)
    england = ClosedDays(country="GB", subdivision="ENG")
    scotland = ClosedDays(country="GB", subdivision="SCT")
    assert deadlines.add_working_days(new_years_eve, 1, england) == date(2026, 1, 2)
    assert deadlines.add_working_days(new_years_eve, 1, scotland) == date(2026, 1, 5)
    # Easter Monday is England's, and the first Monday in August Scotland's.
    assert date(2026, 4, 6) in england and date(2026, 4, 6) not in scotland
    assert date(2026, 8, 3) in scotland and date(2026, 8, 3) not in england


def test_the_schools_closure_days_count_on_top_of_the_bank_holidays() -> None:
    closed = ClosedDays(frozenset({date(2026, 5, 5)}))
    assert deadlines.add_working_days(date(2026, 5, 1), 1, closed) == date(2026, 5, 6)
    assert date(2026, 5, 4) in closed and date(2026, 5, 5) in closed
    assert date(2026, 5, 6) not in closed


def test_the_calendar_comes_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('closure_days = ["2026-05-05"]\n')
    england = config.load(path).closure_days
    assert {date(2026, 5, 4), date(2026, 5, 5)} <= {d for d in DAYS_2026 if d in england}
    assert date(2026, 1, 2) not in england
    path.write_text('closure_days = ["2026-05-05"]\n[calendar]\ncountry = "GB"\nsubdiv = "SCT"\n')
    scotland = config.load(path).closure_days
    assert date(2026, 1, 2) in scotland and date(2026, 5, 5) in scotland
    assert date(2026, 4, 6) not in scotland
    # The country alone: the UK with no part named is England, as with no [calendar] at all.
    path.write_text('[calendar]\ncountry = "gb"\n')
    assert {d for d in DAYS_2026 if d in config.load(path).closure_days} == {
        d for d in DAYS_2026 if d in config.load(tmp_path / "none.toml").closure_days
    }
    # Another country's, as the holidays package knows them: Ireland's St Patrick's Day.
    path.write_text('[calendar]\ncountry = "IE"\n')
    ireland = config.load(path).closure_days
    assert date(2026, 3, 17) in ireland and date(2026, 3, 17) not in england


DAYS_2026 = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]


def test_a_one_day_lado_deadline_skips_the_may_bank_holiday(
    vault: VaultInfo, say: Callable[[str], str], set_clock: SetClock
) -> None:
    from tests.flowkit import record

    set_clock(datetime(2026, 5, 1, 14, 0, tzinfo=UTC))  # Friday 1 May 2026, 15:00 in London
    case = record(say, "--at", "2026-05-01 09:00", category="staff-misuse")["case"]
    (listed,) = json.loads(invoke("cases", "--json").stdout)
    assert listed["case"] == case and listed["due"] == "2026-05-05"
    note = invoke("note", case, "--text-file", say("Called the LADO's office: no answer."))
    assert note.exit_code == 0, note.stderr
    assert "Tue 05 May 2026" in note.stderr
    set_clock(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))  # the bank holiday: not overdue yet
    assert json.loads(invoke("cases", "--overdue", "--json").stdout) == []
    set_clock(datetime(2026, 5, 6, 10, 0, tzinfo=UTC))
    (late,) = json.loads(invoke("cases", "--overdue", "--json").stdout)
    assert late["overdue"] == [{"what": "referral to lado", "due": "2026-05-05"}]


def test_help_and_commands_without_deadlines_do_not_load_the_holidays() -> None:
    code = (
        "import sys\n"
        "from safeguarding.cli.app import main\n"
        "for args in (['--help'], ['categories']):\n"
        "    sys.argv = ['safeguard', *args]\n"
        "    try:\n        main()\n    except SystemExit as done:\n"
        "        assert done.code == 0, args\n"
        "print('HOLIDAYS', 'holidays' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "HOLIDAYS False" in result.stdout


def test_describe() -> None:
    assert deadlines.describe(MONDAY, MONDAY) == "due today"
    assert deadlines.describe(FRIDAY, MONDAY) == "in 4 working days"
    assert deadlines.describe(MONDAY, FRIDAY) == "4 working days overdue"
    assert deadlines.describe(FRIDAY, FRIDAY + timedelta(days=1)) == "1 working day overdue"


def test_at_accepts_iso_and_day_first_forms_in_local_time_and_refuses_the_future() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    for text in (
        "2026-11-20 14:30",
        "2026-11-20T14:30",
        "2026-11-20",
        "20/11/2026",  # as a date is written in England: day first
        "20/11/2026 14:30",
        " 20/11/2026  14:30 ",
    ):
        moment = moments.parse_at(text, now)
        assert moment.tzinfo is not None
        assert moments.local_date(moment) == date(2026, 11, 20), text
    assert moments.local_text(moments.parse_at("1/2/2026 9:05", now)) == "2026-02-01 09:05"
    yesterday = moments.local_date(now) - timedelta(days=1)
    assert moments.local_text(moments.parse_at("Yesterday 16:00", now)) == f"{yesterday} 16:00"
    assert moments.local_date(moments.parse_at("today", now)) == moments.local_date(now)
    assert moments.parse_at("2026-11-20T14:30+00:00", now) == datetime(
        2026, 11, 20, 14, 30, tzinfo=UTC
    )
    with pytest.raises(UsageError, match="in the future"):
        moments.parse_at("2026-11-25 09:00", now)
    for bad in (
        "",
        "2026-11-31",
        "tomorrow",
        "2026-11-20 25:00",
        "31/02/2026",  # no such day
        "11/24/2026",  # month first: there is no 24th month
        "20/11/26",  # the year in full
        "20/11/2026 9",
        "yesterday at 4",
    ):
        with pytest.raises(UsageError, match="not a date or time"):
            moments.parse_at(bad, now)


def test_a_due_date_may_be_written_day_first() -> None:
    assert moments.parse_due("27/11/2026") == moments.parse_due("2026-11-27") == date(2026, 11, 27)
    for bad in ("31/11/2026", "next friday", "11/27/2026"):
        with pytest.raises(UsageError, match="not a date"):
            moments.parse_due(bad)


@given(st.text(max_size=30))
def test_parsing_any_text_either_works_or_is_a_usage_error(text: str) -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    try:
        moment = moments.parse_at(text, now)
    except UsageError:
        return
    assert moment <= now and moment.tzinfo is not None


def test_a_missing_config_file_means_the_defaults(tmp_path: Path) -> None:
    settings = config.load(tmp_path / "nothing.toml")
    assert not settings.exists and settings.contacts == {} and settings.categories_file is None


def test_the_config_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'school_name = "Caldecote Primary School"\n'
        'closure_days = ["2026-12-21..2026-12-23", "2027-01-04", 2027-02-15]\n'
        "[contacts.lado]\n"
        'name = "County LADO"\nphone = "01234 000000"\n'
        "[contacts.police]\n"
        'phone = "101"\n'
    )
    settings = config.load(path)
    assert settings.school_name == "Caldecote Primary School"
    assert settings.closure_days.school == {
        date(2026, 12, 21),
        date(2026, 12, 22),
        date(2026, 12, 23),
        date(2027, 1, 4),
        date(2027, 2, 15),
    }
    assert str(settings.contacts["lado"]) == "County LADO · 01234 000000"
    assert settings.contacts["police"].phone == "101"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('school = "x"', "'school'"),
        ("school_name = 3", "'school_name'"),
        ('closure_days = "2026-12-25"', "'closure_days'"),
        ('closure_days = ["Christmas"]', "'closure_days'"),
        ('closure_days = ["2026-12-31..2026-12-01"]', "'closure_days'"),
        ('[contacts.fire]\nphone = "999"', "'contacts.fire'"),
        ('[contacts.lado]\nfax = "1"', "'contacts.lado.fax'"),
        ("[contacts.lado]\nphone = 123", "'contacts.lado.phone'"),
        ("this is not toml", "not valid TOML"),
        ('calendar = "GB"', "'calendar'"),
        ('[calendar]\ncounty = "GB"', "'calendar.county'"),
        ("[calendar]\ncountry = 44", "'calendar.country'"),
        ('[calendar]\ncountry = "XX"', "'calendar.country' 'XX'"),
        ('[calendar]\ncountry = "England"', "'calendar.country' 'ENGLAND'"),
        ('[calendar]\nsubdiv = "Cornwall"', "'calendar.subdiv' 'Cornwall' is not a part of GB"),
        ('[calendar]\ncountry = "IS"\nsubdiv = "1"', "'calendar.subdiv'"),
    ],
)
def test_a_bad_config_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, key: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(body)
    with pytest.raises(UsageError) as caught:
        config.load(path)
    assert key in caught.value.message
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(path))
    result = invoke("categories")
    assert result.exit_code == 2 and key in result.stderr


def test_the_default_config_lives_in_the_user_config_folder(tmp_path: Path) -> None:
    # conftest points XDG_CONFIG_HOME into the test's home
    assert config.default_path() == tmp_path / "home" / "config" / "safeguard" / "config.toml"


def test_a_config_file_named_by_the_environment_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import invoke

    monkeypatch.setenv("SAFEGUARD_CONFIG", str(tmp_path / "misspelt.toml"))
    result = invoke("categories")
    assert result.exit_code == 2
    assert "there is no config file" in result.stderr and "misspelt.toml" in result.stderr
    monkeypatch.delenv("SAFEGUARD_CONFIG")
    assert invoke("categories").exit_code == 0  # no config at all: the defaults


def test_a_years_bank_holidays_are_worked_out_once_then_read_from_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from safeguarding import deadlines

    first = deadlines.ClosedDays().bank_holidays(2031)
    assert date(2031, 5, 5) in first  # the early May bank holiday

    def no_calendar(self: object, year: int | None) -> list[date]:
        raise AssertionError("the holidays package was asked again")

    monkeypatch.setattr(deadlines.ClosedDays, "_calendar", no_calendar)
    assert deadlines.ClosedDays().bank_holidays(2031) == first
    # Another place is another entry: Scotland's is worked out, not taken from England's.
    with pytest.raises(AssertionError, match="asked again"):
        deadlines.ClosedDays(subdivision="SCT").bank_holidays(2031)
