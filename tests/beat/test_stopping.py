"""A stop signal at the worst moment of a pass: beat finishes the pass, then stops cleanly.

The signal is sent from inside a real call (a Redis reply callback, a SQLAlchemy cursor
event), so it lands exactly where celery's own handler used to break things: after `SET NX`
took the lock but before beat noted it, and in the middle of writing a run.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import event

from models import Session
from models.base import get_engine, utcnow
from scheduler.app import celery as app
from scheduler.beat import entries as store
from scheduler.beat.scheduler import DatabaseScheduler
from scheduler.beat.stopping import StopRequest


def send_sigterm() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


class Beat:
    """A DatabaseScheduler on its own lock key and its own Redis client, SIGTERM routed to it."""

    def __init__(self, redis_client: redis.Redis) -> None:
        self.key = f"scout:test:lock:{uuid.uuid4().hex[:8]}"
        self.client = redis.Redis(connection_pool=redis_client.connection_pool)
        self.scheduler = DatabaseScheduler(
            app, defaults={}, lock_key=self.key, lock_ttl=10, max_interval=0.2,
            redis_client=self.client,
        )  # fmt: skip
        self.fired = 0

    def signal_after_reply(self, command: str) -> None:
        """Send SIGTERM once, from inside the callback that reads Redis's reply to command."""
        original = self.client.response_callbacks.get(command)

        def callback(response: Any, **options: Any) -> Any:
            self.client.set_response_callback(command, original or (lambda r, **o: r))
            self.fired += 1
            send_sigterm()
            return original(response, **options) if original else response

        self.client.set_response_callback(command, callback)

    def ticks_until_stopped(self, most: int = 5) -> int:
        """Tick until SystemExit; return how many ticks began."""
        previous = signal.signal(signal.SIGTERM, self.scheduler.stop.handle)
        try:
            for started in range(1, most + 1):
                try:
                    self.scheduler.tick()
                except SystemExit:
                    return started
        finally:
            signal.signal(signal.SIGTERM, previous)
        raise AssertionError(f"beat did not stop within {most} ticks")


@pytest.fixture
def make(db: str, redis_client: redis.Redis) -> Iterator[Callable[[], Beat]]:
    made: list[Beat] = []

    def build() -> Beat:
        made.append(Beat(redis_client))
        return made[-1]

    yield build
    for beat in made:
        beat.scheduler.close()
        redis_client.delete(beat.key)


@pytest.fixture
def queue(redis_client: redis.Redis) -> Iterator[str]:
    name = f"probe-{uuid.uuid4().hex[:8]}"
    spec = {"task": "celery.backend_cleanup", "schedule": {"every": 60}, "options": {"queue": name}}
    at = utcnow() - timedelta(seconds=120)  # due at once
    store.in_transaction(lambda s: store.add_entry(s, "probe", spec, "test", at, None))
    yield name
    redis_client.delete(name, f"_kombu.binding.{name}")


def runs_stored() -> int:
    with Session() as session:
        return store.get_entry(session, "probe").run_count


def test_sigterm_right_after_the_lock_is_taken_still_releases_it(make, redis_client, queue):
    beat = make()
    beat.signal_after_reply("SET")
    assert beat.ticks_until_stopped() == 1  # the pass the signal landed in, then no other
    assert beat.fired == 1
    beat.scheduler.close()  # what celery's Service does on SystemExit
    assert redis_client.get(beat.key) is None  # a standby can take over at once
    assert redis_client.llen(queue) == runs_stored() == 1  # the due send went out and is stored


def test_sigterm_while_the_lock_is_renewed_still_releases_it(make, redis_client, queue):
    beat = make()
    beat.scheduler.tick_once()
    beat.signal_after_reply("EVALSHA")
    assert beat.ticks_until_stopped() == 1
    assert beat.fired == 1
    beat.scheduler.close()
    assert redis_client.get(beat.key) is None
    assert redis_client.llen(queue) == runs_stored() == 1


def test_sigterm_while_a_run_is_written_keeps_the_run(make, redis_client, queue):
    beat = make()

    def after_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE SCHEDULE_ENTRIES"):
            event.remove(get_engine(), "after_cursor_execute", after_execute)
            beat.fired += 1
            send_sigterm()

    event.listen(get_engine(), "after_cursor_execute", after_execute)
    assert beat.ticks_until_stopped() == 1
    assert beat.fired == 1
    beat.scheduler.close()
    # Raising in the middle of the write would roll it back: sent once, stored never, and
    # the next beat would send it again.
    assert redis_client.llen(queue) == runs_stored() == 1
    assert redis_client.get(beat.key) is None


def test_an_idle_beat_stops_at_once_and_a_second_signal_stops_a_busy_one():
    stop = StopRequest()
    stop.handle(signal.SIGTERM, None)  # busy: recorded, not raised
    with pytest.raises(SystemExit):
        stop.check()
    with pytest.raises(SystemExit):
        stop.handle(signal.SIGTERM, None)  # asked twice: at once
    idle = StopRequest()
    with pytest.raises(SystemExit), idle.idle():
        idle.handle(signal.SIGTERM, None)
    assert idle.requested is False  # it was idle, so it stopped without waiting for a check
