"""Fixtures for real services: Redis, SQLite and PostgreSQL, and a real Celery worker.

The environment is set here, before anything imports config, so every test run talks to its
own Redis db and its own databases and never to a developer's data.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import redis

from tests.support import services

# CI replays the same examples on every run, so main stays green or red for what it holds;
# a developer's run explores new ones (and keeps failures in .hypothesis/ to replay them).
hypothesis.settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")

_redis = services.private_redis_db()
REDIS_URL = _redis.__enter__()
_tmp = tempfile.TemporaryDirectory(prefix="scout-test-")
SQLITE_URL = f"sqlite:///{Path(_tmp.name) / 'scout.db'}"
# The settings of this test run. In-process code gets them as a Config built from this
# mapping (tests/support/app.py); processes the tests start (scout, celery worker and beat)
# are entry points and read them from the environment they inherit.
TEST_ENV = {
    "REDIS_URL": REDIS_URL,
    "DATABASE_URL": SQLITE_URL,
    "STORE_URL": "http://127.0.0.1:9",
    "STORE_RATE_LIMIT": "1000/second",
    "STORE_BACKOFF_BASE": "0.05",
    "STORE_BACKOFF_MAX": "0.5",
    "STORE_CONNECT_TIMEOUT": "2",
    "STORE_READ_TIMEOUT": "5",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": "9",
    "MAIL_TIMEOUT": "5",
    "PUBLIC_URL": "http://scout.test",
    "MAIL_DEFAULT_SENDER": "SteamScout <alerts@scout.test>",
    "SECRET_KEY": secrets.token_hex(32),
}
os.environ.update(TEST_ENV)

from config import load_config  # noqa: E402
from models.base import get_engine  # noqa: E402
from scheduler.app import celery as celery_app  # noqa: E402
from tests.support.app import AppUnderTest  # noqa: E402
from tests.support.prices import refresh_store  # noqa: E402,F401
from tests.support.session_worker import QUEUES, SessionWorker  # noqa: E402
from tests.support.smtp import smtp_server, smtp_tls_server  # noqa: E402,F401
from tests.support.store import small_pages, store  # noqa: E402,F401
from tests.support.wishlist import steam  # noqa: E402,F401

APP = AppUnderTest(load_config(TEST_ENV))
SESSION_WORKER = SessionWorker(celery_app, REDIS_URL)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _redis.__exit__(None, None, None)
    _tmp.cleanup()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of this test run's private Redis db."""
    return REDIS_URL


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of this test run's private Redis db."""
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def sqlite_url() -> str:
    """A migrated SQLite file database for this test run."""
    services.migrate(SQLITE_URL)
    return SQLITE_URL


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this test run (skips only where allowed)."""
    services.require_postgres()
    with services.fresh_postgres_database() as url:
        services.migrate(url)
        yield url


@pytest.fixture
def scout_app() -> Iterator[AppUnderTest]:
    """The app under test; a test or fixture changes settings with scout_app.update(...)."""
    yield APP
    APP.reset()


@pytest.fixture(autouse=True)
def no_task_outlives_its_test(scout_app: AppUnderTest) -> Iterator[None]:
    """Before and after every test, the shared worker holds none of its tasks (session_worker).

    After the test, it drains before scout_app goes back to the base settings: what was still
    running ends with this test's database and mail server, and what waited never runs.
    """
    SESSION_WORKER.drain()
    yield
    SESSION_WORKER.drain()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, scout_app: AppUnderTest) -> Iterator[str]:
    """Each test using it runs on SQLite and on PostgreSQL, with empty tables; yields the URL."""
    url = request.getfixturevalue(
        {"sqlite": "sqlite_url", "postgresql": "postgres_url"}[request.param]
    )
    scout_app.update(database_url=url)
    services.empty_all_tables(get_engine())
    yield url


@pytest.fixture
def sqlite_db(sqlite_url: str, scout_app: AppUnderTest) -> Iterator[str]:
    """Empty tables on the SQLite test database; yields the URL."""
    scout_app.update(database_url=sqlite_url)
    services.empty_all_tables(get_engine())
    yield sqlite_url


@pytest.fixture(scope="session")
def celery_worker_session():
    """A real Celery worker (threads pool) on the private Redis db, shared by the session."""
    import celery.contrib.testing.tasks  # noqa: F401  (registers celery.ping)
    from celery.contrib.testing.worker import start_worker

    SESSION_WORKER.purge()  # what tests queued before it started is theirs, not its
    with start_worker(
        celery_app,
        pool="threads",
        concurrency=4,
        perform_ping_check=True,
        queues=list(QUEUES),
        shutdown_timeout=30,
    ) as worker:
        SESSION_WORKER.running = True
        try:
            yield worker
        finally:
            SESSION_WORKER.running = False


@pytest.fixture
def worker(celery_worker_session):
    """The running Celery worker; use it in tests that send tasks."""
    return celery_worker_session
