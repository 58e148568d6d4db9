"""Scrapes under fault: a catalogue of small pages, slow enough that a fault lands mid run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from models import Session
from storesim.store import SimStore

GAMES, PAGE_SIZE = 2000, 20
PAGES = GAMES // PAGE_SIZE


def scrape_settings(store: SimStore) -> dict[str, object]:
    """A worker's settings for the simulated store's catalogue in pages of PAGE_SIZE."""
    return {"STORE_URL": store.url, "STORE_PAGE_SIZE": PAGE_SIZE, "SCRAPE_PAGES_PER_TASK": 2}


def count(*where: Any) -> int:
    """Return how many rows match where (of the table its columns name)."""
    with Session() as session:
        return session.scalar(select(func.count()).where(*where)) or 0
