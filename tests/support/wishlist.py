"""Wishlist imports for tests: Steam pointed at the simulated store, imports queued and awaited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from models import Game, Session, WishlistImport, utcnow
from scheduler.alerts.personal import Rule
from scheduler.tasks.wishlist import import_wishlist
from scheduler.wishlist import imports
from scheduler.wishlist.profile import read_profile
from storesim.store import SimStore
from tests.support.app import AppUnderTest
from tests.support.faults import wait_for

WISHLISTER, PRIVATE, EMPTY = 76561198000000001, 76561198000000002, 76561198000000003
NEW_LOW: Rule = ("new_low", None, None)


@pytest.fixture
def steam(scout_app: AppUnderTest, small_pages: SimStore) -> Iterator[SimStore]:
    """The simulated store as Steam's Web API and community site too (fast retries)."""
    scout_app.update(
        steam_api_url=small_pages.url,
        steam_community_url=small_pages.url,
        steam_api_rate_limit="1000/second",
    )
    yield small_pages


def request(subscriber_id: int, typed: str, rule: Rule = NEW_LOW) -> int:
    """Record an import of the profile typed, as the web does; return its id."""
    with Session.begin() as session:
        return imports.request_import(session, subscriber_id, read_profile(typed), rule, utcnow())


def finished(import_id: int, timeout: float = 60.0) -> WishlistImport:
    """Return the import once done or failed; AssertionError after timeout."""

    def check() -> WishlistImport | None:
        with Session() as session:
            row = session.get(WishlistImport, import_id)
        return row if row is not None and row.status in ("done", "failed") else None

    return wait_for(check, timeout, f"wishlist import {import_id} to finish")


def run_import(subscriber_id: int, typed: str, rule: Rule = NEW_LOW) -> WishlistImport:
    """Import through the broker and a worker; return the finished row."""
    import_id = request(subscriber_id, typed, rule)
    import_wishlist.delay(import_id)
    return finished(import_id)


def age_imports(subscriber_id: int, minutes: float = 6) -> None:
    """Move the subscriber's imports into the past, past the five minutes between two."""
    with Session.begin() as session:
        session.execute(
            update(WishlistImport)
            .where(WishlistImport.subscriber_id == subscriber_id)
            .values(requested_at=utcnow() - timedelta(minutes=minutes))
        )


def add_apps(appids: list[int]) -> dict[int, int]:
    """Add apps to the catalogue in one statement; return app id -> game id."""
    now = utcnow()
    rows = [
        {
            "kind": "app",
            "steam_id": appid,
            "title": f"Wished {appid}",
            "final_cents": 999,
            "original_cents": 999,
            "discount_pct": 0,
            "currency": "USD",
            "is_free": False,
            "first_seen": now,
            "last_seen": now,
        }
        for appid in appids
    ]
    with Session.begin() as session:
        session.execute(insert(Game), rows)
        found = session.execute(
            select(Game.steam_id, Game.id).where(Game.kind == "app", Game.steam_id.in_(appids))
        ).all()
        return {appid: game_id for appid, game_id in found}
