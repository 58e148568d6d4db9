"""The admin console's daylight-saving notes say exactly what beat does at a gap or an overlap:
checked against timing.next_run and against a DatabaseScheduler driven across the change."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from celery.schedules import crontab_parser

from scheduler.app import celery as app
from scheduler.beat import dst
from scheduler.beat import entries as store
from scheduler.beat.scheduler import DatabaseScheduler
from scheduler.beat.timing import Timing, next_run, parse_cron

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
JAN = datetime(2026, 1, 10, tzinfo=UTC)


def test_zones_change_offset_where_the_tz_database_says():
    spring, autumn = dst.shifts(BERLIN, JAN.date())
    assert (spring.at, spring.gap, spring.window) == (
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        True,
        (datetime(2026, 3, 29, 2, 0), datetime(2026, 3, 29, 3, 0)),
    )
    assert (autumn.at, autumn.gap, autumn.window) == (
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        False,
        (datetime(2026, 10, 25, 2, 0), datetime(2026, 10, 25, 3, 0)),
    )
    assert dst.shifts(ZoneInfo("UTC"), JAN.date()) == ()
    lord_howe = dst.shifts(ZoneInfo("Australia/Lord_Howe"), JAN.date())  # half-hour changes
    assert [abs(s.after - s.before) for s in lord_howe] == [timedelta(minutes=30)] * 2


@pytest.mark.parametrize(
    ("zone", "cron", "expected"),
    [
        (
            BERLIN,
            "30 2 * * *",
            [
                "2026-03-29: clocks in Europe/Berlin jump from 02:00 to 03:00; 02:30 does not "
                "exist, so it runs once, at 03:00 CEST (01:00 UTC)",
                "2026-10-25: clocks in Europe/Berlin go back from 03:00 to 02:00; 02:30 happens "
                "twice, and the entry runs once, at the first: 02:30 CEST (00:30 UTC)",
            ],
        ),
        (
            NEW_YORK,
            "0 * * * *",
            [
                "2026-03-08: clocks in America/New_York jump from 02:00 to 03:00; 02:00 does not "
                "exist, so that day has 1 fewer run: the run at 01:00 EST (06:00 UTC) is "
                "followed by the one at 03:00 EDT (07:00 UTC)",
                "2026-11-01: clocks in America/New_York go back from 02:00 to 01:00; 01:00 "
                "happens twice, and the entry runs at each (by real time): 01:00 EDT (05:00 UTC), "
                "01:00 EST (06:00 UTC)",
            ],
        ),
        (
            BERLIN,
            "0 2,3 * * *",
            [
                "2026-03-29: clocks in Europe/Berlin jump from 02:00 to 03:00; 02:00 does not "
                "exist, so it runs once, at 03:00 CEST (01:00 UTC), the same run as the 03:00 one",
                "2026-10-25: clocks in Europe/Berlin go back from 03:00 to 02:00; 02:00 happens "
                "twice, and the entry runs once, at the first: 02:00 CEST (00:00 UTC)",
            ],
        ),
        (BERLIN, "0 4 * * *", []),  # outside both windows
        (BERLIN, "30 2 * * 1", []),  # both changes fall on a Sunday
        (ZoneInfo("UTC"), "30 2 * * *", []),
    ],
)
def test_notes_name_the_day_the_times_and_what_beat_will_do(zone, cron, expected):
    assert dst.notes(parse_cron(cron), zone, JAN) == expected


def test_interval_entries_run_by_real_time_and_get_no_note():
    assert dst.notes(Timing(every=3600), BERLIN, JAN) == []


def test_a_change_already_past_gets_no_note():
    after_spring = datetime(2026, 4, 1, tzinfo=UTC)
    notes = dst.notes(parse_cron("30 2 * * *"), BERLIN, after_spring)
    assert [note[:10] for note in notes] == ["2026-10-25", "2027-03-28"]


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK, ZoneInfo("Australia/Lord_Howe")])
@pytest.mark.parametrize(
    "cron",
    ["30 2 * * *", "*/15 1-3 * * *", "0 * * * *", "*/20 * * * *", "45 0,1,2 * * *", "10 2 * * 0"],
)
def test_every_time_a_note_names_is_a_run_next_run_plans(zone, cron):
    timing = parse_cron(cron)
    for note in dst.notes(timing, zone, JAN):
        day = datetime.fromisoformat(note[:10]).replace(tzinfo=zone)
        runs, due = set(), next_run(timing, day.astimezone(UTC) - timedelta(hours=2), zone)
        while due is not None and due < (day + timedelta(days=1, hours=2)).astimezone(UTC):
            runs.add(f"{due.astimezone(zone):%H:%M %Z} ({due.astimezone(UTC):%H:%M} UTC)")
            due = next_run(timing, due, zone)
        named = re.findall(r"\d\d:\d\d [A-Z+\-0-9]+ \(\d\d:\d\d UTC\)", note)
        assert named and set(named) <= runs, (note, sorted(runs))
        if fewer := re.search(r"that day has (\d+) fewer run", note):
            on_the_day = _runs_on_day(timing, day, zone)
            per_hour = len(crontab_parser(60).parse(timing.cron[0]))
            assert on_the_day == 24 * per_hour - int(fewer.group(1))


def _runs_on_day(timing: Timing, day: datetime, zone: ZoneInfo) -> int:
    count, due = 0, next_run(timing, day.astimezone(UTC) - timedelta(seconds=1), zone)
    while due is not None and due.astimezone(zone).date() == day.date():
        count, due = count + 1, next_run(timing, due, zone)
    return count


@pytest.mark.parametrize(
    ("day", "cron"),
    [(datetime(2026, 3, 29), "30 2 * * *"), (datetime(2026, 10, 25), "30 2 * * *")],
)
def test_a_scheduler_driven_across_the_change_fires_when_the_note_says(
    sqlite_db, redis_client: redis.Redis, day, cron
):
    start = (day - timedelta(hours=12)).replace(tzinfo=BERLIN).astimezone(UTC)
    note = dst.notes(parse_cron(cron), BERLIN, start)[0]
    queue, key = f"probe-{uuid.uuid4().hex[:8]}", f"scout:test:lock:{uuid.uuid4().hex[:8]}"
    spec = {
        "task": "celery.backend_cleanup",
        "schedule": {"cron": cron},
        "options": {"queue": queue},
    }
    store.in_transaction(lambda s: store.add_entry(s, "daily", spec, "t", start, None))
    now = start
    beat = DatabaseScheduler(
        app, clock=lambda: now, timezone="Europe/Berlin", defaults={}, lock_key=key, max_interval=1
    )
    fired = []
    try:
        while now < start + timedelta(hours=24):
            beat.tick_once()
            if redis_client.llen(queue) > len(fired):
                fired.append(now)
            now += timedelta(seconds=beat.queue.seconds_to_next(now) or 1) + timedelta(seconds=0.5)
    finally:
        beat.close()
        redis_client.delete(queue, f"_kombu.binding.{queue}", key)

    assert len(fired) == 1
    sent = fired[0].astimezone(BERLIN)
    assert f"{sent:%H:%M %Z} ({fired[0].astimezone(UTC):%H:%M} UTC)" in note
