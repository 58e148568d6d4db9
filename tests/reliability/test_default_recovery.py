"""Recovery with the production defaults, measured: minutes per scenario, so not in CI.

    scripts/test tests/reliability -s -m defaults

The rest of the fault suite shortens ALERT_STUCK_AFTER, SCRAPE_STALLED_AFTER and the sweeps'
interval to end in seconds; these scenarios keep every default, with the sweeps sent as often
as beat_schedule.py has beat send them, and check the README's "closed within" column.
"""

from __future__ import annotations

import time

import pytest

from beat_schedule import DEFAULT_SCHEDULE
from config import load_config
from models import ScrapePage
from tests.reliability.fanout import Sweeper, assert_within, fan_out, seed_subscribers, statuses
from tests.reliability.scraping import GAMES, PAGES, count, scrape_settings
from tests.support.faults import FAST_RECOVERY, record_figures, wait_for
from tests.support.scrapes import run_of, scrape_run_of

pytestmark = pytest.mark.defaults

DEFAULTS = load_config({})
# Every setting the fast suite shortens, back at its default (LOG_LEVEL is not about recovery).
PRODUCTION = {
    name: getattr(DEFAULTS, name.lower()) for name in FAST_RECOVERY if name != "LOG_LEVEL"
}
SWEEP_EVERY = DEFAULT_SCHEDULE["requeue-stuck-alerts"]["schedule"]["every"]
assert DEFAULT_SCHEDULE["close-stalled-scrapes"]["schedule"]["every"] == SWEEP_EVERY
EMAILS = 1000
SLACK = 60  # seconds for the sends and the scrape after the sweep that frees them
ALERTS_BOUND = DEFAULTS.alert_stuck_after + SWEEP_EVERY + SLACK
SCRAPE_BOUND = DEFAULTS.scrape_stalled_after + SWEEP_EVERY + SLACK


def test_a_worker_sigkilled_mid_fan_out_is_recovered_within_the_readmes_bound(
    fault_db, client, sink, start_worker
):
    emails = seed_subscribers(EMAILS)
    worker = start_worker(**PRODUCTION)

    def crash_and_restart() -> None:
        worker.kill()
        start_worker(**PRODUCTION)

    result = fan_out(
        "defaults: SIGKILL at 500/1000, restarted",
        client,
        sink,
        emails=emails,
        fault_after=500,
        fault=crash_and_restart,
        timeout=ALERTS_BOUND,
        sweep_every=SWEEP_EVERY,
    )

    assert_within(result, duplicates=2)
    assert statuses() == {"sent": EMAILS}


def test_a_redis_restarted_empty_mid_fan_out_is_recovered_within_the_readmes_bound(
    fault_db, client, sink, broker, start_worker
):
    emails = seed_subscribers(EMAILS)
    start_worker(**PRODUCTION)

    result = fan_out(
        "defaults: Redis restarted empty mid fan-out",
        client,
        sink,
        emails=emails,
        fault_after=300,
        fault=broker.restart_empty,
        timeout=ALERTS_BOUND,
        sweep_every=SWEEP_EVERY,
    )

    assert_within(result, duplicates=0)
    assert statuses() == {"sent": EMAILS}


def test_a_redis_restarted_empty_mid_scrape_closes_the_run_within_the_readmes_bound(
    fault_db, client, broker, store, start_worker
):
    store.control({"games": GAMES, "faults": [{"kind": "slow", "delay": 0.05, "times": None}]})
    start_worker(**PRODUCTION, **scrape_settings(store))
    with Sweeper(client, SWEEP_EVERY):
        first = client.send_task("scheduler.tasks.catalogue.scrape_catalogue", queue="scrape")
        run_id = wait_for(lambda: (run := run_of(first.id)) and run.id, 60, "the run to open")
        wait_for(lambda: count(ScrapePage.run_id == run_id) >= 20, 60, "20 pages to land")
        began = time.monotonic()
        broker.restart_empty()
        lost = scrape_run_of(first.id, SCRAPE_BOUND)
        closed_after = time.monotonic() - began
        second = client.send_task("scheduler.tasks.catalogue.scrape_catalogue", queue="scrape")
        again = scrape_run_of(second.id, 120)
    record_figures(
        f"defaults: Redis restarted empty mid scrape: the broken run closed {lost.status} in "
        f"{closed_after:.0f} s (SCRAPE_STALLED_AFTER {DEFAULTS.scrape_stalled_after} s, sweeps "
        f"every {SWEEP_EVERY} s); the next read {again.pages_ok} of {PAGES} pages"
    )

    assert lost.status == "partial" and lost.pages_ok + lost.pages_failed == PAGES
    assert closed_after >= DEFAULTS.scrape_stalled_after  # never before the quiet period
    assert (again.status, again.pages_ok, again.rows_seen) == ("ok", PAGES, GAMES)
