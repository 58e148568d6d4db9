"""Beat across daylight-saving transitions, with a frozen clock: nothing skipped, nothing doubled.

The rule (scheduler.beat.timing): fixed-hour entries fire once per local day, at the first
02:30 in autumn and at the jump (03:00) in spring; hourly entries fire once per real hour.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis

from scheduler.app import celery as app
from scheduler.beat import entries as store
from scheduler.beat.scheduler import DatabaseScheduler
from tests.support.beat import entry_snapshot

LAG = timedelta(seconds=0.5)  # beat sends a little after the due instant, as it does for real


@pytest.fixture
def lock_key(redis_url: str) -> Iterator[str]:
    key = f"scout:test:lock:{uuid.uuid4().hex[:8]}"
    yield key
    client = redis.Redis.from_url(redis_url)
    client.delete(key, "probe-dst", "_kombu.binding.probe-dst")
    client.close()


def run_beat(zone: str, start: datetime, end: datetime, lock_key: str) -> dict[str, list[datetime]]:
    """Drive a real scheduler with a frozen clock from start to end; return each entry's sends."""
    for name, cron in (("daily", "30 2 * * *"), ("hourly", "0 * * * *")):
        spec = {
            "task": "celery.backend_cleanup",
            "schedule": {"cron": cron},
            "options": {"queue": "probe-dst"},
        }
        store.in_transaction(lambda s, n=name, sp=spec: store.add_entry(s, n, sp, "t", start, None))
    now = start
    beat = DatabaseScheduler(
        app, clock=lambda: now, timezone=zone, defaults={}, lock_key=lock_key, max_interval=1
    )
    seen: dict[str, list[datetime]] = {"daily": [], "hourly": []}
    try:
        while now < end:
            beat.tick_once()
            for name, runs in seen.items():
                last = entry_snapshot(beat, name).last_run_at
                if last and (not runs or runs[-1] != last):
                    runs.append(last)
            now += beat.queue.seconds_to_next(now) * timedelta(seconds=1) + LAG
    finally:
        beat.close()
    return seen


@pytest.mark.parametrize(
    ("zone", "day", "expected_daily"),
    [
        ("Europe/Berlin", datetime(2026, 3, 29), "03:00 CEST"),
        ("Europe/Berlin", datetime(2026, 10, 25), "02:30 CEST"),
        ("America/New_York", datetime(2026, 3, 8), "03:00 EDT"),
        ("America/New_York", datetime(2026, 11, 1), "02:30 EST"),
    ],
)
def test_daily_and_hourly_entries_neither_skip_nor_double_across_a_transition(
    sqlite_db, lock_key, zone, day, expected_daily
):
    tz = ZoneInfo(zone)
    start = (day - timedelta(days=1)).replace(tzinfo=tz).astimezone(UTC)
    end = (day + timedelta(days=2)).replace(tzinfo=tz).astimezone(UTC)
    seen = run_beat(zone, start, end, lock_key)

    days = Counter(r.astimezone(tz).date() for r in seen["daily"])
    assert sorted(days.values()) == [1, 1, 1], days
    on_the_day = [r for r in seen["daily"] if r.astimezone(tz).date() == day.date()]
    assert on_the_day[0].astimezone(tz).strftime("%H:%M %Z") == expected_daily

    hourly = seen["hourly"]
    assert len(hourly) == (end - start) / timedelta(hours=1) - 1  # both ends excluded
    assert all(b - a == timedelta(hours=1) for a, b in zip(hourly, hourly[1:], strict=False))
