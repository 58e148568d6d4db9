"""Scrapes under fault: a catalogue of small pages, slow enough that a fault lands mid run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from celery import Celery
from sqlalchemy import func, select

from models import ScrapePage, ScrapeRun, Session
from storesim.store import SimStore
from tests.reliability.fanout import Sweeper
from tests.support.faults import RedisServer, wait_for
from tests.support.scrapes import run_of, scrape_run_of

SCRAPE = "scheduler.tasks.catalogue.scrape_catalogue"

GAMES, PAGE_SIZE = 2000, 20
PAGES = GAMES // PAGE_SIZE


def scrape_settings(store: SimStore) -> dict[str, object]:
    """A worker's settings for the simulated store's catalogue in pages of PAGE_SIZE."""
    return {"STORE_URL": store.url, "STORE_PAGE_SIZE": PAGE_SIZE, "SCRAPE_PAGES_PER_TASK": 2}


def count(*where: Any) -> int:
    """Return how many rows match where (of the table its columns name)."""
    with Session() as session:
        return session.scalar(select(func.count()).where(*where)) or 0


@dataclass
class BrokenScrape:
    """A scrape that lost its broker mid run, and the scrape after it."""

    run_id: int
    lost: ScrapeRun  # the broken run, once closed
    again: ScrapeRun  # the next scrape's run, once closed
    closed_after: float  # seconds from the restart until the broken run closed
    recovered: float  # seconds from the restart until the next run closed


def scrape_through_a_redis_restart(
    client: Celery, broker: RedisServer, *, sweep_every: float, close_within: float
) -> BrokenScrape:
    """Scrape, restart Redis empty once 20 pages landed, wait for the run to close, scrape again.

    A worker must be running; the sweeps are sent every sweep_every seconds throughout.
    """
    with Sweeper(client, sweep_every):
        first = client.send_task(SCRAPE, queue="scrape")
        run_id = wait_for(lambda: (run := run_of(first.id)) and run.id, 60, "the run to open")
        wait_for(lambda: count(ScrapePage.run_id == run_id) >= 20, 60, "20 pages to land")
        began = time.monotonic()
        broker.restart_empty()
        lost = scrape_run_of(first.id, close_within)
        closed_after = time.monotonic() - began
        again = scrape_run_of(client.send_task(SCRAPE, queue="scrape").id, 120)
        recovered = time.monotonic() - began
    return BrokenScrape(run_id, lost, again, closed_after, recovered)
