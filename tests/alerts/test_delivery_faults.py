"""Delivery under faults: bad recipients, a database that stops answering, a run left open."""

from __future__ import annotations

import time

import pytest
from celery import chord
from sqlalchemy import update

from models import Alert, AlertRun, Session, Subscriber, utcnow
from scheduler.alerts.watchlist import add_watch
from scheduler.tasks.alerts import finish_alert_run, send_digests
from tests.support.alerts import (
    RECIPIENTS,
    OutboxLock,
    alerts_by_email,
    run_check,
    three_pending,
    wait_for_run,
    watch,
)

UNICODE = "ünïcødé@example.com"


@pytest.mark.usefixtures("catalogue")
def test_a_non_ascii_recipient_fails_alone_and_the_rest_of_the_batch_is_served(worker, smtp_server):
    watch("ann@example.com", 620)
    with Session.begin() as session:  # stored before subscribe refused such addresses
        session.add(
            Subscriber(
                email=UNICODE,
                unsubscribe_token="t" * 43,
                created_at=utcnow(),
                confirmed_at=utcnow(),
            )
        )
        session.flush()
        add_watch(session, UNICODE, "app/400", below_cents=1000)
    watch("bob@example.com", 220)

    run = run_check()

    assert (run.status, run.sent, run.failed) == ("done", 2, 1)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "ann@example.com",
        "bob@example.com",
    ]
    (alert,) = alerts_by_email()[UNICODE]
    assert (alert.status, alert.attempts) == ("failed", 1)
    assert "does not offer SMTPUTF8" in (alert.last_error or "")
    assert "SMTPUTF8" in (run.error_summary or "")


def test_nothing_more_is_sent_until_the_accepted_email_is_recorded(db, worker, smtp_server):
    ids = three_pending()
    lock = OutboxLock(db)

    def lock_after_the_first(count: int) -> None:
        if count == 1:
            lock.take()  # before the server's 250 reaches the sender

    smtp_server.handler.after_accept = lock_after_the_first
    try:
        result = send_digests.delay(0, ids)
        smtp_server.wait_for(1)
        time.sleep(1.5)
        sent_while_locked = smtp_server.handler.count
    finally:
        lock.release()
    status = result.get(timeout=30)

    assert sent_while_locked == 1  # the old writer thread let two more go out
    assert (status["emails"], status["sent"]) == (3, 3)
    recipients = sorted(m.rcpt_tos[0] for m in smtp_server.messages)
    assert recipients == list(RECIPIENTS)
    assert {a.status for group in alerts_by_email().values() for a in group} == {"sent"}


def test_a_header_that_meets_anything_unexpected_returns_a_status_and_the_run_closes(
    db, worker, smtp_server
):
    ids = three_pending()
    with Session.begin() as session:
        run = AlertRun(task_id="odd-batch", started_at=utcnow(), status="running")
        session.add(run)
        session.flush()
        run_id = run.id
        session.execute(update(Alert).values(alert_run_id=run_id))
    # A batch that is not a list of ids: claiming it raises TypeError inside the task.
    header = [send_digests.s(run_id, None), send_digests.s(run_id, ids)]

    chord(header)(finish_alert_run.s(run_id))

    closed = wait_for_run(run_id=run_id)
    assert (closed.status, closed.sent) == ("done", 3)
    assert "TypeError" in (closed.error_summary or "")
    assert len(smtp_server.wait_for(3)) == 3
