"""The watch rules as SQL: the three set-based statements of one due-alerts pass.

A watch entry is armed while last_alert_cents is NULL. When its rule is met it gets one alert at
the game's current price and remembers that price; within the same arming it alerts again only
when the price falls below the last alerted one. When the current price no longer meets the rule,
the entry is re-armed (last_alert_cents NULL, generation + 1), so the next drop is a new drop even
at a price alerted before. Games without a paid price (unknown, free) are never judged: they
neither trigger nor re-arm, so a price that vanishes for one scrape cannot cause a repeat email.

Rules: "below" final_cents <= target_cents; "discount" discount_pct >= min_discount_pct;
"new_low" final_cents < the lowest paid price in price_history observed before the game's latest
history row (the current price), so a game seen once has no new low and returning to an earlier
low is not a new one. An alert's previous_cents is the price the drop came from: the price just
before the latest change if higher, else the list price (original_cents) if higher, else NULL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from models.alert import Alert, Subscriber, WatchEntry
from models.game import Game, PriceChange

WATCHES: Table = WatchEntry.__table__  # type: ignore[assignment]
GAMES: Table = Game.__table__  # type: ignore[assignment]
HISTORY: Table = PriceChange.__table__  # type: ignore[assignment]
ALERTS: Table = Alert.__table__  # type: ignore[assignment]
SUBSCRIBERS: Table = Subscriber.__table__  # type: ignore[assignment]

ALERT_COLUMNS = (
    "subscriber_id",
    "game_id",
    "watch_entry_id",
    "generation",
    "trigger_cents",
    "previous_cents",
    "currency",
    "status",
    "attempts",
    "created_at",
    "alert_run_id",
    "hold_until",
)


def _latest_change(game_id: ColumnElement[Any]) -> Any:
    """When the game's current price was first seen: the time of its latest history row."""
    h = HISTORY.alias("h_latest")
    return select(func.max(h.c.observed_at)).where(h.c.game_id == game_id).scalar_subquery()


def _earlier_low(game_id: ColumnElement[Any]) -> Any:
    """The lowest paid price of the game before its latest change; NULL if it had none."""
    h = HISTORY.alias("h_low")
    return (
        select(func.min(h.c.final_cents))
        .where(
            h.c.game_id == game_id,
            h.c.observed_at < _latest_change(h.c.game_id),
            h.c.final_cents.is_not(None),
            h.c.is_free.is_(False),
        )
        .scalar_subquery()
    )


def _price_before(game_id: ColumnElement[Any]) -> Any:
    """The game's price just before its latest change; NULL if it had none."""
    h = HISTORY.alias("h_prev")
    return (
        select(h.c.final_cents)
        .where(h.c.game_id == game_id, h.c.observed_at < _latest_change(h.c.game_id))
        .order_by(h.c.observed_at.desc(), h.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _priced() -> ColumnElement[bool]:
    """The game shows a paid price now."""
    price = GAMES.c.final_cents
    return and_(price.is_not(None), price > 0, GAMES.c.is_free.is_(False))


def _rule_met() -> ColumnElement[bool]:
    """The entry's rule holds for its game's current price; unknown (NULL) counts as not met."""
    price = GAMES.c.final_cents
    return func.coalesce(
        or_(
            and_(WATCHES.c.rule == "below", price <= WATCHES.c.target_cents),
            and_(WATCHES.c.rule == "discount", GAMES.c.discount_pct >= WATCHES.c.min_discount_pct),
            and_(WATCHES.c.rule == "new_low", price < _earlier_low(GAMES.c.id)),
        ),
        false(),
    )


def rearm_statement() -> Any:
    """UPDATE re-arming alerted entries whose game's paid price no longer meets their rule."""
    # The WHERE tests last_alert_cents, so on PostgreSQL a concurrent pass that waited on these
    # row locks re-checks it after our commit, finds NULL and bumps nothing a second time.
    return (
        update(WATCHES)
        .where(
            WATCHES.c.last_alert_cents.is_not(None),
            exists(select(1).where(GAMES.c.id == WATCHES.c.game_id, _priced(), not_(_rule_met()))),
        )
        .values(last_alert_cents=None, generation=WATCHES.c.generation + 1)
    )


def _was_price() -> Any:
    """A higher price the drop came from: the price before, else the list price, else NULL."""
    price, before, original = GAMES.c.final_cents, _price_before(GAMES.c.id), GAMES.c.original_cents
    return case((before > price, before), (original > price, original), else_=null())


def _due_rows(now: datetime, alert_run_id: int | None) -> Any:
    price = GAMES.c.final_cents
    run_id = null() if alert_run_id is None else literal(alert_run_id, Integer)
    return (
        select(
            WATCHES.c.subscriber_id,
            WATCHES.c.game_id,
            WATCHES.c.id,
            WATCHES.c.generation,
            price,
            _was_price(),
            GAMES.c.currency,
            literal("pending"),
            literal(0),
            literal(now, ALERTS.c.created_at.type),
            run_id,
            # A daily subscriber's alert waits for their next digest (scheduler.alerts.digests).
            case(
                (SUBSCRIBERS.c.frequency == "daily", SUBSCRIBERS.c.next_digest_at),
                else_=null(),
            ),
        )
        .select_from(
            WATCHES.join(GAMES, GAMES.c.id == WATCHES.c.game_id).join(
                SUBSCRIBERS, SUBSCRIBERS.c.id == WATCHES.c.subscriber_id
            )
        )
        .where(
            SUBSCRIBERS.c.unsubscribed_at.is_(None),
            SUBSCRIBERS.c.confirmed_at.is_not(None),
            WATCHES.c.paused_at.is_(None),
            _priced(),
            _rule_met(),
            or_(WATCHES.c.last_alert_cents.is_(None), price < WATCHES.c.last_alert_cents),
        )
        # One order for every pass, so concurrent passes take unique-key waits in the same
        # order and cannot deadlock each other.
        .order_by(WATCHES.c.id)
    )


def insert_statement(dialect_name: str, now: datetime, alert_run_id: int | None) -> Any:
    """INSERT ... SELECT of due alerts; skips an (entry, generation, price) already there."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(ALERTS)
        .from_select(list(ALERT_COLUMNS), _due_rows(now, alert_run_id))
        .on_conflict_do_nothing(
            index_elements=[ALERTS.c.watch_entry_id, ALERTS.c.generation, ALERTS.c.trigger_cents]
        )
        .returning(ALERTS.c.id)
    )


def remember_statement() -> Any:
    """UPDATE setting last_alert_cents to the lowest alerted price of the entry's current arming."""
    lowest = (
        select(func.min(ALERTS.c.trigger_cents))
        .where(ALERTS.c.watch_entry_id == WATCHES.c.id, ALERTS.c.generation == WATCHES.c.generation)
        .scalar_subquery()
    )
    return (
        update(WATCHES)
        .where(
            lowest.is_not(None),
            or_(WATCHES.c.last_alert_cents.is_(None), lowest < WATCHES.c.last_alert_cents),
        )
        .values(last_alert_cents=lowest)
    )
