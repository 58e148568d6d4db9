"""How a task the schedule sent ended: its run in the database, else its result in Redis."""

from __future__ import annotations

from datetime import timedelta

import redis

from models import AlertRun, Session, utcnow
from scheduler.app import celery as app
from scheduler.beat.outcomes import Outcome, from_meta, result_reader, task_outcomes
from tests.support.ports import free_port

KEPT = timedelta(days=7)


def outcomes(sent, client):
    with Session() as session:
        return task_outcomes(session, sent, result_reader(app, client), now=utcnow(), kept=KEPT)


def test_a_run_the_task_opened_wins_over_its_celery_result(db, redis_client):
    with Session.begin() as session:
        session.add(AlertRun(task_id="t-run", started_at=utcnow(), status="running"))
    app.backend.store_result("t-run", None, "SUCCESS")

    found = outcomes({"t-run": utcnow()}, redis_client)["t-run"]

    assert (found.state, found.run[0]) == ("running", "alerts")
    assert found.text.startswith("alert run ") and found.text.endswith(": running")


def test_stored_results_read_in_one_round_trip(db, redis_client):
    app.backend.store_result("t-ok", {"sent": 3}, "SUCCESS")
    app.backend.store_result("t-bad", KeyError("x" * 1000), "FAILURE")
    app.backend.store_result("t-started", None, "STARTED")
    app.backend.store_result("t-revoked", None, "REVOKED")
    redis_client.set(app.backend.get_key_for_task("t-junk"), b"\x00not json")
    now = utcnow()

    found = outcomes(
        {
            "t-ok": now,
            "t-bad": now,
            "t-started": now,
            "t-revoked": now,
            "t-junk": now,
            "t-new": now,
            "t-old": now - timedelta(days=8),
        },
        redis_client,
    )

    assert found["t-ok"] == Outcome("ok", "succeeded")
    assert found["t-bad"].state == "failed" and found["t-bad"].text.startswith("failed: KeyError")
    assert len(found["t-bad"].text) <= 300
    assert found["t-started"] == Outcome("running", "running")
    assert found["t-revoked"].state == "failed" and "revoked" in found["t-revoked"].text
    assert found["t-junk"] == Outcome("unknown", "unreadable")
    assert found["t-new"] == Outcome("waiting", "waiting for a worker")
    assert found["t-old"] == Outcome("unknown", "no record left (results are kept 7 days)")


def test_redis_out_of_reach_leaves_the_outcome_unknown_and_the_page_up(db):
    down = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=1)

    found = outcomes({"t-x": utcnow()}, down)

    assert found["t-x"].state == "unknown" and "Redis does not answer" in found["t-x"].text


def test_a_retry_names_the_error_it_waits_out():
    meta = {
        "status": "RETRY",
        "result": {"exc_type": "SMTPServerDisconnected", "exc_message": ["gone"]},
    }
    assert from_meta(meta, utcnow(), now=utcnow(), kept=KEPT) == Outcome(
        "running", "retrying after: SMTPServerDisconnected: gone"
    )
