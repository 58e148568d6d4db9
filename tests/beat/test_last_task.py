"""Beat keeps the id of the task it last sent on the entry, so the admin console can say how
that run ended; a run it could not store while the database was down keeps its id too."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from models import Session
from scheduler.app import celery as app
from scheduler.beat import entries as store
from scheduler.beat.runs import RunLog
from scheduler.beat.scheduler import DatabaseScheduler
from tests.support.ports import free_port

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


@pytest.fixture
def queue(redis_client: redis.Redis) -> Iterator[str]:
    name = f"probe-{uuid.uuid4().hex[:8]}"
    yield name
    redis_client.delete(name, f"_kombu.binding.{name}")


def add(name: str, queue: str) -> None:
    spec = {
        "task": "celery.backend_cleanup",
        "schedule": {"every": 60},
        "options": {"queue": queue},
    }
    store.in_transaction(lambda s: store.add_entry(s, name, spec, "test", T0, None))


def last_task(name: str) -> tuple[str | None, int]:
    with Session() as session:
        entry = store.get_entry(session, name)
        return entry.last_task_id, entry.run_count


def test_beat_stores_the_id_of_each_task_it_sends(db, redis_client, queue):
    add("probe", queue)
    clock = [T0 + timedelta(seconds=61)]
    key = f"scout:test:lock:{uuid.uuid4().hex[:8]}"
    beat = DatabaseScheduler(
        app, clock=lambda: clock[0], timezone="UTC", defaults={}, lock_key=key, max_interval=1
    )
    try:
        beat.tick_once()
        clock[0] += timedelta(seconds=61)
        beat.tick_once()
    finally:
        beat.close()
        redis_client.delete(key)

    sent = [json.loads(raw)["headers"]["id"] for raw in redis_client.lrange(queue, 0, -1)]
    assert len(sent) == 2
    assert last_task("probe") == (sent[0], 2)  # LPUSH: the newest message is first


def test_a_run_kept_while_the_database_was_down_is_stored_with_its_task_id(db, scout_app, queue):
    add("probe", queue)
    log = RunLog()
    good_url = scout_app.config.database_url
    scout_app.update(database_url=f"postgresql+psycopg://u@127.0.0.1:{free_port()}/down")

    log.save("probe", T0 + timedelta(seconds=60), "task-kept")

    assert log.unsaved == {"probe": (T0 + timedelta(seconds=60), "task-kept")}
    scout_app.update(database_url=good_url)
    log.flush()
    assert log.unsaved == {} and last_task("probe") == ("task-kept", 1)
