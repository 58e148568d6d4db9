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


def test_status_shows_the_age_of_watched_prices_and_flags_the_oldest_past_the_setting(
    sqlite_db, worker, redis_url, capsys
):
    from scheduler.alerts import watchlist
    from scheduler.catalogue.refresh import mark_refreshed

    now = utcnow()
    with Session.begin() as session:
        for steam_id, hours in ((440, 3), (570, 0.01), (730, 0.02)):
            add_game(session, steam_id, 1999, when=now - timedelta(hours=hours))
            mark_refreshed(session, [steam_id], now=now - timedelta(hours=hours))
        add_game(session, 999, 1999, when=now - timedelta(days=9))  # unwatched: not counted
        watchlist.subscribe(session, "ann@example.com")
        for item in ("App_440", "App_570", "App_730"):
            watchlist.add_watch(session, "ann@example.com", item, below_cents=999)
    lock = BeatLock(redis.Redis.from_url(redis_url), ttl=30)
    assert lock.hold()
    try:
        assert main(["status", "--json"]) == 1
        report = json.loads(capsys.readouterr().out)
        assert main(["status"]) == 1
        out = capsys.readouterr().out
    finally:
        lock.release()
    prices = report["prices"]
    assert prices["watched"] == 3 and prices["stale_after"] == 3600
    assert 3 * 3600 - 5 < prices["oldest_age"] < 3 * 3600 + 60
    assert 72 - 5 < prices["median_age"] < 72 + 60
    assert "prices:  3 watched apps, oldest 3h00m, median 1m1" in out
    [line] = [p for p in report["problems"] if "oldest watched price" in p]
    assert line.startswith("the oldest watched price is 3h00m old (PRICE_STALE_AFTER is 1h00m)")


def test_status_raises_no_price_problem_while_watched_prices_are_fresh(
    sqlite_db, worker, redis_url, capsys
):
    from scheduler.alerts import watchlist

    with Session.begin() as session:
        add_game(session, 440, 1999, when=utcnow() - timedelta(minutes=5))
        watchlist.subscribe(session, "ann@example.com")
        watchlist.add_watch(session, "ann@example.com", "App_440", below_cents=999)
    lock = BeatLock(redis.Redis.from_url(redis_url), ttl=30)
    assert lock.hold()
    try:
        assert main(["status", "--json"]) == 0
    finally:
        lock.release()
    report = json.loads(capsys.readouterr().out)
    assert report["prices"]["watched"] == 1 and report["problems"] == []


def test_status_flags_an_alert_run_that_never_closed(sqlite_db, worker, capsys):
    from models import AlertRun

    with Session.begin() as session:
        session.add(AlertRun(task_id="lost-chord", started_at=utcnow() - timedelta(hours=2)))
        session.add(AlertRun(task_id="live", started_at=utcnow(), status="running"))
    assert main(["status"]) == 1
    out = capsys.readouterr().out
    assert (
        "problem: 1 alert runs stalled (running, no email claimed for ALERT_STUCK_AFTER): 1" in out
    )


def test_a_long_fan_out_still_claiming_is_not_stuck_and_a_quiet_one_is(sqlite_db):
    from models import AlertRun
    from scheduler.health import database_health
    from tests.support.alerts import add_game as add_watched_game
    from tests.support.alerts import add_pending_alert

    now, long_ago = utcnow(), utcnow() - timedelta(hours=1)
    with Session.begin() as session:
        game = add_watched_game(session, 620, "Portal 2", price=499)
        runs = {}
        for name, claimed in (("busy", now), ("quiet", long_ago)):
            run = AlertRun(task_id=name, started_at=long_ago, status="running")
            session.add(run)
            session.flush()
            runs[name] = run.id
            add_pending_alert(
                session, f"{name}@example.com", game, status="sent", claimed_at=claimed,
                run_id=run.id,
            )  # fmt: skip
            queued = add_pending_alert(session, f"{name}-queued@example.com", game, run_id=run.id)
            queued.created_at = long_ago
        add_pending_alert(
            session, "killed@example.com", game, status="sending", claimed_at=long_ago,
            run_id=runs["busy"],
        )  # fmt: skip

        report = database_health(session, now=now, stuck_after=180)

    # the quiet run's queued alert and the killed send's claim; not the busy run's queue
    assert (report["alert_runs_stuck"], report["alerts_stuck"]) == ([runs["quiet"]], 2)


def seed_schedule(at) -> None:
    """Store beat_schedule.py's defaults as a first beat start at `at` would."""
    from beat_schedule import DEFAULT_SCHEDULE
    from scheduler.beat import entries as store

    with Session.begin() as session:
        store.seed_defaults(session, DEFAULT_SCHEDULE, "test", at)


def status_with_a_beat(redis_url: str, capsys, *argv: str) -> tuple[int, str]:
    lock = BeatLock(redis.Redis.from_url(redis_url), ttl=30)
    assert lock.hold()
    try:
        code = main(["status", *argv])
    finally:
        lock.release()
    return code, capsys.readouterr().out


def test_status_shows_each_schedule_entry_s_next_run(sqlite_db, worker, redis_url, capsys):
    from beat_schedule import DEFAULT_SCHEDULE

    seed_schedule(utcnow())
    code, out = status_with_a_beat(redis_url, capsys, "--json")
    assert code == 0, out
    entries = {e["name"]: e for e in json.loads(out)["schedule"]}
    assert entries.keys() == DEFAULT_SCHEDULE.keys()
    assert all(e["next_run"] and not e["overdue"] for e in entries.values())
    code, out = status_with_a_beat(redis_url, capsys)
    assert code == 0
    assert any(
        line.startswith("entry:   check-watchlists") and " next 20" in line
        for line in out.splitlines()
    )


def test_status_flags_an_entry_that_is_overdue_and_exits_1(sqlite_db, worker, redis_url, capsys):
    seed_schedule(utcnow() - timedelta(hours=3))  # beat has not fired anything since
    code, out = status_with_a_beat(redis_url, capsys, "--json")
    assert code == 1
    problems = json.loads(out)["problems"]
    assert any(
        p.startswith("schedule entry requeue-stuck-alerts was due at") and "is beat running?" in p
        for p in problems
    ), problems
