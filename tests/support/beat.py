"""Real `celery beat` processes on the test databases, and a watcher of what they send.

Entries send celery.backend_cleanup to a probe queue nobody consumes; a Watcher thread polls
that queue and records when each message appeared and which process (header `origin`) sent it.
Import the fixtures (`beats`, `beat_redis`, `probe_queue`) into a test module to use them.
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
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from beat_schedule import DEFAULT_SCHEDULE
from config import PROJECT_ROOT
from models.base import utcnow
from scheduler.beat import entries as store
from scheduler.beat.due import BeatEntry
from scheduler.beat.lock import LOCK_KEY
from scheduler.beat.scheduler import DatabaseScheduler
from tests.support.app import AppUnderTest


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
        """Return the sends seen at or after moment."""
        return [s for s in self.sent if s[0] >= moment]

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        self._thread.join(timeout=2)


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    """Return check()'s first truthy result; raises AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def holder_pid(client: redis.Redis) -> int | None:
    """Return the pid of the beat holding the lock, or None."""
    token = client.get(LOCK_KEY)
    return int(token.decode().split(":")[1]) if token else None


def add_probe(
    name: str, every: float, queue: str, enabled: bool = True, ran_ago: float = 0
) -> None:
    """Add an entry sending celery.backend_cleanup to queue every `every` seconds."""
    spec = {
        "task": "celery.backend_cleanup",
        "schedule": {"every": every},
        "options": {"queue": queue},
        "enabled": enabled,
    }
    at = utcnow() - timedelta(seconds=ran_ago)
    store.in_transaction(lambda s: store.add_entry(s, name, spec, "test", at, None))


class BeatProcesses:
    """Starts beat processes logging to files; kill_all() ends the ones still running."""

    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.database_url, self.log_dir = database_url, log_dir
        self.started: list[subprocess.Popen] = []
        self.logs: dict[int, Path] = {}

    def start(self, **env: str) -> subprocess.Popen:
        """Start one `celery beat` with DatabaseScheduler; env overrides settings."""
        log_path = self.log_dir / f"beat-{len(self.started)}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "scheduler.celery_app", "beat",
                 "-S", "scheduler.beat.scheduler:DatabaseScheduler", "--loglevel", "INFO"],
                cwd=PROJECT_ROOT,
                env={**os.environ, "DATABASE_URL": self.database_url, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.started.append(process)
        self.logs[process.pid] = log_path
        return process

    def log(self, process: subprocess.Popen) -> str:
        """Return everything the process wrote so far."""
        return self.logs[process.pid].read_text(errors="replace")

    def stop(self, process: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
        """Send sig and return the exit code (killing it if it has not ended in 15 s)."""
        process.send_signal(sig)
        try:
            return process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            raise AssertionError(f"beat {process.pid} did not stop within 15 s") from None

    def kill_all(self) -> None:
        """SIGKILL every process still running (by PID) and reap it."""
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def disable_defaults() -> None:
    """Seed the default entries disabled, so the real tasks stay out of beat tests."""
    store.in_transaction(lambda s: store.seed_defaults(s, DEFAULT_SCHEDULE, "test", utcnow()))
    for name in DEFAULT_SCHEDULE:
        store.in_transaction(
            lambda s, n=name: store.edit_entry(s, n, "test", utcnow(), enabled=False)
        )


@pytest.fixture
def beat_redis(redis_client: redis.Redis) -> Iterator[redis.Redis]:
    """The test Redis client, with no beat lock before or after the test."""
    redis_client.delete(LOCK_KEY)
    yield redis_client
    redis_client.delete(LOCK_KEY)


@pytest.fixture
def beats(sqlite_db: str, tmp_path: Path) -> Iterator[BeatProcesses]:
    """Beat processes on the SQLite test database; every one is killed by PID afterwards."""
    disable_defaults()
    processes = BeatProcesses(sqlite_db, tmp_path)
    yield processes
    processes.kill_all()


@pytest.fixture
def postgres_beats(
    postgres_url: str, tmp_path: Path, scout_app: AppUnderTest
) -> Iterator[BeatProcesses]:
    """Beat processes on the PostgreSQL test database (as in production), killed afterwards."""
    from models.base import get_engine
    from tests.support.services import empty_all_tables

    scout_app.update(database_url=postgres_url)
    empty_all_tables(get_engine())
    disable_defaults()
    processes = BeatProcesses(postgres_url, tmp_path)
    yield processes
    processes.kill_all()


@pytest.fixture
def probe_queue(beat_redis: redis.Redis) -> Iterator[str]:
    """A fresh queue name nobody consumes, deleted afterwards."""
    name = f"probe-{uuid.uuid4().hex[:8]}"
    yield name
    beat_redis.delete(name, f"_kombu.binding.{name}")


def entry_snapshot(beat: DatabaseScheduler, name: str) -> BeatEntry | None:
    """Return a copy of beat's in-memory entry called name, or None if it has none."""
    entry = beat.queue.entries.get(name)
    return replace(entry) if entry else None
