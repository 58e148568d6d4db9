"""The simulated Steam store as a pytest fixture, on a free 127.0.0.1 port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storesim.store import SimStore, start_store
from tests.support.app import AppUnderTest


@pytest.fixture
def store() -> Iterator[SimStore]:
    """A running SimStore of 1000 games (seed 1, 2015 layout); stopped after the test."""
    sim = start_store(games=1000, layout="2015", seed=1)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def small_pages(scout_app: AppUnderTest, store: SimStore) -> SimStore:
    """Point the scrape tasks at the simulated store, 20 rows a page, 3 pages a task."""
    scout_app.update(
        store_url=store.url, store_page_size=20, scrape_pages_per_task=3, store_max_retries=2
    )
    return store
