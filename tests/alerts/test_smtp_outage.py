"""Alerts released for their send's retry are that retry's: nobody sends them before it is due.

Not the sweep either, through an SMTP outage longer than ALERT_STUCK_AFTER; only a retry long
overdue (the task was lost) is adopted.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from models import Alert, AlertRun, Session, utcnow
from scheduler.alerts import outbox
from scheduler.tasks.alerts import check_watchlists, requeue_stuck_alerts
from tests.support.alerts import (
    add_game,
    add_pending_alert,
    alerts_by_email,
    wait_for_run,
    watch,
)
from tests.support.faults import wait_for
from tests.support.smtp import SmtpServer

STUCK_AFTER = 3  # seconds: shorter than the retry's backoff, as 420 s is beside 300 s
BACKOFF = 5.0  # every retry of the send waits 4 to 5 s (jittered)
OUTAGE = 10.0  # seconds of sweeping once the alerts wait for their retry: over 3 x STUCK_AFTER
SUBSCRIBERS = ("ann@example.com", "bob@example.com", "cy@example.com")


def sweep_for(seconds: float) -> list[dict[str, Any]]:
    """Run the sweep on the worker every half second for seconds; return what each did."""
    results, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        results.append(requeue_stuck_alerts.delay().get(timeout=20))
        time.sleep(0.5)
    return results


def waiting_for_their_retry() -> bool:
    """Return True once every alert was tried and put back for its send's retry."""
    alerts = [alert for group in alerts_by_email().values() for alert in group]
    return len(alerts) == len(SUBSCRIBERS) and all(
        alert.status == "pending" and alert.retry_at is not None for alert in alerts
    )


@pytest.mark.usefixtures("catalogue")
def test_alerts_waiting_for_their_retry_through_a_long_outage_are_not_adopted_and_go_once(
    worker, smtp_server: SmtpServer, scout_app
):
    scout_app.update(
        alert_stuck_after=STUCK_AFTER,
        mail_retry_backoff=BACKOFF,
        mail_retry_backoff_max=BACKOFF,
        alert_max_attempts=100,  # the bound on attempts below is measured, not this
    )
    for email, steam_id in zip(SUBSCRIBERS, (620, 400, 220), strict=True):
        watch(email, steam_id)
    smtp_server.go_down()
    down = time.monotonic()

    task = check_watchlists.delay()
    # A sweep before the first try would find a run that claimed nothing for STUCK_AFTER
    # whenever a busy machine is that slow to start its send, and rightly adopt its alerts:
    # that is the lost-chord case. Sweeping starts once the alerts wait for their retry.
    wait_for(waiting_for_their_retry, 60, "the alerts to be put back for their send's retry")
    sweeps = sweep_for(OUTAGE)
    smtp_server.come_back()
    down_for = time.monotonic() - down
    run = wait_for_run(task.id, timeout=60)
    sweeps += sweep_for(1.0)

    assert Counter(m.rcpt_tos[0] for m in smtp_server.messages) == dict.fromkeys(SUBSCRIBERS, 1)
    assert (run.status, run.sent, run.failed) == ("done", 3, 0)
    assert [s["subscribers"] for s in sweeps] == [0] * len(sweeps)  # nobody else chased them
    # The one retrying task tried at once, then at most every 0.8 * BACKOFF while the server
    # was down, then once more when it was back: a second sender would have spent more.
    most_attempts = 1 + int(down_for // (0.8 * BACKOFF)) + 1
    for email in SUBSCRIBERS:
        (alert,) = alerts_by_email()[email]
        assert alert.status == "sent"
        assert 2 <= alert.attempts <= most_attempts


def released_alert(*, retry_in: timedelta) -> Alert:
    """An alert a send claimed and released for its retry due retry_in from now."""
    with Session.begin() as session:
        game = add_game(session, 620, "Portal 2", price=499)
        started = utcnow() - timedelta(hours=1)
        run = AlertRun(task_id="outage", started_at=started, status="done")
        session.add(run)
        session.flush()
        alert = add_pending_alert(session, "ann@example.com", game, run_id=run.id)
    with Session.begin() as session:
        outbox.claim_alerts(session, [alert.subscriber_id], now=utcnow())
        back = outbox.release(
            session,
            [alert.id],
            reason="cannot connect",
            max_attempts=5,
            retry_at=utcnow() + retry_in,
        )
    assert back == 1
    return alert


class TestRetryAt:
    """An alert released for its send's retry belongs to that retry until it is due."""

    def test_no_claim_takes_it_before_its_retry_is_due_and_the_retry_clears_it(self, db):
        alert = released_alert(retry_in=timedelta(minutes=5))

        with Session.begin() as session:
            early = outbox.claim_alerts(session, [alert.subscriber_id], now=utcnow())
            due = utcnow() + timedelta(minutes=5)
            on_time = outbox.claim_alerts(session, [alert.subscriber_id], now=due)

        assert (early, on_time) == ({}, {alert.subscriber_id: [alert.id]})
        with Session() as session:
            claimed = session.get_one(Alert, alert.id)
            assert (claimed.status, claimed.attempts, claimed.retry_at) == ("sending", 2, None)

    def test_the_sweep_adopts_it_only_once_its_retry_is_long_overdue(self, db):
        alert = released_alert(retry_in=timedelta(minutes=-5))

        with Session.begin() as session:
            sweep = AlertRun(task_id="sweep", started_at=utcnow(), status="running")
            session.add(sweep)
            session.flush()
            within = outbox.adopt_orphans(
                session,
                sweep.id,
                older_than=utcnow() - timedelta(minutes=7),
                live_runs=(),
                now=utcnow(),
            )
            lost = outbox.adopt_orphans(
                session,
                sweep.id,
                older_than=utcnow() - timedelta(minutes=3),
                live_runs=(),
                now=utcnow(),
            )

        assert (within, lost) == ([], [alert.subscriber_id])

    def test_out_of_attempts_it_fails_with_no_retry_due(self, db):
        alert = released_alert(retry_in=timedelta(minutes=5))
        with Session.begin() as session:
            outbox.claim_alerts(session, [alert.subscriber_id], now=utcnow() + timedelta(hours=1))
            back = outbox.release(
                session, [alert.id], reason="451 later", max_attempts=2, retry_at=utcnow()
            )

        assert back == 0
        with Session() as session:
            failed = session.get_one(Alert, alert.id)
            assert (failed.status, failed.retry_at) == ("failed", None)


def test_the_sweep_sends_an_alert_whose_retry_was_lost_once(db, worker, smtp_server, scout_app):
    scout_app.update(alert_stuck_after=60)
    released_alert(retry_in=timedelta(minutes=-2))  # the retrying task vanished with Redis

    result = requeue_stuck_alerts.delay().get(timeout=20)

    assert wait_for_run(run_id=result["run_id"]).sent == 1
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [("ann@example.com",)]


def test_the_sweep_leaves_an_alert_waiting_for_its_retry_alone(db, worker, smtp_server):
    alert = released_alert(retry_in=timedelta(seconds=30))

    result = requeue_stuck_alerts.delay().get(timeout=20)

    assert (result["subscribers"], result["run_id"]) == (0, None)
    with Session() as session:
        assert session.get_one(Alert, alert.id).status == "pending"
    assert smtp_server.messages == []
