"""Retention rules on backup times alone: restic's `forget` semantics and duration parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguarding.errors import UsageError
from safeguarding.prune import Duration, Policy, kept


def at(day: str, hour: int = 2) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("36h", Duration(hours=36)),
        ("30d", Duration(days=30)),
        ("2w", Duration(days=14)),
        ("6m", Duration(months=6)),
        ("1y2m3d4h", Duration(1, 2, 3, 4)),
        (" 7D ", Duration(days=7)),
    ],
)
def test_durations_parse_as_restic_writes_them(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["", "36", "h", "1.5d", "-1d", "3 days", "1d 2h", "1s", "٣٦h", "²h", "123456h"]
)
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="not a duration"):
        Duration.parse(text)


def test_a_span_beyond_the_calendar_reaches_its_start() -> None:
    # 99999y looped for ever; 99999d and 99999h stay in the calendar.
    earliest = datetime.min.replace(tzinfo=UTC)
    assert Duration.parse("99999y").before(at("2026-11-24")) == earliest
    assert Duration.parse("99999m").before(at("2026-11-24")) == earliest
    assert Duration.parse("99999d").before(at("2026-11-24")) == at("2026-11-24") - timedelta(
        days=99999
    )


def test_months_follow_the_calendar() -> None:
    assert Duration(months=1).before(at("2026-03-31")) == at("2026-02-28")
    assert Duration(years=1).before(at("2024-02-29")) == at("2023-02-28")
    assert Duration(hours=36).before(at("2026-03-02", 12)) == at("2026-03-01", 0)


def test_keep_within_keeps_everything_near_the_newest_backup_not_now() -> None:
    times = [at("2026-01-01"), at("2026-01-20"), at("2026-01-25"), at("2026-01-31")]
    reasons = kept(times, Policy(within=Duration(days=10)))
    assert sorted(reasons) == [2, 3]
    assert reasons[3] == ["within 10d"]


def test_keep_within_is_strict_as_in_restic() -> None:
    # restic keeps a snapshot whose time is after (not at) the newest's time minus the span:
    # with nightly backups at 02:00, --keep-within 7d keeps seven nights, not eight.
    nights = [at(f"2026-01-{day:02d}") for day in range(1, 11)]
    reasons = kept(nights, Policy(within=Duration(days=7)))
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9]
    assert 2 not in reasons  # exactly seven days before the newest: not within


def test_keep_within_zero_is_no_rule() -> None:
    assert Policy(within=Duration()).empty
    assert kept([at("2026-01-01"), at("2026-01-02")], Policy(within=Duration(), last=1)) == {
        1: ["last"]
    }


def test_daily_counts_days_that_have_backups_and_keeps_the_newest_of_each() -> None:
    times = [
        at("2025-12-31"),
        at("2026-01-01", 2),
        at("2026-01-01", 14),
        at("2026-01-05"),
        at("2026-01-09"),
    ]
    assert sorted(kept(times, Policy(daily=2))) == [3, 4]
    assert sorted(kept(times, Policy(daily=3))) == [2, 3, 4]  # not 1 Jan's 02:00


def test_two_backups_on_one_day_keep_only_the_later_unless_a_rule_has_room_left() -> None:
    # As restic (0.16 and later): a day keeps its newest backup.  The one exception is the
    # oldest backup of all, kept while a rule still has periods to fill, so a folder that is
    # younger than its policy loses none of its short history.
    morning, afternoon = at("2026-11-24", 2), at("2026-11-24", 14)
    assert kept([morning, afternoon], Policy(daily=7)) == {1: ["daily"], 0: ["oldest daily"]}
    assert kept([morning, afternoon], Policy(daily=1)) == {1: ["daily"]}
    older = at("2026-11-23")
    assert sorted(kept([older, morning, afternoon], Policy(daily=7))) == [0, 2]


def test_rules_combine_and_a_backup_kept_by_any_rule_is_kept() -> None:
    times = [at(f"2026-{m:02d}-15") for m in range(1, 13)] + [at("2026-12-16")]
    reasons = kept(times, Policy(last=1, monthly=3, yearly=2))
    assert reasons[12] == ["last", "monthly", "yearly"]
    # A second year is still to fill, so the oldest backup is kept for it, as restic does.
    assert reasons[0] == ["oldest yearly"]
    assert sorted(reasons) == [0, 9, 10, 12]
    assert sorted(kept(times, Policy(last=1, monthly=3, yearly=1))) == [9, 10, 12]


def test_an_empty_policy_is_empty_and_negative_counts_are_refused() -> None:
    assert Policy().empty and not Policy(daily=1).empty
    with pytest.raises(UsageError):
        Policy(weekly=-1)


moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@given(st.lists(moments, min_size=1, max_size=60), st.integers(1, 10))
def test_daily_keeps_one_backup_per_day_for_the_newest_days(
    times: list[datetime], days: int
) -> None:
    reasons = kept(times, Policy(daily=days))
    distinct = sorted({t.date() for t in times}, reverse=True)
    expected = {max(t for t in times if t.date() == day) for day in distinct[:days]}
    if len(distinct) < days:
        expected.add(min(times))  # restic's "oldest": the rule still had days to fill
    assert {times[i] for i in reasons} == expected


@given(st.lists(moments, min_size=1, max_size=40), st.integers(0, 72))
def test_keep_within_keeps_what_is_strictly_within_the_span_of_the_newest(
    times: list[datetime], hours: int
) -> None:
    reasons = kept(times, Policy(within=Duration(hours=hours)))
    newest = max(times)
    assert {i for i, t in enumerate(times) if newest - t < timedelta(hours=hours)} == set(reasons)
    if hours:
        assert any(times[i] == newest for i in reasons)
