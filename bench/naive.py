"""The naive scrape of bench/loop.py: BeautifulSoup parse, one ORM merge per row, two processes."""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.upsert import naive_upsert  # noqa: E402
from storesim.store import SimStore  # noqa: E402
from tests.support import services  # noqa: E402

PAGE = 100


def naive_pages(job: tuple[str, str, list[int]]) -> int:
    """Fetch, BeautifulSoup-parse and merge row by row these pages (one process); return rows."""
    import requests

    from models import Session
    from models.base import configure_engine
    from tests.support.bs4_parser import parse_listings_bs4

    url, store_url, starts = job
    configure_engine(url)
    rows = 0
    with requests.Session() as http:
        for start in starts:
            query = {"start": start, "count": PAGE, "infinite": 1, "cc": "us", "l": "english"}
            body = http.get(f"{store_url}/search/results/", params=query, timeout=60).text
            listings, _ = parse_listings_bs4(json.loads(body)["results_html"])
            with Session.begin() as session:
                now = datetime.now(UTC)
                naive_upsert(session, listings, currency="USD", run_id=None, now=now)
            rows += len(listings)
    return rows


def naive_scrape(url: str, store: SimStore, items: int) -> tuple[float, int]:
    """Scrape the first items the naive way in two processes; return seconds and rows."""
    starts = list(range(0, items, PAGE))
    jobs = [(url, store.url, starts[half::2]) for half in (0, 1)]
    began = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        rows = sum(pool.map(naive_pages, jobs))
    return time.monotonic() - began, rows


def naive_scrape_into_empty(
    kind: str, work: Path, store: SimStore, items: int
) -> tuple[float, int]:
    """Run the naive scrape into an empty, migrated database of this kind."""
    if kind == "sqlite":
        url = f"sqlite:///{work / 'naive-scrape.db'}"
        services.migrate(url)
        return naive_scrape(url, store, items)
    with services.fresh_postgres_database() as url:
        services.migrate(url)
        return naive_scrape(url, store, items)
