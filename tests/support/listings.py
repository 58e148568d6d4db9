"""Store rows as the parser gives them, and short ways to upsert and read them back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from models.base import Session
from models.game import Game, PriceChange
from scheduler.catalogue.parse import Listing
from scheduler.catalogue.persist import UpsertResult, price_history_for, upsert_listings


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


def history(steam_id: int, kind: str = "app") -> list[PriceChange]:
    with Session() as session:
        return price_history_for(session, game(steam_id, kind).id)


def history_count() -> int:
    with Session() as session:
        return session.scalar(select(func.count()).select_from(PriceChange))
