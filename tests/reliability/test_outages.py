"""Fan-outs through a Redis restart, a PostgreSQL restart, an SMTP outage and refused recipients."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, update

from models import Alert, AlertRun, Session, Subscriber
from tests.reliability.fanout import assert_within, fan_out, seed_subscribers, statuses

EMAILS = 1000
WORKER_PROCESSES = 2  # the pool processes of the one worker, each with its own DB connection
UNICODE = "ünïcødé@exämple.com"


@pytest.mark.slow
def test_a_redis_restarted_empty_mid_fan_out_sends_every_email_once_and_closes_the_run(
    fault_db, client, sink, broker, start_worker
):
    emails = seed_subscribers(EMAILS)
    start_worker()

    result = fan_out(
        "Redis restarted empty mid fan-out",
        client,
        sink,
        emails=emails,
        fault_after=300,
        fault=broker.restart_empty,
    )

    assert_within(result, duplicates=0)
    assert statuses() == {"sent": EMAILS}


@pytest.mark.slow
def test_a_postgresql_restart_mid_fan_out_loses_nothing_and_closes_every_run(
    fault_db, client, sink, pg_cluster, start_worker
):
    emails = seed_subscribers(EMAILS)
    start_worker()

    result = fan_out(
        "PostgreSQL restarted (pg_ctl -m fast) mid fan-out",
        client,
        sink,
        emails=emails,
        fault_after=300,
        fault=pg_cluster.restart_fast,
    )

    # At most one repeat per process per database outage, each with the first Message-ID.
    assert_within(result, duplicates=WORKER_PROCESSES)
    assert statuses() == {"sent": EMAILS}


@pytest.mark.slow
def test_an_smtp_server_down_for_30_s_gets_every_email_once_when_it_is_back(
    fault_db, client, sink, start_worker
):
    emails = seed_subscribers(EMAILS)
    # ALERT_STUCK_AFTER (10 s) is shorter than the send's retry backoff (30 s): alerts waiting
    # for their retry are left to it, not adopted by the 2 s sweeps and tried again.
    start_worker()

    def outage() -> None:
        sink.go_down()
        time.sleep(30)
        sink.come_back()

    result = fan_out(
        "SMTP down 30 s", client, sink, emails=emails, fault_after=200, fault=outage, timeout=400
    )

    assert_within(result, duplicates=0)
    assert statuses() == {"sent": EMAILS}


def test_550s_and_a_non_ascii_recipient_fail_those_alerts_alone_and_the_figures_add_up(
    fault_db, client, sink, start_worker
):
    emails = seed_subscribers(400)
    refused = {f"user{n}@example.com" for n in range(0, 400, 20)}  # 5%
    for address in refused:
        sink.refuse(address, "550 5.1.1 No such user here")
    # Stored before subscribe refused such addresses (or the relay stopped offering SMTPUTF8):
    # the sink does not offer SMTPUTF8, so only this recipient's alert may fail.
    with Session.begin() as session:
        session.execute(
            update(Subscriber).where(Subscriber.email == "user7@example.com").values(email=UNICODE)
        )
    served = emails - refused - {"user7@example.com"}
    start_worker()

    result = fan_out(
        "550 for 5% of recipients and one non-ASCII recipient",
        client,
        sink,
        emails=served,
        fault_after=0,
        fault=lambda: None,
    )

    assert_within(result, duplicates=0)
    assert not (refused | {UNICODE}) & set(result.by_recipient)
    failed = len(refused) + 1
    assert statuses() == {"sent": 400 - failed, "failed": failed}
    with Session() as session:
        reasons = dict(
            session.execute(
                select(Subscriber.email, Alert.last_error)
                .join(Alert, Alert.subscriber_id == Subscriber.id)
                .where(Alert.status == "failed")
            ).all()
        )
        figures = session.execute(
            select(func.sum(AlertRun.sent), func.sum(AlertRun.failed), func.count())
        ).one()
    assert set(reasons) == refused | {UNICODE}
    assert all("550" in (reasons[email] or "") for email in refused)
    assert "does not offer SMTPUTF8" in (reasons[UNICODE] or "")
    assert (figures[0], figures[1]) == (400 - failed, failed)
