"""Schedules as data: parsing, words, and next runs, daylight-saving transitions included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.beat.timing import (
    ScheduleError,
    Timing,
    describe,
    next_run,
    parse_cron,
    parse_every,
    parse_timing,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def runs_between(cron: str, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every run of cron in [start, end), found by chaining next_run like beat does."""
    timing, found, at = parse_cron(cron), [], start - timedelta(microseconds=1)
    while (at := next_run(timing, at, tz)) < end:
        found.append(at)
    return found


def local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%m-%d %H:%M %Z")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("61 * * * *", "minute field '61'"),
        ("0 25 * * *", "hour field '25'"),
        ("* * *", "need five fields"),
        ("x * * * *", "minute field 'x': not a number"),
        ("0 0 30 2 *", "never runs"),
        ("*/0 * * * *", "minute field"),
    ],
)
def test_a_bad_cron_line_gets_one_line_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_cron(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text", ["0s", "-5s", "5x", "", "1.5m"])
def test_an_interval_must_be_a_positive_whole_number_of_units(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_every(text)


def test_intervals_accept_units() -> None:
    assert [parse_every(t) for t in ("30s", "5m", "2h", "1d", "45", 90)] == [
        30,
        300,
        7200,
        86400,
        45,
        90,
    ]


def test_a_schedule_spec_round_trips_and_is_described_in_words() -> None:
    assert parse_timing({"cron": "0 2 * * *"}).as_spec() == {"cron": "0 2 * * *"}
    assert parse_timing({"every": 300}) == Timing(every=300)
    assert describe(parse_timing({"cron": "0 2 * * *"})) == "At 02:00"
    assert describe(Timing(every=300)) == "Every 5 minutes"
    with pytest.raises(ScheduleError):
        parse_timing({"cron": "0 2 * * *", "every": 5})


def test_an_interval_runs_that_long_after_the_baseline() -> None:
    at = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert next_run(Timing(every=120), at, BERLIN) == at + timedelta(seconds=120)


def test_day_of_month_and_day_of_week_together_match_either_like_cron() -> None:
    runs = runs_between(
        "0 9 13 * 5",
        ZoneInfo("UTC"),
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 22, tzinfo=UTC),
    )
    assert [r.day for r in runs] == [6, 13, 20]  # Fridays, and the 13th (also a Friday)


def test_a_daily_run_in_the_spring_gap_fires_once_when_the_clocks_jump_in_berlin() -> None:
    runs = runs_between(
        "30 2 * * *", BERLIN, datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    )
    assert [local(r, BERLIN) for r in runs] == [
        "03-28 02:30 CET",
        "03-29 03:00 CEST",
        "03-30 02:30 CEST",
    ]


def test_a_daily_run_in_the_repeated_autumn_hour_fires_once_in_berlin() -> None:
    runs = runs_between(
        "30 2 * * *", BERLIN, datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC)
    )
    assert [local(r, BERLIN) for r in runs] == [
        "10-24 02:30 CEST",
        "10-25 02:30 CEST",
        "10-26 02:30 CET",
    ]


def test_a_daily_run_fires_once_a_day_across_both_new_york_transitions() -> None:
    spring = runs_between(
        "30 2 * * *",
        NEW_YORK,
        datetime(2026, 3, 7, 12, tzinfo=UTC),
        datetime(2026, 3, 10, 12, tzinfo=UTC),
    )
    assert [local(r, NEW_YORK) for r in spring] == [
        "03-08 03:00 EDT",
        "03-09 02:30 EDT",
        "03-10 02:30 EDT",
    ]
    autumn = runs_between(
        "30 1 * * *",
        NEW_YORK,
        datetime(2026, 10, 31, 12, tzinfo=UTC),
        datetime(2026, 11, 3, 12, tzinfo=UTC),
    )
    assert [local(r, NEW_YORK) for r in autumn] == [
        "11-01 01:30 EDT",
        "11-02 01:30 EST",
        "11-03 01:30 EST",
    ]


@pytest.mark.parametrize(
    ("tz", "day"),
    [
        (BERLIN, datetime(2026, 3, 29)),
        (BERLIN, datetime(2026, 10, 25)),
        (NEW_YORK, datetime(2026, 3, 8)),
        (NEW_YORK, datetime(2026, 11, 1)),
    ],
)
def test_an_hourly_run_fires_once_per_real_hour_across_a_transition(
    tz: ZoneInfo, day: datetime
) -> None:
    start = day.replace(tzinfo=tz).astimezone(UTC)
    end = (day + timedelta(days=1)).replace(tzinfo=tz).astimezone(UTC)
    runs = runs_between("0 * * * *", tz, start, end)
    assert len(runs) == (end - start) / timedelta(hours=1)  # 23 or 25 on the day itself
    assert all(b - a == timedelta(hours=1) for a, b in zip(runs, runs[1:], strict=False))


def test_fixed_hours_in_the_spring_gap_collapse_into_the_jump_not_a_double() -> None:
    runs = runs_between(
        "0 1-4 * * *",
        BERLIN,
        datetime(2026, 3, 29, tzinfo=BERLIN),
        datetime(2026, 3, 30, tzinfo=BERLIN),
    )
    assert [local(r, BERLIN) for r in runs] == [
        "03-29 01:00 CET",
        "03-29 03:00 CEST",
        "03-29 04:00 CEST",
    ]


def test_next_run_is_strictly_after_the_baseline() -> None:
    at = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    assert next_run(parse_cron("0 2 * * *"), at, ZoneInfo("UTC")) == at + timedelta(days=1)
