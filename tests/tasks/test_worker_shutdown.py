"""A real worker process stopped the way Heroku stops dynos, mid-scrape: nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import func, select

from models import Game, PriceChange, ScrapePage, ScrapeRun, Session
from tests.support.faults import wait_for
from tests.support.services import private_redis_db
from tests.support.workers import start_worker, stop

pytestmark = pytest.mark.slow

GAMES, PAGE_SIZE = 240, 20


@pytest.fixture
def own_broker():
    """A Redis db of its own, so the in-process test worker never takes these tasks."""
    with private_redis_db() as url:
        client = Celery("shutdown-test", broker=url, backend=url)
        yield url, client
        client.close()


def pages_landed(run_id: int) -> int:
    with Session() as session:
        return (
            session.scalar(
                select(func.count()).where(ScrapePage.run_id == run_id, ScrapePage.status == "ok")
            )
            or 0
        )


def interrupted_scrape(store, broker, log: Path, interrupt, **settings: str) -> ScrapeRun:
    """Scrape with a worker that interrupt(worker) stops mid-run, then a fresh worker; the run."""
    redis_url, client = broker
    store.control({"games": GAMES, "faults": [{"kind": "slow", "delay": 0.4, "times": None}]})
    env = {
        **os.environ,
        "STORE_URL": store.url,
        "REDIS_URL": redis_url,
        "STORE_PAGE_SIZE": str(PAGE_SIZE),
        "SCRAPE_PAGES_PER_TASK": "2",
        **settings,
    }
    first, second = start_worker(env, log, name="shutdown", queues="celery,scrape,mail"), None
    try:
        result = client.send_task("scheduler.tasks.catalogue.scrape_catalogue", queue="scrape")
        run_id = wait_for(lambda: _run_id(result.id), 60, "the scrape run to open")
        wait_for(lambda: pages_landed(run_id) >= 3, 60, "three pages to land")
        interrupt(first)
        assert pages_landed(run_id) < GAMES // PAGE_SIZE, "the run ended before the interruption"
        second = start_worker(env, log, name="shutdown", queues="celery,scrape,mail")
        wait_for(lambda: _finished(run_id), 150, "a new worker to finish the run")
    finally:
        stop(first)
        if second is not None:
            stop(second)
    with Session() as session:
        return session.get(ScrapeRun, run_id)


def assert_whole(run: ScrapeRun) -> None:
    """The run closed ok with every page, every game, and one history row per game."""
    assert (run.status, run.pages_ok, run.pages_failed) == ("ok", GAMES // PAGE_SIZE, 0)
    assert run.rows_seen == GAMES
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(Game)) == GAMES
        assert session.scalar(select(func.count()).select_from(PriceChange)) == GAMES


def _run_id(task_id: str) -> int | None:
    with Session() as session:
        return session.scalar(select(ScrapeRun.id).where(ScrapeRun.task_id == task_id))


def _finished(run_id: int) -> bool:
    with Session() as session:
        return session.get(ScrapeRun, run_id).status != "running"


def test_a_worker_stopped_with_sigterm_mid_scrape_loses_no_page_and_doubles_nothing(
    sqlite_db, store, tmp_path, own_broker
):
    def heroku_restart(worker: subprocess.Popen) -> None:
        worker.send_signal(signal.SIGTERM)  # what Heroku sends every dyno, daily
        worker.wait(40)

    log = Path(os.environ.get("SCOUT_TEST_LOG_DIR", tmp_path)) / "worker.log"
    run = interrupted_scrape(
        store, own_broker, log, heroku_restart, DATABASE_URL=sqlite_db, REMAP_SIGTERM="SIGQUIT"
    )
    assert_whole(run)


def test_a_worker_killed_with_sigkill_mid_scrape_has_its_pages_redelivered(
    sqlite_db, store, tmp_path, own_broker
):
    def crash(worker: subprocess.Popen) -> None:
        os.killpg(worker.pid, signal.SIGKILL)  # no warning, mid-task
        worker.wait(10)
        time.sleep(6)  # past the visibility timeout: the messages it held are due again

    log = Path(os.environ.get("SCOUT_TEST_LOG_DIR", tmp_path)) / "killed-worker.log"
    run = interrupted_scrape(
        store, own_broker, log, crash, DATABASE_URL=sqlite_db, BROKER_VISIBILITY_TIMEOUT="5"
    )
    assert_whole(run)
