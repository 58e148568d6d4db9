from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import PROJECT_ROOT
from scheduler.app import celery as app


def test_a_real_worker_answers_on_the_private_redis_db(worker, redis_url):
    assert app.conf.broker_url == redis_url
    result = app.send_task("celery.ping")
    assert result.get(timeout=10) == "pong"


def test_a_db_that_a_leftover_worker_still_reads_is_never_claimed():
    import redis

    from tests.support import services

    admin = redis.Redis.from_url(f"{services.REDIS_SERVER}/0")
    taken = {int(client["db"]) for client in admin.client_list()}
    free = next(
        n for n in range(1, 16) if n not in taken and not admin.exists(f"scout-test-lock:{n}")
    )
    # A process of a killed test run: connected to the db, holding no lock.
    leftover = redis.Redis.from_url(f"{services.REDIS_SERVER}/{free}")
    leftover.ping()
    try:
        with services.private_redis_db() as url:
            assert not url.endswith(f"/{free}")
        assert not admin.exists(f"scout-test-lock:{free}")
    finally:
        leftover.close()
        admin.close()


# Two tests, run in this order in a session of their own with this suite's fixtures. The first
# ends while its send's retry waits in the shared worker for its countdown; the second builds
# the same rows (same ids: its tables start empty) and a mail server of its own.
TWO_TESTS = """
from celery.worker import state
from sqlalchemy import select

from models import Alert, Session
from scheduler.tasks.alerts import send_digests
from tests.support.alerts import RECIPIENTS, three_pending
from tests.support.faults import wait_for

RETRY_IN = 5.0


def held():
    return [
        request
        for requests in (state.scheduled_requests, state.reserved_requests, state.active_requests)
        for request in list(requests)
    ]


def test_one_ends_while_its_retry_waits(sqlite_db, worker, smtp_server, scout_app):
    scout_app.update(mail_retry_backoff=RETRY_IN, mail_retry_backoff_max=RETRY_IN)
    smtp_server.refuse(RECIPIENTS[0], "451 4.2.1 Mailbox busy, try again later")
    send_digests.delay(0, three_pending())
    wait_for(
        lambda: any(r.name.endswith("send_digests") for r in list(state.scheduled_requests)),
        60,
        "the worker to hold the send's retry for its countdown",
    )


def test_two_finds_its_alerts_as_it_made_them(sqlite_db, worker, smtp_server):
    three_pending()
    wait_for(lambda: not held(), 60, "the worker to hold nothing", every=0.05)

    with Session() as session:
        alerts = session.scalars(select(Alert).order_by(Alert.id)).all()
    assert [(a.status, a.attempts, a.last_error) for a in alerts] == [("pending", 0, None)] * 3
    assert smtp_server.messages == []
"""


@pytest.mark.slow
def test_a_retry_one_test_left_waiting_never_touches_the_next_tests_data(tmp_path: Path):
    tests = tmp_path / "test_two_in_a_row.py"
    tests.write_text(TWO_TESTS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider"]
        + ["-c", str(PROJECT_ROOT / "pyproject.toml"), "--rootdir", str(tmp_path), "-q"]
        + ["-o", "addopts=", str(tests)],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout
