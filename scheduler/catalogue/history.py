"""A game's prices as its page and a watchlist show them: from price_history, never the store.

A low is the lowest paid price (final_cents not NULL, not free) in the game's current currency
(rows in another one, from before STORE_CURRENCY changed, are not comparable), dated when it was
most recently reached: the latest history row at that price. The same lows as the new-low rule
(scheduler.alerts.rules), which counts only paid prices too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from models.game import Game, PriceChange

# The most changes a page reads (the latest ones): years of daily changes, and a bound.
MAX_CHANGES = 5_000
# Game ids per query: SQLite takes at most 32,766 parameters, and a bigger estimate would make
# PostgreSQL JIT-compile the query (jit_above_cost), which costs more than running it.
_IDS_PER_QUERY = 1_000
# price_history's columns in PricePoint's order.
_POINT = ("observed_at", "final_cents", "original_cents", "discount_pct", "is_free")


@dataclass(frozen=True, slots=True)
class LowestPrice:
    """The lowest paid price of a game in minor units, and when it was most recently reached."""

    cents: int
    currency: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One price_history row: the game's price from `at` until the next one."""

    at: datetime
    final_cents: int | None
    original_cents: int | None
    discount_pct: int
    is_free: bool


@dataclass(frozen=True, slots=True)
class GamePrices:
    """A game's current price, its low and its price changes, oldest first."""

    game_id: int
    itemkey: str
    title: str
    final_cents: int | None
    original_cents: int | None
    discount_pct: int
    currency: str
    is_free: bool
    last_seen: datetime
    lowest: LowestPrice | None
    changes: list[PricePoint]
    changes_left_out: int  # older changes than the MAX_CHANGES read


def _paid(history: Any, game_id: Any, currency: Any) -> Any:
    """Rows of history that are the game's paid prices in its currency."""
    return and_(
        history.c.game_id == game_id,
        history.c.currency == currency,
        history.c.final_cents.is_not(None),
        history.c.is_free.is_(False),
    )


def _lows(games: Any) -> Select[Any]:
    """Return (game_id, lowest cents, currency, latest time at it) of the games games selects.

    Two correlated lookups per game on ix_price_history_game_price (game_id, final_cents): the
    cost grows with the number of games asked for, not with the length of their histories.
    """
    low = PriceChange.__table__.alias("low")
    cents = select(func.min(low.c.final_cents)).where(_paid(low, Game.id, Game.currency))
    per_game = (
        select(Game.id, Game.currency, cents.scalar_subquery().label("cents"))
        .where(Game.id.in_(games))
        .subquery()
    )
    at = PriceChange.__table__.alias("at")
    latest = select(func.max(at.c.observed_at)).where(
        _paid(at, per_game.c.id, per_game.c.currency), at.c.final_cents == per_game.c.cents
    )
    return select(
        per_game.c.id, per_game.c.cents, per_game.c.currency, latest.scalar_subquery()
    ).where(per_game.c.cents.is_not(None))


def lowest_prices(
    session: Session, game_ids: Collection[int] | Select[Any]
) -> dict[int, LowestPrice]:
    """Return {game id: its low} for the games (ids, or a SELECT of ids); no low, no entry.

    One query for up to 1,000 ids (more go 1,000 at a time).
    """
    if isinstance(game_ids, Select):
        chunks: list[Any] = [game_ids]
    else:
        ids = sorted(set(game_ids))
        chunks = [
            ids[start : start + _IDS_PER_QUERY] for start in range(0, len(ids), _IDS_PER_QUERY)
        ]
    lows: dict[int, LowestPrice] = {}
    for chunk in chunks:
        for game_id, cents, currency, at in session.execute(_lows(chunk)):
            lows[game_id] = LowestPrice(cents, currency, at)
    return lows


def game_prices(session: Session, game: Game, *, max_changes: int = MAX_CHANGES) -> GamePrices:
    """Return the game's current price, its low and its latest max_changes changes."""
    # Columns, not PriceChange objects: a thousand ORM objects cost more than the query.
    newest_first = (
        select(*(PriceChange.__table__.c[name] for name in _POINT))
        .where(PriceChange.game_id == game.id, PriceChange.currency == game.currency)
        .order_by(PriceChange.observed_at.desc(), PriceChange.id.desc())
        .limit(max_changes + 1)
    )
    rows = session.execute(newest_first).all()
    changes = [PricePoint(*row) for row in reversed(rows[:max_changes])]
    left_out = 0
    if len(rows) > max_changes:
        counted = select(func.count()).where(
            PriceChange.game_id == game.id, PriceChange.currency == game.currency
        )
        left_out = (session.scalar(counted) or 0) - max_changes
    return GamePrices(
        game_id=game.id,
        itemkey=game.itemkey,
        title=game.title,
        final_cents=game.final_cents,
        original_cents=game.original_cents,
        discount_pct=game.discount_pct,
        currency=game.currency,
        is_free=game.is_free,
        last_seen=game.last_seen,
        lowest=lowest_prices(session, [game.id]).get(game.id),
        changes=changes,
        changes_left_out=left_out,
    )
