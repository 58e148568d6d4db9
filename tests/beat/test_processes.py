"""Real `celery beat` processes with DatabaseScheduler against the test Redis and SQLite file.

Entries send celery.backend_cleanup to a probe queue nobody consumes; a watcher thread polls
that queue and records when each message appeared and which process (header `origin`) sent it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from beat_schedule import DEFAULT_SCHEDULE
from config import PROJECT_ROOT
from models import Session
from models.base import utcnow
from scheduler.beat import entries as store
from scheduler.beat.lock import LOCK_KEY
from scheduler.cli import main

pytestmark = pytest.mark.slow


class Watcher:
    """Polls a queue every 20 ms; sent holds (monotonic time seen, sender pid) per message."""

    def __init__(self, client: redis.Redis, queue: str) -> None:
        self.client, self.queue = client, queue
        self.sent: list[tuple[float, int]] = []
        self._ids: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for raw in reversed(self.client.lrange(self.queue, 0, -1)):
                headers = json.loads(raw)["headers"]
                if headers["id"] not in self._ids:
                    self._ids.add(headers["id"])
                    pid = int(headers["origin"].split("@")[0].removeprefix("gen"))
                    self.sent.append((time.monotonic(), pid))
            time.sleep(0.02)

    def since(self, moment: float) -> list[tuple[float, int]]:
        return [s for s in self.sent if s[0] >= moment]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def client(redis_client: redis.Redis) -> Iterator[redis.Redis]:
    connection = redis_client
    connection.delete(LOCK_KEY)
    yield connection
    connection.delete(LOCK_KEY)


@pytest.fixture
def beats(sqlite_db: str, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start beat processes on the test database; every one is killed by PID afterwards."""
    started: list[subprocess.Popen] = []
    store.in_transaction(lambda s: store.seed_defaults(s, DEFAULT_SCHEDULE, "test", utcnow()))
    for name in DEFAULT_SCHEDULE:  # keep the real tasks out of these tests
        store.in_transaction(
            lambda s, n=name: store.edit_entry(s, n, "test", utcnow(), enabled=False)
        )

    def start(**env: str) -> subprocess.Popen:
        log = open(tmp_path / f"beat-{len(started)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "scheduler.celery_app",
                "beat",
                "-S",
                "scheduler.beat.scheduler:DatabaseScheduler",
                "--loglevel",
                "INFO",
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ, "DATABASE_URL": sqlite_db, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def holder_pid(client: redis.Redis) -> int | None:
    token = client.get(LOCK_KEY)
    return int(token.decode().split(":")[1]) if token else None


def add(name: str, every: float, queue: str, enabled: bool = True, ran_ago: float = 0) -> None:
    spec = {
        "task": "celery.backend_cleanup",
        "schedule": {"every": every},
        "options": {"queue": queue},
        "enabled": enabled,
    }
    at = utcnow() - timedelta(seconds=ran_ago)
    store.in_transaction(lambda s: store.add_entry(s, name, spec, "test", at, None))


@pytest.fixture
def queue(client: redis.Redis) -> Iterator[str]:
    name = f"probe-{uuid.uuid4().hex[:8]}"
    yield name
    client.delete(name, f"_kombu.binding.{name}")


def test_an_edit_reaches_a_running_beat_within_a_second_and_never_fires_at_once(
    beats, client, queue
):
    add("probe", 3600, queue)
    beat = beats()
    wait_for(lambda: holder_pid(client) == beat.pid, 20, "beat to take the lock")
    watcher = Watcher(client, queue)
    try:
        time.sleep(0.5)
        edited = time.monotonic()
        assert main(["schedule", "set", "probe", "--every", "2s", "--by", "test"]) == 0
        wait_for(lambda: watcher.sent, 5, "the first send after the edit")
        delay = watcher.sent[0][0] - edited
        assert 1.9 <= delay < 3.0  # due 2 s after the edit, and the edit applied within 1 s
    finally:
        watcher.stop()


def test_a_disabled_entry_never_fires_and_disabling_stops_a_running_one(beats, client, queue):
    add("on", 1, queue)
    add("off", 1, f"{queue}-off", enabled=False)
    beat = beats()
    wait_for(lambda: holder_pid(client) == beat.pid, 20, "beat to take the lock")
    watcher = Watcher(client, queue)
    try:
        wait_for(lambda: len(watcher.sent) >= 2, 5, "two sends of the enabled entry")
        assert main(["schedule", "disable", "on", "--by", "test"]) == 0
        disabled = time.monotonic()
        time.sleep(3)
        assert watcher.since(disabled + 1.0) == []
        assert client.llen(f"{queue}-off") == 0
    finally:
        watcher.stop()
        client.delete(f"{queue}-off", f"_kombu.binding.{queue}-off")


def test_two_beats_fire_once_and_the_standby_takes_over_within_15s_of_a_sigkill(
    beats, client, queue
):
    add("probe", 1, queue)
    first = beats()
    wait_for(lambda: holder_pid(client) == first.pid, 20, "the first beat to take the lock")
    second = beats()
    watcher = Watcher(client, queue)
    try:
        time.sleep(5)  # long enough for the second beat to start and stand by
        both = watcher.sent
        assert {pid for _, pid in both} == {first.pid}
        assert 3 <= len(both) <= 6  # one send a second, not two
        first.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        wait_for(
            lambda: any(pid == second.pid for _, pid in watcher.sent),
            15,
            "the standby to take over and fire",
        )
        took_over = next(t for t, pid in watcher.sent if pid == second.pid)
        assert took_over - killed < 15
        time.sleep(2)
        after = [t for t, pid in watcher.sent if pid == second.pid]
        assert len(after) <= (after[-1] - after[0]) + 1.5  # no burst of catch-up sends
    finally:
        watcher.stop()


def stored_runs() -> int:
    with Session() as session:
        return store.get_entry(session, "probe").run_count


def test_a_beat_killed_and_restarted_neither_refires_nor_skips(beats, client, queue):
    add("probe", 5, queue, ran_ago=4)
    watcher = Watcher(client, queue)
    try:
        first = beats(BEAT_LOCK_TTL="2")
        wait_for(lambda: watcher.sent and stored_runs() == 1, 15, "the first send, recorded")
        first.send_signal(signal.SIGKILL)
        sent_at = watcher.sent[0][0]
        second = beats(BEAT_LOCK_TTL="2")
        wait_for(lambda: len(watcher.sent) >= 2 and stored_runs() == 2, 12, "the next send")
        gap = watcher.sent[1][0] - sent_at
        assert 4.5 <= gap <= 9.0  # not re-fired on restart; not skipped (next due 10 s later)
        assert watcher.sent[1][1] == second.pid
        second.send_signal(signal.SIGKILL)
        time.sleep(7)  # the run due 5 s after the last one is missed while down
        restarted = time.monotonic()
        beats(BEAT_LOCK_TTL="2")
        time.sleep(4.5)
        assert len(watcher.since(restarted)) == 1  # the missed run fires once on restart
        assert stored_runs() == len(watcher.sent) == 3
    finally:
        watcher.stop()


def test_a_beat_stopped_with_sigterm_releases_the_lock_and_the_standby_takes_over_at_once(
    beats, client, queue
):
    add("probe", 1, queue)
    first = beats()
    wait_for(lambda: holder_pid(client) == first.pid, 20, "the first beat to take the lock")
    second = beats()
    time.sleep(4)  # the second beat is up and standing by
    assert holder_pid(client) == first.pid
    first.send_signal(signal.SIGTERM)  # what Heroku sends on a restart or deploy
    stopped = time.monotonic()
    wait_for(lambda: holder_pid(client) == second.pid, 5, "the standby to take the lock")
    assert time.monotonic() - stopped < 3
    assert first.wait(timeout=10) is not None
