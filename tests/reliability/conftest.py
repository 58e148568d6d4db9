"""Fixtures of the fault suite: a private Redis and PostgreSQL, the SMTP sink, worker processes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery import Celery

from tests.support import services
from tests.support.app import AppUnderTest
from tests.support.beat import beat_redis, beats, postgres_beats, probe_queue  # noqa: F401
from tests.support.faults import (
    FAST_RECOVERY,
    PostgresCluster,
    RedisServer,
    Worker,
    celery_client,
    env_for,
)
from tests.support.smtp import SmtpServer


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of this test run's own, which scenarios may restart."""
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def fault_db(pg_cluster: PostgresCluster, scout_app: AppUnderTest) -> Iterator[str]:
    """A fresh migrated database in the private cluster, used by this process too; its URL."""
    url = pg_cluster.create_database(f"scout_{uuid.uuid4().hex[:10]}")
    services.migrate(url)
    scout_app.update(database_url=url)
    yield url


@pytest.fixture
def broker() -> Iterator[RedisServer]:
    """A redis-server of this test's own (broker and result backend), which it may restart."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def sink() -> Iterator[SmtpServer]:
    """The SMTP sink the worker processes send to."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def worker_env(fault_db: str, broker: RedisServer, sink: SmtpServer) -> dict[str, str]:
    """The environment of a worker process on the private services, with fast recovery."""
    return env_for(
        dict(os.environ),
        DATABASE_URL=fault_db,
        REDIS_URL=broker.url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=sink.port,
        **FAST_RECOVERY,
    )


@pytest.fixture
def client(broker: RedisServer) -> Iterator[Celery]:
    """A Celery client of the private broker."""
    app = celery_client(broker.url)
    yield app
    app.close()


@pytest.fixture
def start_worker(
    worker_env: dict[str, str], client: Celery, tmp_path: Path
) -> Iterator[Callable[..., Worker]]:
    """Start a worker process (waits until it answers); every one is stopped after the test."""
    started: list[Worker] = []
    logs = Path(os.environ.get("SCOUT_TEST_LOG_DIR", tmp_path))

    def start(**settings: object) -> Worker:
        env = env_for(worker_env, **settings)
        name = f"worker{len(started)}"
        worker = Worker(env, logs / f"{name}.log", name)
        started.append(worker)
        return worker.wait_ready(client)

    yield start
    for worker in started:
        worker.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show every scenario's line of figures together at the end of the run."""
    from tests.support.faults import FIGURES

    if FIGURES:
        terminalreporter.write_sep("-", "fault suite figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
