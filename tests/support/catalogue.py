"""Catalogue rows for tests: games and their price history, written as the scraper writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from models.game import Game, PriceChange

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    """Return T0 plus hours: a readable clock for test scenarios."""
    return T0 + timedelta(hours=hours)


def add_game(
    session: Session,
    steam_id: int,
    price: int | None,
    *,
    kind: str = "app",
    title: str | None = None,
    original: int | None = None,
    discount: int = 0,
    free: bool = False,
    currency: str = "USD",
    when: datetime = T0,
) -> Game:
    """Insert a game first seen at `when` and, when it shows a price, its first history row."""
    game = Game(
        kind=kind,
        steam_id=steam_id,
        title=title or f"Game {steam_id}",
        final_cents=price,
        original_cents=price if original is None else original,
        discount_pct=discount,
        is_free=free,
        currency=currency,
        first_seen=when,
        last_seen=when,
        price_changed_at=None,
    )
    session.add(game)
    session.flush()
    if price is not None or free:
        _record(session, game, when)
    return game


def set_price(
    session: Session,
    game: Game,
    price: int | None,
    when: datetime,
    *,
    original: int | None = None,
    discount: int = 0,
    free: bool = False,
) -> bool:
    """Give the game a new price at `when`; writes history only if it changed. Returns changed."""
    new = (price, game.original_cents if original is None else original, discount, free)
    game.last_seen = when
    if new == (game.final_cents, game.original_cents, game.discount_pct, game.is_free):
        session.flush()
        return False
    game.final_cents, game.original_cents, game.discount_pct, game.is_free = new
    _record(session, game, when)
    return True


def _record(session: Session, game: Game, when: datetime) -> None:
    game.price_changed_at = when
    session.add(
        PriceChange(
            game_id=game.id,
            observed_at=when,
            final_cents=game.final_cents,
            original_cents=game.original_cents,
            discount_pct=game.discount_pct,
            is_free=game.is_free,
            currency=game.currency,
        )
    )
    session.flush()
