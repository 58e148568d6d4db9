"""DatabaseScheduler's tick with a frozen clock, against the real database, Redis and broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from models import Session
from scheduler.app import celery as app
from scheduler.beat import entries as store
from scheduler.beat.scheduler import DatabaseScheduler
from scheduler.beat.timing import parse_timing
from tests.support.beat import entry_snapshot

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture
def queue(redis_client: redis.Redis) -> Iterator[str]:
    """A broker queue no worker consumes; its length counts the sends."""
    name = f"probe-{uuid.uuid4().hex[:8]}"
    yield name
    redis_client.delete(name, f"_kombu.binding.{name}")


@pytest.fixture
def make_beat(redis_client: redis.Redis) -> Iterator[Callable[..., DatabaseScheduler]]:
    """Build schedulers sharing one private lock key; closes them afterwards."""
    made: list[DatabaseScheduler] = []
    key = f"scout:test:lock:{uuid.uuid4().hex[:8]}"

    def make(clock: FrozenClock, timezone: str = "UTC", lock_ttl: float = 10) -> DatabaseScheduler:
        beat = DatabaseScheduler(
            app,
            clock=clock,
            timezone=timezone,
            defaults={},
            lock_key=key,
            lock_ttl=lock_ttl,
            max_interval=1,
        )
        made.append(beat)
        return beat

    yield make
    for beat in made:
        beat.close()
    redis_client.delete(key)


def add(
    name: str, schedule: dict[str, Any], queue: str, at: datetime, enabled: bool = True
) -> None:
    spec = {
        "task": "celery.backend_cleanup",
        "schedule": schedule,
        "args": [],
        "kwargs": {},
        "options": {"queue": queue},
        "enabled": enabled,
    }
    store.in_transaction(lambda s: store.add_entry(s, name, spec, "test", at, None))


def sends(redis_client: redis.Redis, queue: str) -> int:
    return redis_client.llen(queue)


def stored(name: str) -> tuple[datetime | None, int]:
    with Session() as session:
        entry = store.get_entry(session, name)
        return entry.last_run_at, entry.run_count


def test_an_entry_fires_once_when_due_and_stores_its_last_run(db, redis_client, queue, make_beat):
    clock = FrozenClock(T0)
    add("probe", {"every": 60}, queue, T0)
    beat = make_beat(clock)
    for seconds in (0, 59, 60.5, 61, 62):
        clock.at = T0 + timedelta(seconds=seconds)
        beat.tick_once()
    assert sends(redis_client, queue) == 1
    assert stored("probe") == (T0 + timedelta(seconds=60.5), 1)


def test_a_restarted_beat_neither_refires_nor_skips(db, redis_client, queue, make_beat):
    clock = FrozenClock(T0 + timedelta(seconds=60))
    add("probe", {"every": 60}, queue, T0)
    first = make_beat(clock)
    first.tick_once()
    first.lock.release()  # a restart: the old process is gone
    clock.advance(seconds=1)
    second = make_beat(clock)
    second.tick_once()
    assert sends(redis_client, queue) == 1
    clock.advance(seconds=59)
    second.tick_once()
    assert sends(redis_client, queue) == 2
    second.lock.release()
    clock.advance(seconds=600)  # down for ten runs: one catch-up run, not ten
    third = make_beat(clock)
    third.tick_once()
    third.tick_once()
    assert sends(redis_client, queue) == 3
    assert stored("probe") == (clock.at, 3)


def test_a_cron_run_missed_while_down_fires_once_within_the_starting_deadline(
    db, redis_client, queue, make_beat
):
    assert app.conf.beat_cron_starting_deadline == 3600
    add("hourly", {"cron": "0 * * * *"}, queue, T0)
    clock = FrozenClock(T0 + timedelta(hours=2, minutes=30))  # missed 07:00 and 08:00
    beat = make_beat(clock)
    beat.tick_once()
    beat.tick_once()
    assert sends(redis_client, queue) == 1
    assert entry_snapshot(beat, "hourly").due_at == T0 + timedelta(hours=3)


def test_a_cron_run_missed_past_the_starting_deadline_is_skipped(
    db, redis_client, queue, make_beat
):
    add("daily", {"cron": "0 2 * * *"}, queue, T0)
    clock = FrozenClock(datetime(2026, 11, 22, 3, 30, tzinfo=UTC))  # 02:00 was 90 minutes ago
    beat = make_beat(clock)
    beat.tick_once()
    assert sends(redis_client, queue) == 0
    assert entry_snapshot(beat, "daily").due_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_an_edit_never_makes_an_entry_fire_at_once(db, redis_client, queue, make_beat):
    clock = FrozenClock(T0 + timedelta(seconds=60))
    add("probe", {"every": 60}, queue, T0)
    beat = make_beat(clock)
    beat.tick_once()
    clock.advance(seconds=10)
    store.in_transaction(
        lambda s: store.edit_entry(s, "probe", "al", clock.at, timing=parse_timing({"every": 30}))
    )
    beat.tick_once()
    assert sends(redis_client, queue) == 1
    clock.advance(seconds=29)
    beat.tick_once()
    assert sends(redis_client, queue) == 1
    clock.advance(seconds=1)
    beat.tick_once()
    assert sends(redis_client, queue) == 2


def test_an_options_edit_keeps_the_entry_s_rhythm(db, redis_client, queue, make_beat):
    clock = FrozenClock(T0 + timedelta(seconds=60))
    add("probe", {"every": 60}, queue, T0)
    beat = make_beat(clock)
    beat.tick_once()
    clock.advance(seconds=10)
    options = {"queue": queue, "expires": 30}
    store.in_transaction(
        lambda s: store.update_call(s, "probe", "al", clock.at, {"options": options}, None)
    )
    beat.tick_once()
    assert entry_snapshot(beat, "probe").options == options
    assert entry_snapshot(beat, "probe").due_at == T0 + timedelta(seconds=120)
    assert sends(redis_client, queue) == 1


def test_a_reload_never_moves_the_last_run_back(db, redis_client, queue, make_beat):
    clock = FrozenClock(T0 + timedelta(seconds=60))
    add("probe", {"every": 60}, queue, T0)
    beat = make_beat(clock)
    beat.tick_once()
    with Session.begin() as session:  # the row lags behind memory (a lost write) and is edited
        store.get_entry(session, "probe").last_run_at = None
        store.log_edit(session, "probe", "enable", "al", clock.at, None, None)
    clock.advance(seconds=1)
    beat.tick_once()
    assert sends(redis_client, queue) == 1
    assert entry_snapshot(beat, "probe").last_run_at == T0 + timedelta(seconds=60)


def test_a_disabled_entry_never_fires_and_re_enabling_does_not_fire_at_once(
    db, redis_client, queue, make_beat
):
    clock = FrozenClock(T0)
    add("probe", {"every": 60}, queue, T0, enabled=False)
    beat = make_beat(clock)
    for _ in range(5):
        clock.advance(seconds=3600)
        beat.tick_once()
    assert sends(redis_client, queue) == 0
    store.in_transaction(lambda s: store.edit_entry(s, "probe", "al", clock.at, enabled=True))
    beat.tick_once()
    assert sends(redis_client, queue) == 0
    clock.advance(seconds=60)
    beat.tick_once()
    assert sends(redis_client, queue) == 1
    store.in_transaction(lambda s: store.edit_entry(s, "probe", "al", clock.at, enabled=False))
    clock.advance(seconds=600)
    beat.tick_once()
    assert sends(redis_client, queue) == 1


def test_a_removed_entry_stops_firing(db, redis_client, queue, make_beat):
    clock = FrozenClock(T0)
    add("probe", {"every": 60}, queue, T0)
    beat = make_beat(clock)
    beat.tick_once()
    store.in_transaction(lambda s: store.remove_entry(s, "probe", "al", clock.at))
    clock.advance(seconds=600)
    beat.tick_once()
    assert sends(redis_client, queue) == 0
    assert entry_snapshot(beat, "probe") is None


def test_only_the_lock_holder_fires_and_the_standby_takes_over_when_it_dies(
    sqlite_db, redis_client, queue, make_beat
):
    clock = FrozenClock(T0 + timedelta(seconds=60))
    add("probe", {"every": 60}, queue, T0)
    active, standby = make_beat(clock, lock_ttl=1), make_beat(clock, lock_ttl=1)
    active.tick_once()
    standby.tick_once()
    assert (active.active, standby.active, sends(redis_client, queue)) == (True, False, 1)
    time.sleep(1.2)  # the active beat stops renewing: its lock expires
    clock.advance(seconds=60)
    standby.tick_once()
    assert (standby.active, sends(redis_client, queue)) == (True, 2)
    clock.advance(seconds=60)
    active.tick_once()  # back from a stall: it lost the lock and must not fire
    assert (active.active, sends(redis_client, queue)) == (False, 2)


def test_a_beat_that_loses_its_lock_mid_tick_stops_before_the_next_send(
    sqlite_db, redis_client, queue, make_beat
):
    clock = FrozenClock(T0 + timedelta(seconds=60))
    for name in ("a", "b", "c"):
        add(name, {"every": 60}, queue, T0)
    beat = make_beat(clock)
    original_send = beat.send

    def send_then_lose_the_lock(entry: Any) -> str:
        task_id = original_send(entry)
        redis_client.set(beat.lock.key, "another-beat")
        return task_id

    beat.send = send_then_lose_the_lock  # type: ignore[method-assign]
    beat.tick_once()
    assert (sends(redis_client, queue), beat.active) == (1, False)


def test_beat_seeds_missing_defaults_on_start_but_its_lazy_banner_instance_touches_nothing(db):
    defaults = {
        "probe": {"task": "celery.backend_cleanup", "schedule": {"every": 60}, "options": {}}
    }
    DatabaseScheduler(app, defaults=defaults, lazy=True)
    with Session() as session:
        assert store.all_entries(session) == []
    beat = DatabaseScheduler(app, defaults=defaults, lock_key=f"scout:test:{uuid.uuid4().hex}")
    beat.close()
    with Session() as session:
        assert [e.name for e in store.all_entries(session)] == ["probe"]
        assert store.edit_history(session)[0].action == "seed"


@pytest.mark.parametrize(
    "bad",
    [
        {"options": {"headers": "x"}},
        {"options": {"countdown": "abc"}},
        {"options": {"retry": False, "producer": 1}},
        {"options": {"args": [1]}},
        {"args": [1]},  # celery.backend_cleanup takes none
        {"task": "celery.starmap", "kwargs": {"task": {}, "it": []}},
        {"args": {"not": "a list"}},
    ],
)
def test_an_entry_stored_unchecked_is_skipped_with_one_line_and_the_rest_still_fire(
    db, redis_client, queue, make_beat, caplog, bad
):
    clock = FrozenClock(T0 + timedelta(seconds=60))
    add("good", {"every": 60}, queue, T0)
    add("bad", {"every": 60}, queue, T0)
    with Session.begin() as session:  # what an edit could store before the checks existed
        row = store.get_entry(session, "bad")
        for key, value in {"options": {"queue": queue}, **bad}.items():
            setattr(row, key, value)
    beat = make_beat(clock)
    with caplog.at_level("INFO", logger="scheduler.beat.scheduler"):
        for _ in range(5):
            beat.tick_once()
            clock.advance(seconds=61)
    skipped = [r for r in caplog.records if "bad skipped" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].exc_info is None
    assert not [r for r in caplog.records if r.exc_info]  # no traceback, no retry loop
    assert sends(redis_client, queue) == 5  # the good entry, once per tick
    with Session.begin() as session:  # the admin fixes it; beat takes it back
        store.update_call(
            session, "bad", "al", clock.at, {**PROBE_CALL, "options": {"queue": queue}}, None
        )
    beat.tick_once()
    assert entry_snapshot(beat, "bad") is not None


PROBE_CALL = {"task": "celery.backend_cleanup", "args": [], "kwargs": {}}


def test_a_broker_outage_is_one_line_per_attempt_and_the_run_is_retried_not_recorded(
    db, redis_client, queue, make_beat, caplog
):
    from celery import Celery

    from tests.support.smtp import free_port

    dead = Celery("dead-broker", broker=f"redis://127.0.0.1:{free_port()}/0")
    dead.conf.update(broker_connection_max_retries=1, broker_connection_retry=False)
    clock = FrozenClock(T0 + timedelta(seconds=60))
    add("probe", {"every": 60}, queue, T0)
    beat = DatabaseScheduler(
        dead, clock=clock, timezone="UTC", defaults={}, redis_client=redis_client,
        lock_key=f"scout:test:lock:{uuid.uuid4().hex[:8]}", max_interval=1,
    )  # fmt: skip
    try:
        with caplog.at_level("WARNING", logger="scheduler.beat.scheduler"):
            beat.tick_once()
            clock.advance(seconds=4)  # the retry waits 5 s
            beat.tick_once()
            clock.advance(seconds=2)
            beat.tick_once()
    finally:
        beat.close()
    failures = [r for r in caplog.records if "could not send probe" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info is None for r in failures)
    assert "\n" not in failures[0].getMessage()
    assert stored("probe") == (None, 0)
    assert entry_snapshot(beat, "probe") is not None  # kept, to be sent when the broker is back
