"""Delivery while PostgreSQL restarts: a private server, stopped and started by the tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from models import Alert, AlertRun, Session, get_engine, utcnow
from scheduler.tasks.alerts import dispatch, requeue_stuck_alerts, send_digests
from tests.support import services
from tests.support.alerts import RECIPIENTS, three_pending
from tests.support.app import AppUnderTest
from tests.support.postgres import PrivatePostgres, private_postgres

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    """A migrated private PostgreSQL server for this module's tests."""
    with private_postgres() as server:
        services.migrate(server.url)
        yield server


@pytest.fixture
def pg(private_pg: PrivatePostgres, scout_app: AppUnderTest) -> Iterator[PrivatePostgres]:
    """The private server, running, with empty tables, bound to models.Session."""
    if not private_pg.is_running():
        private_pg.start()
    scout_app.update(database_url=private_pg.url)
    services.empty_all_tables(get_engine())
    yield private_pg
    if not private_pg.is_running():
        private_pg.start()


def outage(
    server: PrivatePostgres, seconds: float, seen: list[int], count: Callable[[], int]
) -> threading.Thread:
    """Stop server now and start it again after seconds; seen gets count() just before."""

    def later() -> None:
        time.sleep(seconds)
        seen.append(count())
        server.start()

    server.stop()
    thread = threading.Thread(target=later, daemon=True)
    thread.start()
    return thread


def read_when_up(query: object, timeout: float = 90.0) -> list[object]:
    """Return the rows of query once the database answers; fails after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with Session() as session:
                return list(session.scalars(query))  # type: ignore[call-overload]
        except OperationalError:
            time.sleep(0.2)
    raise AssertionError("the database did not come back")


def test_a_send_stops_while_the_database_is_down_and_records_what_was_accepted(
    pg, worker, smtp_server
):
    ids = three_pending()
    sent_during_outage: list[int] = []
    restarts: list[threading.Thread] = []

    def stop_after_the_first(count: int) -> None:
        if count == 1:  # before the server's 250: its record will find the database gone
            restarts.append(outage(pg, 3.0, sent_during_outage, lambda: smtp_server.handler.count))

    smtp_server.handler.after_accept = stop_after_the_first

    status = send_digests.delay(0, ids).get(timeout=90)
    restarts[0].join(30)

    assert sent_during_outage == [1]

    assert status["emails"] == 3 and status["error"] is None
    received = smtp_server.messages
    assert sorted(m.rcpt_tos[0] for m in received) == list(RECIPIENTS)
    alerts = read_when_up(select(Alert).order_by(Alert.id))
    assert {a.status for a in alerts} == {"sent"}  # type: ignore[attr-defined]
    assert sorted(a.message_id for a in alerts) == sorted(  # type: ignore[attr-defined]
        m.message["Message-ID"] for m in received
    )


def test_alerts_put_back_for_an_smtp_retry_before_an_outage_get_that_retry(
    pg, worker, smtp_server, scout_app
):
    ids = three_pending()
    scout_app.update(mail_retry_backoff=6.0, mail_retry_backoff_max=6.0)
    smtp_server.refuse(RECIPIENTS[0], "451 4.2.1 Mailbox busy, try again later", times=1)
    restarts: list[threading.Thread] = []

    def stop_after_the_second(count: int) -> None:
        if count == 1:  # the first recipient was deferred; the second's record finds no database
            restarts.append(outage(pg, 2.0, [], lambda: smtp_server.handler.count))

    smtp_server.handler.after_accept = stop_after_the_second
    began = time.monotonic()

    status = send_digests.delay(0, ids).get(timeout=90)
    took = time.monotonic() - began
    restarts[0].join(30)

    # The task that put the first recipient's alert back for its SMTP retry spent its own
    # retries on the database; it still sends that alert when due, not the sweep minutes later.
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == list(RECIPIENTS)
    assert (status["emails"], status["error"]) == (1, None) and 6.0 * 0.8 <= took < 30
    alerts = read_when_up(select(Alert).order_by(Alert.id))
    assert [a.status for a in alerts] == ["sent"] * 3  # type: ignore[attr-defined]


def test_a_database_error_while_claiming_still_closes_the_run(pg, worker, smtp_server, scout_app):
    ids = three_pending()
    with Session.begin() as session:
        run = AlertRun(task_id="outage-run", started_at=utcnow(), status="running")
        session.add(run)
        session.flush()
        run_id = run.id
        for alert in session.scalars(select(Alert)):
            alert.alert_run_id = run_id
    scout_app.update(alert_db_retries=1)
    seen: list[int] = []
    restart = outage(pg, 3.0, seen, lambda: smtp_server.handler.count)

    dispatch(run_id, [ids])
    restart.join(30)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        (closed,) = read_when_up(select(AlertRun).where(AlertRun.id == run_id))
        if closed.status != "running":  # type: ignore[attr-defined]
            break
        time.sleep(0.2)
    assert closed.status == "failed"  # type: ignore[attr-defined]
    assert "cannot claim alerts" in closed.error_summary  # type: ignore[attr-defined]
    assert "3 alerts left for the sweep" in closed.error_summary  # type: ignore[attr-defined]
    assert seen == [0] and smtp_server.messages == []

    sweep = requeue_stuck_alerts.delay().get(timeout=30)

    assert sweep["subscribers"] == 3
    assert len(smtp_server.wait_for(3)) == 3
