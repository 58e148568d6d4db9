"""The appdetails budget holds when two worker processes refresh prices at the same time."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from celery import Celery

from tests.support.prices import paid_apps, seed_catalogue, watch
from tests.support.services import private_redis_db
from tests.support.workers import start_worker, stop, wait_ready

pytestmark = pytest.mark.slow

BUDGET, WINDOW = 6, 3.0
TASK = "scheduler.tasks.prices.refresh_watched_prices"


@pytest.fixture
def own_broker():
    """A Redis db of its own, so the in-process test worker never takes these tasks."""
    with private_redis_db() as url:
        client = Celery("budget-test", broker=url, backend=url)
        client.conf.result_extended = True
        yield url, client
        client.close()


def test_two_worker_processes_never_exceed_the_shared_budget(
    sqlite_db, store, own_broker, tmp_path: Path
) -> None:
    redis_url, client = own_broker
    rows = seed_catalogue(store)
    watch("fay@example.com", [r.steam_id for r in paid_apps(rows)[:80]])
    env = {
        **os.environ,
        "STORE_URL": store.url,
        "REDIS_URL": redis_url,
        "STORE_APPDETAILS_RATE_LIMIT": f"{BUDGET}/{int(WINDOW)}seconds",
        "STORE_APPDETAILS_BATCH": "2",
        "PRICE_REFRESH_REQUESTS": "1000",
        "STORE_MAX_RETRIES": "0",
    }
    log = Path(os.environ.get("SCOUT_TEST_LOG_DIR", tmp_path)) / "budget-workers.log"
    workers = [start_worker(env, log, name=f"budget{i}") for i in (1, 2)]
    try:
        names = wait_ready(client, 2)
        store.control({"reset_stats": True})
        began, sent = time.monotonic(), []
        while time.monotonic() - began < 3 * WINDOW:
            sent.append(client.send_task(TASK, queue="celery"))
            time.sleep(0.25)
        figures = [result.get(timeout=60) for result in sent]
        ran_on = {result.worker for result in sent}
    finally:
        for worker in workers:
            stop(worker)
    times = store.stats()["appdetails"]["times"]
    # Counted by the store on arrival, in the exact window.
    assert store.appdetails_most_in_window(WINDOW) <= BUDGET
    assert len(times) >= 2 * BUDGET  # the budget was used, window after window
    assert sum(f["requests"] for f in figures) == len(times)
    assert any(f["budget_spent"] for f in figures)
    assert ran_on == set(names)  # both processes took ticks
