"""Scrapes through a Redis restart and a SIGKILL: the run closes, the next one fills the gaps."""

from __future__ import annotations

import time

import pytest

from models import Game, PriceChange, ScrapePage
from tests.reliability.fanout import Sweeper
from tests.reliability.scraping import GAMES, PAGES, count, scrape_settings
from tests.support.faults import record_figures, wait_for
from tests.support.scrapes import run_of, scrape_run_of


@pytest.mark.slow
def test_a_redis_restarted_empty_mid_scrape_closes_the_run_and_the_next_fills_the_gaps(
    fault_db, client, broker, store, start_worker
):
    store.control({"games": GAMES, "faults": [{"kind": "slow", "delay": 0.05, "times": None}]})
    start_worker(**scrape_settings(store))
    with Sweeper(client):
        first = client.send_task("scheduler.tasks.catalogue.scrape_catalogue", queue="scrape")
        run_id = wait_for(lambda: (run := run_of(first.id)) and run.id, 60, "the run to open")
        wait_for(lambda: count(ScrapePage.run_id == run_id) >= 20, 60, "20 pages to land")
        began = time.monotonic()
        broker.restart_empty()
        lost = scrape_run_of(first.id, 60)
        closed_after = time.monotonic() - began
        second = client.send_task("scheduler.tasks.catalogue.scrape_catalogue", queue="scrape")
        again = scrape_run_of(second.id, 120)
        recovered = time.monotonic() - began
    limiter_failures = count(
        ScrapePage.run_id == run_id, ScrapePage.error.like("%rate limiter unavailable%")
    )
    games, history = count(Game.id.is_not(None)), count(PriceChange.id.is_not(None))
    record_figures(
        f"Redis restarted empty mid scrape: expected {GAMES} games / stored {games} / "
        f"duplicate history rows {history - games} / lost {GAMES - games} / pages of the "
        f"broken run {lost.pages_ok} ok, {lost.pages_failed} not / run closed in "
        f"{closed_after:.1f} s / time to recover {recovered:.1f} s"
    )

    assert lost.status == "partial" and lost.pages_ok + lost.pages_failed == PAGES
    assert limiter_failures == 0  # a Redis error at the rate limiter is retried
    assert (again.status, again.pages_ok, again.rows_seen) == ("ok", PAGES, GAMES)
    assert (games, history) == (GAMES, GAMES)


@pytest.mark.slow
def test_a_task_of_a_sigkilled_worker_is_redelivered_within_the_visibility_timeout(
    fault_db, client, store, start_worker
):
    store.control({"games": 200, "faults": [{"kind": "slow", "delay": 0.5, "times": None}]})
    settings = {**scrape_settings(store), "SCRAPE_PAGES_PER_TASK": 9}  # one task of 9 pages
    doomed = start_worker(**settings)
    scrape = client.send_task("scheduler.tasks.catalogue.scrape_catalogue", queue="scrape")
    run_id = wait_for(lambda: (run := run_of(scrape.id)) and run.id, 60, "the run to open")
    opened_at = time.monotonic()  # the page task is delivered after the run opens
    wait_for(lambda: count(ScrapePage.run_id == run_id) >= 3, 60, "three pages to land")
    doomed.kill()
    killed_at, landed = time.monotonic(), count(ScrapePage.run_id == run_id)
    start_worker(**settings)
    wait_for(lambda: count(ScrapePage.run_id == run_id) > landed, 150, "the task to come back")
    back_at = time.monotonic()
    took, since_delivery = back_at - killed_at, back_at - opened_at
    run = scrape_run_of(scrape.id, 60)
    record_figures(
        f"SIGKILL mid task: redelivered {took:.1f} s after the kill, {since_delivery:.1f} s after"
        " the task was delivered (visibility timeout 15 s)"
    )

    assert (run.status, run.pages_ok) == ("ok", 10)
    # The timeout runs from delivery, which came before the kill: never redelivered before it
    # (opened_at is read up to one 20 ms poll after the run opened), and soon after it.
    assert since_delivery >= 15 - 0.1
    assert took <= 15 + 3 + 10  # timeout, one restore interval, a page and a start
