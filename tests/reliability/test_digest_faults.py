"""Daily digests going out at their hour through a worker SIGKILL and a Redis restart.

The check holds every alert for its subscriber's digest; when the hour comes, the sweep adopts
them and fans them out. The faults hit that fan-out as they hit an immediate one. The digest
hour is an hour ahead when the check runs; once every alert is held, the test moves the
database's clock to it (as the wall clock reaching it would), so a slow machine cannot make the
check run after the hour.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from sqlalchemy import func, select, update

from models import Alert, Session, Subscriber
from tests.reliability.fanout import assert_within, fan_out, seed_subscribers, statuses
from tests.support.faults import wait_for
from tests.support.smtp import SmtpServer

EMAILS = 1000
KILLED_SENDERS = 2  # the worker's two pool processes: each may repeat the email in flight
SWEEP_EVERY = 2.0


def held() -> int:
    """Return how many alerts wait (or waited) for a digest."""
    with Session() as session:
        return session.scalar(select(func.count()).where(Alert.hold_until.is_not(None))) or 0


def digest_hour(client: Celery, sink: SmtpServer, expected: int) -> Callable[[], None]:
    """Return fan_out's start: the check holds every drop, sweeps send nothing, the hour comes."""

    def start() -> None:
        client.send_task("scheduler.tasks.alerts.check_watchlists", queue="celery")
        wait_for(lambda: held() == expected, 120, "every alert held for its digest")
        time.sleep(3 * SWEEP_EVERY)
        assert sink.messages == [], "an email went out before its digest hour"
        now = datetime.now(UTC)
        with Session.begin() as session:
            session.execute(update(Subscriber).values(next_digest_at=now))
            session.execute(update(Alert).values(hold_until=now))

    return start


@pytest.mark.slow
def test_a_worker_sigkilled_while_daily_digests_go_out_then_restarted_loses_nothing(
    fault_db, client, sink, start_worker
):
    emails = seed_subscribers(EMAILS, digest_at=datetime.now(UTC) + timedelta(hours=1))
    worker = start_worker()

    def crash_and_restart() -> None:
        worker.kill()
        start_worker()

    result = fan_out(
        f"daily digests: SIGKILL at 500/{EMAILS}, restarted",
        client,
        sink,
        emails=emails,
        fault_after=500,
        fault=crash_and_restart,
        start=digest_hour(client, sink, EMAILS),
        sweep_every=SWEEP_EVERY,
    )

    assert_within(result, duplicates=KILLED_SENDERS)
    assert statuses() == {"sent": EMAILS} and held() == EMAILS


@pytest.mark.slow
def test_a_redis_restarted_empty_while_daily_digests_go_out_sends_each_once(
    fault_db, client, sink, broker, start_worker
):
    emails = seed_subscribers(EMAILS, digest_at=datetime.now(UTC) + timedelta(hours=1))
    start_worker()

    result = fan_out(
        f"daily digests: Redis restarted empty at 300/{EMAILS}",
        client,
        sink,
        emails=emails,
        fault_after=300,
        fault=broker.restart_empty,
        start=digest_hour(client, sink, EMAILS),
        sweep_every=SWEEP_EVERY,
    )

    assert_within(result, duplicates=0)
    assert statuses() == {"sent": EMAILS} and held() == EMAILS
