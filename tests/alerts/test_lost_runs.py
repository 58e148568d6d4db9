"""Alert runs whose chord was lost (Redis restarted, a send raised) are closed by the sweep."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session as OrmSession

from models import AlertRun, Session, utcnow
from scheduler.alerts import runs as alert_runs
from scheduler.tasks.alerts import requeue_stuck_alerts
from tests.support.alerts import add_game, add_pending_alert


def add_run(session: OrmSession, task_id: str, *, started_ago: timedelta) -> AlertRun:
    run = AlertRun(task_id=task_id, started_at=utcnow() - started_ago, status="running")
    session.add(run)
    session.flush()
    return run


def test_a_run_with_nothing_left_to_send_is_closed_with_figures_from_its_alerts(db):
    with Session.begin() as session:
        game = add_game(session, 620, "Portal 2", price=499)
        run = add_run(session, "lost", started_ago=timedelta(hours=1))
        add_pending_alert(session, "ann@example.com", game, status="sent", run_id=run.id)
        add_pending_alert(session, "bob@example.com", game, status="sent", run_id=run.id)
        add_pending_alert(session, "cy@example.com", game, status="failed", run_id=run.id)
        run_id = run.id

    with Session.begin() as session:
        closed = alert_runs.close_lost_runs(
            session, now=utcnow(), started_before=utcnow() - timedelta(minutes=7)
        )

    assert closed == [run_id]
    with Session() as session:
        run = session.get_one(AlertRun, run_id)
        assert (run.status, run.sent, run.failed, run.skipped) == ("done", 2, 1, 0)
        assert "chord was lost" in run.error_summary and run.finished_at is not None


def test_a_run_that_still_owes_emails_or_just_started_is_left_open(db):
    with Session.begin() as session:
        game = add_game(session, 620, "Portal 2", price=499)
        owing = add_run(session, "owing", started_ago=timedelta(hours=1))
        add_pending_alert(session, "ann@example.com", game, status="sending", run_id=owing.id)
        fresh = add_run(session, "fresh", started_ago=timedelta(seconds=5))
        ids = (owing.id, fresh.id)

    with Session.begin() as session:
        closed = alert_runs.close_lost_runs(
            session, now=utcnow(), started_before=utcnow() - timedelta(minutes=7)
        )

    assert closed == []
    with Session() as session:
        assert {session.get_one(AlertRun, i).status for i in ids} == {"running"}


def test_the_sweep_sends_what_a_lost_chord_left_and_closes_its_run(db, worker, smtp_server):
    long_ago = utcnow() - timedelta(hours=2)
    with Session.begin() as session:
        game = add_game(session, 620, "Portal 2", price=499)
        run = add_run(session, "lost", started_ago=timedelta(hours=2))
        add_pending_alert(session, "ann@example.com", game, status="sent", run_id=run.id)
        add_pending_alert(
            session, "bob@example.com", game, status="sending", claimed_at=long_ago, run_id=run.id
        )
        run_id = run.id

    result = requeue_stuck_alerts.delay().get(timeout=20)

    assert result["closed"] == [run_id]
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [("bob@example.com",)]
    with Session() as session:
        lost = session.get_one(AlertRun, run_id)
        assert (lost.status, lost.sent) == ("done", 1)  # bob's alert moved to the sweep's run
