"""Every task that touches the database meets an outage with one line per try, never a traceback:
a private PostgreSQL server is stopped under a real worker, then started again."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery import Task

from models import Session, utcnow
from models.base import get_engine
from scheduler.alerts import runs as alert_runs
from scheduler.catalogue import runs as scrape_runs
from scheduler.tasks import alerts, catalogue
from tests.support import services
from tests.support.postgres import PrivatePostgres, private_postgres

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def restartable_server() -> Iterator[PrivatePostgres]:
    """A migrated private PostgreSQL server that tests may stop and start."""
    with private_postgres() as server:
        services.migrate(server.url)
        yield server


@pytest.fixture
def restartable_db(restartable_server: PrivatePostgres, scout_app) -> Iterator[PrivatePostgres]:
    """The app on the private server, with empty tables; the server is up again afterwards."""
    scout_app.update(database_url=restartable_server.url)
    services.empty_all_tables(get_engine())
    yield restartable_server
    if not restartable_server.is_running():
        restartable_server.start()


def a_scrape_run() -> list[Any]:
    with Session.begin() as session:
        return [scrape_runs.start_run(session, task_id="test-scrape", now=utcnow()).id]


def an_alert_run() -> list[Any]:
    with Session.begin() as session:
        return [alert_runs.start_run(session, task_id="test-alerts", now=utcnow())[0].id]


# task, and what makes its arguments (while the database is up)
RETRIED: dict[str, tuple[Task, Callable[[], list[Any]]]] = {
    "check_watchlists": (alerts.check_watchlists, list),
    "finish_alert_run": (alerts.finish_alert_run, lambda: [[], *an_alert_run()]),
    "scrape_catalogue": (catalogue.scrape_catalogue, list),
    "scrape_pages": (catalogue.scrape_pages, lambda: [*a_scrape_run(), []]),
    "finish_scrape": (catalogue.finish_scrape, lambda: [[], *a_scrape_run()]),
}
SWEEPS = {
    "requeue_stuck_alerts": alerts.requeue_stuck_alerts,
    "close_stalled_scrapes": catalogue.close_stalled_scrapes,
}


def lines_of(task_id: str, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the WARNING and ERROR lines about this task; fail on a traceback or a line break."""
    found = []
    for record in caplog.records:
        message = record.getMessage()
        if task_id not in message or record.levelno < logging.WARNING:
            continue
        assert record.exc_info is None and "\n" not in message, message
        assert "raised unexpected" not in message and "[SQL:" not in message
        found.append(message)
    return found


def wait_for_line(task_id: str, caplog: pytest.LogCaptureFixture, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not lines_of(task_id, caplog):
        assert time.monotonic() < deadline, f"no line about {task_id}"
        time.sleep(0.05)


@pytest.mark.parametrize("name", sorted(RETRIED))
def test_a_task_retries_with_one_line_a_try_and_succeeds_once_the_database_is_back(
    restartable_db, worker, caplog, name
):
    task, make_args = RETRIED[name]
    args = make_args()
    with caplog.at_level(logging.INFO):
        restartable_db.stop()
        result = task.apply_async(args)
        wait_for_line(result.id, caplog)
        restartable_db.start()
        value = result.get(timeout=120)
    assert "error" not in value, value
    lines = lines_of(result.id, caplog)
    assert all("database unavailable (" in line for line in lines), lines
    tries = [int(n) for n in re.findall(r"; retry (\d+) of \d+ in", " ".join(lines))]
    assert tries == list(range(1, len(lines) + 1))  # one line per failed try, in order


@pytest.mark.parametrize("name", sorted(SWEEPS))
def test_a_sweep_logs_one_line_and_leaves_the_retry_to_its_next_run(
    restartable_db, worker, caplog, name
):
    with caplog.at_level(logging.INFO):
        restartable_db.stop()
        value = SWEEPS[name].apply_async().get(timeout=60)
    assert value["error"].startswith("database unavailable (")
    lines = [line for line in lines_of("", caplog) if name in line]
    assert len(lines) == 1 and lines[0].endswith("; the next run tries again")


def test_a_task_out_of_retries_gives_up_in_one_line_and_returns_a_status(
    restartable_db, worker, caplog, monkeypatch
):
    monkeypatch.setattr(alerts.check_watchlists, "db_retries", 1)
    with caplog.at_level(logging.INFO):
        restartable_db.stop()
        result = alerts.check_watchlists.apply_async()
        value = result.get(timeout=60)
    assert value["error"].startswith("database unavailable (")
    lines = lines_of(result.id, caplog)
    assert len(lines) == 2 and "retry 1 of 1 in 1s" in lines[0]
    assert lines[1].endswith("; gave up after 1 retries")
