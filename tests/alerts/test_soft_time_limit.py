"""A send that hits its soft time limit in a real prefork worker: what was accepted stays sent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import select

from models import Alert, Session
from tests.support.alerts import OutboxLock
from tests.support.faults import wait_for
from tests.support.services import private_redis_db
from tests.support.smtp import SmtpServer
from tests.support.workers import start_worker, stop

pytestmark = pytest.mark.slow

EMAILS = tuple(f"user{n}@example.com" for n in range(6))
# Long enough for two emails to go out on any machine, however busy: the limit must strike
# while the second one's record waits, and the test waits for it to strike, not for a time.
SOFT_LIMIT = 10


def test_a_soft_time_limit_never_releases_an_email_the_server_accepted(db, tmp_path):
    from tests.support.alerts import add_game, add_pending_alert

    with Session.begin() as session:
        game = add_game(session, 620, "Portal 2", price=499)
        ids = [add_pending_alert(session, email, game).subscriber_id for email in EMAILS]
    lock = OutboxLock(db)

    def stall_the_outbox(count: int) -> None:
        if count == 2:  # the second email's record waits past the soft time limit
            lock.take()

    log = Path(os.environ.get("SCOUT_TEST_LOG_DIR", tmp_path)) / "soft-limit-worker.log"
    with private_redis_db() as redis_url, SmtpServer() as sink:
        sink.handler.after_accept = stall_the_outbox
        env = {
            **os.environ,
            "DATABASE_URL": db,
            "REDIS_URL": redis_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(sink.port),
        }
        client = Celery("soft-limit-test", broker=redis_url, backend=redis_url)
        logged_before = log.stat().st_size if log.exists() else 0  # the log may be kept
        worker = start_worker(env, log, name="soft-limit", queues="celery,scrape,mail")
        try:
            result = client.send_task(
                "scheduler.tasks.alerts.send_digests",
                args=(0, ids),
                queue="mail",
                soft_time_limit=SOFT_LIMIT,
                time_limit=SOFT_LIMIT + 120,
            )
            wait_for(lambda: sink.handler.count >= 2, 60, "two emails to arrive")
            # The worker says so the moment the limit strikes, while the record waits.
            wait_for(lambda: struck(log, logged_before), 60, "the soft time limit to strike")
            lock.release()
            # The task then retries the released subscribers after the SMTP backoff (30 s);
            # what matters is the outbox as the soft limit left it.
            wait_for(lambda: statuses() == {"sent": 2, "pending": 4}, 30, "2 sent, 4 released")
            assert result.state in ("STARTED", "RETRY")
        finally:
            lock.release()
            stop(worker)
            client.close()
        accepted = {m.rcpt_tos[0] for m in sink.messages}

    with Session() as session:
        rows = session.execute(
            select(Alert.subscriber_id, Alert.status, Alert.last_error).order_by(Alert.id)
        ).all()
    by_email = dict(zip(EMAILS, rows, strict=True))
    assert len(accepted) == 2 and len(sink.messages) == 2
    for email in accepted:
        assert by_email[email].status == "sent"
    for email in set(EMAILS) - accepted:
        assert by_email[email].status == "pending"
        assert by_email[email].last_error == "soft time limit reached"


def struck(log: Path, offset: int) -> bool:
    """Return True once the worker logged, past offset, that a soft time limit struck."""
    return b"Soft time limit" in log.read_bytes()[offset:]


def statuses() -> dict[str, int]:
    """Return how many alerts are in each status."""
    with Session() as session:
        rows = session.execute(select(Alert.status)).scalars().all()
    return {status: rows.count(status) for status in set(rows)}
