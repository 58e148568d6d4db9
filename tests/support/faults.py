"""Fault apparatus: private Redis and PostgreSQL servers to restart, real worker processes to kill.

Nothing here touches the shared services: each server runs on its own port from its own temp
dir, and only processes started here are signalled, by their own process group.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import redis
from celery import Celery
from sqlalchemy import create_engine, text

from config import PROJECT_ROOT
from tests.support.smtp import Received, free_port

CELERY = str(Path(sys.executable).parent / "celery")
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), Path("/usr/local/bin"))
T = TypeVar("T")

# Short recovery settings so a scenario ends in seconds; the production defaults and what
# they mean in minutes are in the README ("Recovery after a crash").
FAST_RECOVERY = {
    "ALERT_STUCK_AFTER": 10,
    "BROKER_VISIBILITY_TIMEOUT": 15,
    "SCRAPE_STALLED_AFTER": 5,
    "MAIL_BATCH_SIZE": 50,
    "MAIL_TIMEOUT": 10,
    "STORE_BACKOFF_BASE": 0.3,
    "STORE_BACKOFF_MAX": 2,
    "LOG_LEVEL": "INFO",
}


def wait_for(check: Callable[[], T], timeout: float, what: str, every: float = 0.1) -> T:
    """Return check()'s first truthy value; raise AssertionError naming `what` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class RedisServer:
    """A redis-server of our own on a free port, without persistence, so a restart is empty."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="reliability-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        """Start the server and return once it answers PING."""
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--dir", str(self.dir), "--save", "", "--appendonly", "no"]
        log = (self.dir / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), 10, "the private redis-server to start", 0.02)
        client.close()
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM; nothing is saved)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def restart_empty(self, down_for: float = 0.0) -> None:
        """Stop the server, wait down_for seconds, and start it again with no data."""
        self.stop()
        time.sleep(down_for)
        self.start()

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class PostgresCluster:
    """A PostgreSQL cluster of our own (initdb as the postgres user) on a free port."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="reliability-pgcluster-"))
        self.data = self.dir / "data"
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        # No pipes: a postmaster that pg_ctl starts inherits them and would hold them open.
        with (self.dir / "ctl.log").open("ab") as log:
            subprocess.run(
                [*as_postgres, *command], check=True, stdout=log, stderr=log, timeout=120
            )

    def start(self) -> PostgresCluster:
        """Create the cluster (trust auth, no fsync: a test server) and start it."""
        initdb = str(PG_BIN / "initdb")
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start_again()
        return self

    def start_again(self) -> None:
        """Start the stopped cluster; return once it takes connections."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("start", "-o", options)

    def stop(self) -> None:
        """Stop it with `pg_ctl -m fast`: open connections are cut, new ones refused."""
        self._ctl("stop", "-m", "fast")

    def _ctl(self, action: str, *extra: str) -> None:
        log = ("-l", str(self.dir / "postgres.log")) if action != "stop" else ()
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", action, *log, *extra)

    def restart_fast(self) -> None:
        """Restart with `pg_ctl -m fast`: every open connection is cut."""
        self._ctl("restart", "-m", "fast")

    def url(self, database: str = "postgres") -> str:
        """Return a SQLAlchemy URL of a database in this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database; return its URL."""
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    def close(self) -> None:
        """Stop the cluster and remove its files."""
        try:
            self._ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Worker:
    """A `celery worker` process as the Procfile runs it (prefork, SIGTERM remapped)."""

    def __init__(self, env: dict[str, str], log: Path, name: str, concurrency: int = 2) -> None:
        self.name = f"{name}@faults"
        command = [CELERY, "-A", "scheduler.celery_app", "worker", "-n", self.name]
        command += ["--concurrency", str(concurrency), "-Q", "celery,scrape,mail", "-E"]
        command += ["--without-gossip", "--without-mingle", "--loglevel", "INFO"]
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                env={"REMAP_SIGTERM": "SIGQUIT", **env},
                cwd=PROJECT_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, client: Celery, timeout: float = 60) -> Worker:
        """Return once this worker answers a ping; fails if it exits first."""

        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}: {self.log}")
            replies = client.control.ping(timeout=0.5)
            return any(self.name in reply for reply in replies)

        wait_for(answers, timeout, "the worker to answer a ping")
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once, as a dyno crash would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def terminate(self, timeout: float = 40) -> float:
        """SIGTERM the main process, as Heroku does; return the seconds it took to exit."""
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout)
        return time.monotonic() - began

    def stop(self) -> None:
        """End the worker if it still runs (tests' cleanup): SIGKILL its own process group."""
        self.kill()


def celery_client(redis_url: str) -> Celery:
    """Return a Celery client of the private broker, to send tasks by name and ping workers."""
    return Celery("faults", broker=redis_url, backend=redis_url)


@dataclass(frozen=True)
class Tally:
    """What the SMTP sink received against what was expected."""

    expected: int
    delivered: int
    duplicates: int
    lost: int
    foreign_ids: int  # duplicates whose Message-ID differs from the first send's
    by_recipient: dict[str, int]

    def line(self, scenario: str, recovered: float | None) -> str:
        """Return the scenario's one line of figures."""
        took = "n/a" if recovered is None else f"{recovered:.1f} s"
        return (
            f"{scenario}: expected {self.expected} / delivered {self.delivered} / duplicates "
            f"{self.duplicates} (other Message-ID: {self.foreign_ids}) / lost {self.lost} / "
            f"time to recover {took}"
        )


def tally(expected: set[str], messages: list[Received]) -> Tally:
    """Count deliveries per recipient: the distinct ones, the repeats and the missing."""
    counts: Counter[str] = Counter()
    first_id: dict[str, str] = {}
    foreign = 0
    for received in messages:
        message_id = received.message_id
        for rcpt in received.rcpt_tos:
            counts[rcpt] += 1
            if first_id.setdefault(rcpt, message_id) != message_id:
                foreign += 1
    delivered = len(expected & set(counts))
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    return Tally(len(expected), delivered, duplicates, len(expected) - delivered, foreign, counts)


# Every scenario's one line of figures, shown together at the end of the run (conftest).
FIGURES: list[str] = []


def record_figures(line: str) -> None:
    """Keep a scenario's line of figures for the run's summary, and print it (pytest -s)."""
    FIGURES.append(line.strip())
    print(line, flush=True)


def report(scenario: str, result: Tally, recovered: float | None) -> Tally:
    """Record the scenario's line of figures and return the tally."""
    record_figures(result.line(scenario, recovered))
    return result


def env_for(base: dict[str, str], **settings: Any) -> dict[str, str]:
    """Return base with settings as environment variables (NAME=value, values as strings)."""
    return {**base, **{name: str(value) for name, value in settings.items()}}
