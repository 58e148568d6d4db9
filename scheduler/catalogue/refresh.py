"""The watched-prices refresh's database steps: which apps are due, and applying an answer.

Prices go through the catalogue's own upsert (scheduler.catalogue.persist), so a refreshed price
and a scraped one write one history row per real change between them, never two. Helpers take
the session first and never commit.

A price's age is the time since the store last confirmed it: the later of the refresh's answer
(price_refreshed_at) and the scrape's sighting (last_seen). Caveat: a scraped row whose price
could not be read also moves last_seen.

An answer we cannot use for one app (malformed, another currency) keeps the price and is
recorded on the game (price_error_at, price_error); the planner counts it as an attempt
(queued_at), so such an app queues behind the fresher ones instead of riding along in the first
request of every tick, while its price's age (checked_at) still says it is unconfirmed.

Order of refresh (plan_refresh): the oldest weighted age first, where an app on sale
(discount_pct > 0) ages sale_weight times as fast, and one on the same sale for more than
SALE_ENDING_AFTER sale_weight times as fast again: the store's answer carries no end date,
and Steam's sales mostly last one or two weeks, so a sale that old is about to end. A weight, not
a fixed head start: with many apps on sale a head start would refresh them every tick and
starve the rest; a weight of 2 refreshes them twice as often and every other app still in turn.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Exists, Table, bindparam, exists, select, update
from sqlalchemy.orm import Session

from models.alert import Subscriber, WatchEntry
from models.game import Game
from scheduler.catalogue.appdetails import PriceAnswer, to_listings
from scheduler.catalogue.persist import upsert_listings

SALE_ENDING_AFTER = timedelta(days=6)
ERROR_LENGTH = 200  # games.price_error
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Watched:
    """A watched app as the planner sees it."""

    steam_id: int
    refreshed_at: datetime | None
    last_seen: datetime
    discount_pct: int
    price_changed_at: datetime | None
    error_at: datetime | None = None

    @property
    def checked_at(self) -> datetime:
        """Return when the store last confirmed the price (refresh or scrape)."""
        return max(self.refreshed_at or _NEVER, self.last_seen)

    @property
    def queued_at(self) -> datetime:
        """Return when the price was last confirmed or asked for with an unusable answer."""
        return max(self.checked_at, self.error_at or _NEVER)


def _watched_by_subscribers() -> Exists:
    return exists().where(
        WatchEntry.game_id == Game.id,
        WatchEntry.paused_at.is_(None),
        Subscriber.id == WatchEntry.subscriber_id,
        Subscriber.unsubscribed_at.is_(None),
        Subscriber.confirmed_at.is_not(None),
    )


def watched_apps(session: Session) -> list[Watched]:
    """Return every app at least one subscribed subscriber watches (packages and bundles not)."""
    rows = session.execute(
        select(
            Game.steam_id,
            Game.price_refreshed_at,
            Game.last_seen,
            Game.discount_pct,
            Game.price_changed_at,
            Game.price_error_at,
        )
        .where(Game.kind == "app", _watched_by_subscribers())
        .order_by(Game.steam_id)
    )
    return [Watched(*row) for row in rows]


def weighted_age(app: Watched, now: datetime, sale_weight: int) -> float:
    """Return the app's price age in seconds, weighted for sales; older is refreshed sooner."""
    age = (now - app.queued_at).total_seconds()
    if app.discount_pct > 0:
        age *= sale_weight
        if app.price_changed_at is not None and now - app.price_changed_at > SALE_ENDING_AFTER:
            age *= sale_weight
    return age


def plan_refresh(watched: Iterable[Watched], *, now: datetime, sale_weight: int) -> list[int]:
    """Return the watched apps' ids in the order to refresh them (see the module docstring)."""
    ordered = sorted(watched, key=lambda app: (-weighted_age(app, now, sale_weight), app.steam_id))
    return [app.steam_id for app in ordered]


def apply_answer(
    session: Session, answer: PriceAnswer, *, now: datetime, currency: str
) -> list[int]:
    """Store an answer's prices, stamp answered apps refreshed, bad ones errored; return changes."""
    titles = dict(
        session.execute(
            select(Game.steam_id, Game.title).where(
                Game.kind == "app", Game.steam_id.in_(sorted(answer.prices))
            )
        ).all()
    )
    upsert_listings(session, to_listings(answer, titles), currency=currency, run_id=None, now=now)
    mark_refreshed(session, answer.answered, now=now)
    mark_errors(session, answer.bad, now=now)
    return changed_at(session, list(titles), now=now)


def mark_refreshed(session: Session, steam_ids: Collection[int], *, now: datetime) -> None:
    """Stamp these apps as refreshed at now."""
    if steam_ids:
        session.execute(
            update(Game)
            .where(Game.kind == "app", Game.steam_id.in_(sorted(steam_ids)))
            .values(price_refreshed_at=now, price_error=None)
        )


def mark_errors(session: Session, reasons: Mapping[int, str], *, now: datetime) -> None:
    """Record that these apps answered unusably at now, and why; their prices stay."""
    if not reasons:
        return
    table = cast(Table, Game.__table__)  # core: one statement executed for many rows
    session.execute(
        update(table)
        .where(table.c.kind == "app", table.c.steam_id == bindparam("b_steam_id"))
        .values(price_error_at=now, price_error=bindparam("b_reason")),
        [
            {"b_steam_id": steam_id, "b_reason": reason[:ERROR_LENGTH]}
            for steam_id, reason in sorted(reasons.items())
        ],
    )


def refreshed_since(session: Session, steam_ids: Sequence[int], *, since: datetime) -> set[int]:
    """Return which of these apps another refresh answered for at or after since."""
    if not steam_ids:
        return set()
    return set(
        session.scalars(
            select(Game.steam_id).where(
                Game.kind == "app",
                Game.steam_id.in_(steam_ids),
                (Game.price_refreshed_at >= since) | (Game.price_error_at >= since),
            )
        )
    )


def changed_at(session: Session, steam_ids: Sequence[int], *, now: datetime) -> list[int]:
    """Return the ids of these apps' games whose price changed at exactly now (by this upsert)."""
    if not steam_ids:
        return []
    return list(
        session.scalars(
            select(Game.id)
            .where(Game.kind == "app", Game.steam_id.in_(steam_ids), Game.price_changed_at == now)
            .order_by(Game.id)
        )
    )


def freshness(session: Session, *, now: datetime) -> dict[str, float | int | None]:
    """Return how many apps are watched and their prices' oldest and median age in seconds."""
    watched = watched_apps(session)
    ages = sorted(max(0.0, (now - app.checked_at).total_seconds()) for app in watched)
    return {
        "watched": len(watched),
        "never_refreshed": sum(1 for app in watched if app.refreshed_at is None),
        "oldest_age": round(ages[-1], 1) if ages else None,
        "median_age": round(statistics.median(ages), 1) if ages else None,
    }
