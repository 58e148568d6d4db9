"""Store rows as the parser gives them, and short ways to upsert and read them back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from models.base import Session
from models.game import Game, PriceChange
from scheduler.catalogue.parse import Listing
from scheduler.catalogue.persist import UpsertResult, upsert_listings


def listing(
    steam_id: int,
    final: int | None = 1999,
    *,
    kind: str = "app",
    title: str = "",
    original: int | None = None,
    discount: int = 0,
    free: bool = False,
    ok: bool = True,
) -> Listing:
    """A store row as the parser gives it."""
    return Listing(
        itemkey=f"{kind.capitalize()}_{steam_id}",
        kind=kind,
        steam_id=steam_id,
        appids=(steam_id,),
        title=title or f"Game {steam_id}",
        final_cents=final,
        original_cents=final if original is None else original,
        discount_pct=discount,
        is_free=free,
        price_text="?",
        price_ok=ok,
    )


def upsert(
    listings: list[Listing], now: datetime, *, currency: str = "USD", run_id: int | None = None
) -> UpsertResult:
    with Session.begin() as session:
        return upsert_listings(session, listings, currency=currency, run_id=run_id, now=now)


def game(steam_id: int, kind: str = "app") -> Game:
    with Session() as session:
        return session.scalars(
            select(Game).where(Game.kind == kind, Game.steam_id == steam_id)
        ).one()


def price_history_for(session: OrmSession, game_id: int) -> list[PriceChange]:
    """Return a game's recorded prices, oldest first."""
    return list(
        session.scalars(
            select(PriceChange)
            .where(PriceChange.game_id == game_id)
            .order_by(PriceChange.observed_at, PriceChange.id)
        )
    )


def lowest_price(session: OrmSession, game_id: int) -> tuple[int, datetime] | None:
    """Return the lowest paid price ever seen for a game and when it was first at it, or None."""
    row = session.execute(
        select(PriceChange.final_cents, PriceChange.observed_at)
        .where(
            PriceChange.game_id == game_id,
            PriceChange.final_cents.is_not(None),
            PriceChange.is_free.is_(False),
        )
        .order_by(PriceChange.final_cents, PriceChange.observed_at)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def history(steam_id: int, kind: str = "app") -> list[PriceChange]:
    with Session() as session:
        return price_history_for(session, game(steam_id, kind).id)


def history_count() -> int:
    with Session() as session:
        return session.scalar(select(func.count()).select_from(PriceChange))
