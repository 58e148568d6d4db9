"""Delivery of price-drop emails end to end: a real worker, Redis, databases and SMTP server."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from models import (
    Alert,
    AlertRun,
    Session,
    Subscriber,
    get_engine,
    utcnow,
)
from scheduler.alerts import outbox
from scheduler.alerts import runs as alert_runs
from scheduler.tasks.alerts import check_watchlists, requeue_stuck_alerts, send_digests
from tests.support.alerts import (
    add_game,
    add_pending_alert,
    alerts_by_email,
    run_check,
    wait_for_run,
    watch,
)
from tests.support.smtp import TEST_BACKOFF, free_port


def test_it_sends_one_email_per_subscriber_with_all_their_drops(catalogue, worker, smtp_server):
    watch("ann@example.com", 620, 400)
    watch("bob@example.com", 220)

    run = run_check()

    assert (run.status, run.alerts_new, run.subscribers, run.sent, run.failed) == (
        "done",
        3,
        2,
        3,
        0,
    )
    messages = smtp_server.wait_for(2)
    assert sorted(m.rcpt_tos for m in messages) == [("ann@example.com",), ("bob@example.com",)]
    subjects = {m.rcpt_tos[0]: m.message["Subject"] for m in messages}
    assert subjects == {
        "ann@example.com": "2 games you watch dropped in price",
        "bob@example.com": "Half-Life 2 is now $7.49",
    }
    alerts = alerts_by_email()
    assert {a.status for group in alerts.values() for a in group} == {"sent"}
    assert len({a.message_id for a in alerts["ann@example.com"]}) == 1


def test_it_sends_nothing_on_the_next_run_at_the_same_price(catalogue, worker, smtp_server):
    watch("ann@example.com", 620)
    first = run_check()
    smtp_server.wait_for(1)

    second = run_check()

    assert (first.alerts_new, first.sent) == (1, 1)
    assert (second.alerts_new, second.sent, second.subscribers) == (0, 0, 0)
    time.sleep(0.3)
    assert len(smtp_server.messages) == 1


def test_a_550_for_one_recipient_fails_only_their_alerts_and_the_run_still_closes(
    catalogue, worker, smtp_server
):
    watch("ann@example.com", 620)
    watch("gone@example.com", 400, 220)
    smtp_server.refuse("gone@example.com", "550 5.1.1 <gone@example.com>: user unknown")

    run = run_check()

    assert (run.status, run.sent, run.failed) == ("done", 1, 2)
    assert "550" in (run.error_summary or "")
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ann@example.com",)]
    gone = alerts_by_email()["gone@example.com"]
    assert {a.status for a in gone} == {"failed"}
    assert all("550 5.1.1" in (a.last_error or "") and a.attempts == 1 for a in gone)


def test_a_450_for_a_recipient_is_retried_and_then_sent_once(catalogue, worker, smtp_server):
    watch("ann@example.com", 620)
    watch("busy@example.com", 400)
    smtp_server.refuse("busy@example.com", "450 4.2.1 mailbox busy, try later", times=1)

    run = run_check()

    assert (run.status, run.sent, run.failed) == ("done", 2, 0)
    recipients = sorted(m.rcpt_tos[0] for m in smtp_server.messages)
    assert recipients == ["ann@example.com", "busy@example.com"]
    busy = alerts_by_email()["busy@example.com"][0]
    assert (busy.status, busy.attempts) == ("sent", 2)


def test_a_451_after_data_is_retried_and_then_sent_once(catalogue, worker, smtp_server):
    watch("ann@example.com", 620)
    smtp_server.defer_next(2)

    run = run_check()

    assert (run.status, run.sent) == ("done", 1)
    assert len(smtp_server.messages) == 1
    assert alerts_by_email()["ann@example.com"][0].attempts == 3


def test_an_unreachable_server_is_retried_then_failed_and_the_run_still_closes(
    catalogue, worker, scout_app
):
    watch("ann@example.com", 620, 400)
    scout_app.update(mail_server="127.0.0.1", mail_port=free_port(), **TEST_BACKOFF)
    run = run_check()

    assert (run.status, run.sent, run.failed) == ("failed", 0, 2)
    for alert in alerts_by_email()["ann@example.com"]:
        assert alert.status == "failed"
        assert alert.attempts == 5
        assert "gave up after 5 attempts: cannot connect" in (alert.last_error or "")


def test_a_redelivered_send_task_sends_once(db, smtp_server):
    with Session.begin() as session:
        game = add_game(session, 620, "Portal 2", price=499)
        alert = add_pending_alert(session, "ann@example.com", game)
        subscriber_id = alert.subscriber_id

    first = send_digests(0, [subscriber_id])
    second = send_digests(0, [subscriber_id])

    assert (first["emails"], second["emails"]) == (1, 0)
    assert len(smtp_server.messages) == 1
    with Session() as session:
        assert session.get_one(Alert, alert.id).status == "sent"


def test_the_sweep_requeues_a_stuck_alert_and_it_is_sent_once(db, worker, smtp_server):
    long_ago = utcnow() - timedelta(hours=2)
    with Session.begin() as session:
        old_run = AlertRun(task_id="old", started_at=long_ago, finished_at=long_ago, status="done")
        session.add(old_run)
        session.flush()
        game = add_game(session, 620, "Portal 2", price=499)
        stuck = add_pending_alert(
            session,
            "ann@example.com",
            game,
            status="sending",
            claimed_at=long_ago,
            run_id=old_run.id,
        )
        busy = add_pending_alert(
            session,
            "bob@example.com",
            game,
            status="sending",
            claimed_at=utcnow(),
            run_id=old_run.id,
        )

    result = requeue_stuck_alerts.delay().get(timeout=20)
    run = wait_for_run(run_id=result["run_id"])

    assert (result["requeued"], result["subscribers"]) == (1, 1)
    assert (run.sent, run.failed) == (1, 0)
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ann@example.com",)]
    again = requeue_stuck_alerts.delay().get(timeout=20)
    assert again == {"requeued": 0, "closed": [], "subscribers": 0, "run_id": None}
    with Session() as session:
        assert session.get_one(Alert, stuck.id).status == "sent"
        assert session.get_one(Alert, stuck.id).attempts == 2
        assert session.get_one(Alert, busy.id).status == "sending"
    assert len(smtp_server.messages) == 1


def test_the_sweep_sends_pending_alerts_whose_run_is_over(db, worker, smtp_server):
    with Session.begin() as session:
        game = add_game(session, 620, "Portal 2", price=499)
        add_pending_alert(session, "ann@example.com", game)

    result = requeue_stuck_alerts.delay().get(timeout=20)

    assert wait_for_run(run_id=result["run_id"]).sent == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_it_delivers_over_starttls_with_login(catalogue, worker, smtp_tls_server):
    watch("ann@example.com", 620)

    run = run_check()

    assert (run.sent, run.failed) == (1, 0)
    assert smtp_tls_server.messages[0].message["Subject"] == "Portal 2 is now $4.99"


def test_a_redelivered_check_reuses_its_run(catalogue, worker, smtp_server):
    watch("ann@example.com", 620)

    check_watchlists.apply(task_id="check-1")
    first = wait_for_run("check-1")
    check_watchlists.apply(task_id="check-1")
    again = wait_for_run("check-1")

    assert first.id == again.id
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(AlertRun)) == 1
    assert len(smtp_server.wait_for(1)) == 1
    time.sleep(0.3)
    assert len(smtp_server.messages) == 1


class TestOutbox:
    """The claim, release and sweep rules without Celery."""

    def test_a_second_claim_gets_nothing(self, db):
        with Session.begin() as session:
            alert = add_pending_alert(
                session, "ann@example.com", add_game(session, 620, "Portal 2", price=499)
            )
        with Session.begin() as session:
            first = outbox.claim_alerts(session, [alert.subscriber_id], now=utcnow())
        with Session.begin() as session:
            second = outbox.claim_alerts(session, [alert.subscriber_id], now=utcnow())
        assert (first, second) == ({alert.subscriber_id: [alert.id]}, {})

    def test_a_claim_skips_an_unsubscribed_subscriber(self, db):
        with Session.begin() as session:
            alert = add_pending_alert(
                session, "ann@example.com", add_game(session, 620, "Portal 2", price=499)
            )
            session.get_one(Subscriber, alert.subscriber_id).unsubscribed_at = utcnow()
        with Session.begin() as session:
            assert outbox.claim_alerts(session, [alert.subscriber_id], now=utcnow()) == {}
        with Session() as session:
            assert session.get_one(Alert, alert.id).status == "skipped"

    def test_release_fails_alerts_out_of_attempts(self, db):
        with Session.begin() as session:
            alert = add_pending_alert(
                session, "ann@example.com", add_game(session, 620, "Portal 2", price=499)
            )
        for expected in ("pending", "pending", "failed"):
            with Session.begin() as session:
                outbox.claim_alerts(session, [alert.subscriber_id], now=utcnow())
                outbox.release(session, [alert.id], reason="451 later", max_attempts=3)
            with Session() as session:
                assert session.get_one(Alert, alert.id).status == expected

    def test_mark_sent_records_only_claimed_alerts_to_the_microsecond(self, db):
        with Session.begin() as session:
            game = add_game(session, 620, "Portal 2", price=499)
            claimed = add_pending_alert(session, "ann@example.com", game)
            unclaimed = add_pending_alert(session, "bob@example.com", game)
            outbox.claim_alerts(session, [claimed.subscriber_id], now=utcnow())
        at = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            ids = [claimed.id, unclaimed.id]
            changed = outbox.mark_sent(conn, ids, message_id="<m-1@scout.test>", now=at)
            conn.commit()
            again = outbox.mark_sent(conn, ids, message_id="<m-2@scout.test>", now=at)
            conn.commit()
        assert (changed, again) == (1, 0)
        with Session() as session:
            sent, other = session.get_one(Alert, claimed.id), session.get_one(Alert, unclaimed.id)
            assert (sent.status, sent.message_id, sent.sent_at) == ("sent", "<m-1@scout.test>", at)
            assert (other.status, other.message_id, other.sent_at) == ("pending", None, None)

    def test_adopt_orphans_leaves_alerts_of_a_live_run_alone(self, db):
        now = utcnow()
        cutoff = now - timedelta(minutes=3)
        with Session.begin() as session:
            live = AlertRun(task_id="live", started_at=now, status="running")
            sweep = AlertRun(task_id="sweep", started_at=now, status="running")
            session.add_all([live, sweep])
            session.flush()
            game = add_game(session, 620, "Portal 2", price=499)
            add_pending_alert(session, "ann@example.com", game, run_id=live.id)
            orphan = add_pending_alert(session, "bob@example.com", game)
            live_runs = alert_runs.live_run_ids(session, since=cutoff)
            adopted = outbox.adopt_orphans(
                session, sweep.id, older_than=cutoff, live_runs=live_runs, now=now
            )
        assert live_runs == {live.id, sweep.id}
        assert adopted == [orphan.subscriber_id]

    def test_a_long_fan_out_that_still_claims_is_alive_and_a_quiet_one_is_adopted(self, db):
        now = utcnow()
        cutoff, long_ago = now - timedelta(minutes=3), now - timedelta(minutes=30)
        with Session.begin() as session:
            busy = AlertRun(task_id="busy", started_at=long_ago, status="running")
            quiet = AlertRun(task_id="quiet", started_at=long_ago, status="running")
            over = AlertRun(task_id="over", started_at=long_ago, status="done")
            sweep = AlertRun(task_id="sweep", started_at=now, status="running")
            session.add_all([busy, quiet, over, sweep])
            session.flush()
            game = add_game(session, 620, "Portal 2", price=499)
            claims = [("busy", busy, now - timedelta(seconds=5))]
            claims += [("quiet", quiet, cutoff - timedelta(seconds=1))]
            claims += [("over", over, now)]  # a closed run is never live, however recent
            queued = {}
            for name, run, claimed_at in claims:
                add_pending_alert(
                    session, f"{name}-sent@example.com", game, status="sent",
                    claimed_at=claimed_at, run_id=run.id,
                )  # fmt: skip
                queued[name] = add_pending_alert(
                    session, f"{name}-queued@example.com", game, run_id=run.id
                ).subscriber_id
            live_runs = alert_runs.live_run_ids(session, since=cutoff)
            adopted = outbox.adopt_orphans(
                session, sweep.id, older_than=cutoff, live_runs=live_runs, now=now
            )
        assert live_runs == {busy.id, sweep.id}
        assert adopted == sorted([queued["quiet"], queued["over"]])


def test_scout_check_wait_prints_the_runs_figures(catalogue, worker, smtp_server, capsys):
    from scheduler.cli import main

    watch("ann@example.com", 620, 400)

    assert main(["check", "--wait", "--timeout", "30"]) == 0

    out = capsys.readouterr().out
    assert "check queued (task " in out
    assert ": done" in out and "alerts new: 2" in out and "sent: 2" in out and "failed: 0" in out
    assert len(smtp_server.messages) == 1


def test_each_send_and_each_run_logs_one_key_value_line_of_figures(
    catalogue, worker, smtp_server, caplog
):
    watch("ann@example.com", 620, 400)
    with caplog.at_level("INFO", logger="scheduler.tasks.alerts"):
        run = run_check()
    lines = [r.getMessage() for r in caplog.records if r.name == "scheduler.tasks.alerts"]
    [send] = [line for line in lines if line.startswith("alert send ")]
    [closed] = [line for line in lines if line.startswith("alert run ")]
    assert f"run_id={run.id} batch=1 sent=2 failed=0 emails=1 error=none" in send
    figures = dict(pair.split("=", 1) for pair in closed.removeprefix("alert run ").split())
    assert figures["run_id"] == str(run.id) and figures["status"] == "done"
    assert (figures["sent"], figures["failed"], figures["subscribers"]) == ("2", "0", "1")
    assert float(figures["seconds"]) >= 0
