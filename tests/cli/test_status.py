"""scout status: what an admin checks first when emails stop coming."""

from __future__ import annotations

import json
from datetime import timedelta

import redis

from models import Session, utcnow
from scheduler.beat.lock import BeatLock
from scheduler.cli import main
from tests.support.catalogue import add_game


def test_status_names_the_missing_beat_and_exits_1(sqlite_db, worker, capsys):
    assert main(["status"]) == 1
    out = capsys.readouterr().out
    assert "workers: " in out and "none" not in out.splitlines()[0]
    assert "problem: no beat holds the schedule lock" in out


def test_status_is_all_good_with_a_worker_and_a_beat_holding_the_lock(
    sqlite_db, worker, redis_url, capsys
):
    lock = BeatLock(redis.Redis.from_url(redis_url), ttl=30)
    assert lock.hold()
    try:
        assert main(["status", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
    finally:
        lock.release()
    assert report["beat"] == lock.token and report["workers"]
    assert report["problems"] == [] and report["last_scrape"] is None
    assert set(report["queues"]) == {"celery", "scrape", "mail"}


def test_status_counts_failed_and_stuck_alerts(sqlite_db, worker, capsys):
    from scheduler.alerts import watchlist

    with Session.begin() as session:
        add_game(session, 440, 1999)
        watchlist.subscribe(session, "ann@example.com")
        watchlist.add_watch(session, "ann@example.com", "App_440", below_cents=2500)
        watchlist.find_due_alerts(session, now=utcnow() - timedelta(hours=2), alert_run_id=None)
    assert main(["status", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["alerts"] == {"pending": 1} and report["alerts_stuck"] == 1
    assert "1 alerts are stuck in pending or sending" in report["problems"]


def test_status_flags_an_alert_run_that_never_closed(sqlite_db, worker, capsys):
    from models import AlertRun

    with Session.begin() as session:
        session.add(AlertRun(task_id="lost-chord", started_at=utcnow() - timedelta(hours=2)))
        session.add(AlertRun(task_id="live", started_at=utcnow(), status="running"))
    assert main(["status"]) == 1
    out = capsys.readouterr().out
    assert "problem: 1 alert runs never closed (still running after ALERT_STUCK_AFTER): 1" in out
