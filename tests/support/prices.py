"""The watched-prices refresh against the simulated store: a seeded catalogue and watchers."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
import requests

from models import Session, utcnow
from scheduler.alerts.watchlist import add_watch, subscribe
from scheduler.catalogue.parse import Listing, parse_search_response
from scheduler.catalogue.persist import upsert_listings
from storesim.store import SimStore
from tests.support.app import AppUnderTest

GAMES = 300


def seed_catalogue(store: SimStore, games: int = GAMES) -> list[Listing]:
    """Scrape the sim's search pages into the catalogue as the nightly scrape does; return rows."""
    store.control({"games": games})
    rows: list[Listing] = []
    for start in range(0, games, 100):
        query = {"start": start, "count": 100, "infinite": 1, "cc": "us", "l": "english"}
        body = requests.get(f"{store.url}/search/results/", params=query, timeout=10).text
        rows += parse_search_response(body, start).listings
    with Session.begin() as session:
        upsert_listings(session, rows, currency="USD", run_id=None, now=utcnow())
    return rows


def paid_apps(rows: Iterable[Listing]) -> list[Listing]:
    """Return the rows that are apps at a full, paid price."""
    return [r for r in rows if r.kind == "app" and r.final_cents and not r.discount_pct]


def watch(email: str, appids: Iterable[int], below_cents: int | None = None) -> None:
    """Subscribe email and watch each app (below a price, or for any discount of 10%)."""
    with Session.begin() as session:
        subscribe(session, email)
        for appid in appids:
            if below_cents is None:
                add_watch(session, email, f"App_{appid}", min_discount=10)
            else:
                add_watch(session, email, f"App_{appid}", below_cents=below_cents)


@pytest.fixture
def refresh_store(scout_app: AppUnderTest, store: SimStore) -> SimStore:
    """Point the refresh (and its store client) at the simulated store with a roomy budget."""
    scout_app.update(
        store_url=store.url,
        store_max_retries=1,
        store_appdetails_rate_limit="1000/minute",
        store_appdetails_batch=20,
        price_refresh_requests=100,
    )
    return store
