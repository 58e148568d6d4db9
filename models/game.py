"""The store catalogue: one row per store item, and its price history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from models.base import Base
from models.words import search_text

# The search index is made by migration 0013, per backend, outside these models: SQLite's FTS5
# table games_search (and its shadow tables games_search_*) and PostgreSQL's GIN index.
SEARCH_OBJECTS = ("games_search", "ix_games_search_title")


def is_search_object(name: str | None) -> bool:
    """Return whether name is one of the search index's tables or indexes (not in the models)."""
    return name is not None and any(
        name == search or name.startswith(f"{search}_") for search in SEARCH_OBJECTS
    )


def item_key(kind: str, steam_id: int) -> str:
    """Steam's item key of a kind ("app", "sub", "bundle") and id, e.g. App_440."""
    return f"{kind.capitalize()}_{steam_id}"


class Game(Base):
    """A store item (app, package or bundle) with its latest known price in minor units."""

    __tablename__ = "games"
    # Every scrape rewrites every row: half-empty pages keep those updates HOT on PostgreSQL.
    __table_args__ = (UniqueConstraint("kind", "steam_id"), {"postgresql_with": {"fillfactor": 50}})

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(6))  # "app" | "sub" | "bundle"
    steam_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(500))
    final_cents: Mapped[int | None] = mapped_column(BigInteger)
    original_cents: Mapped[int | None] = mapped_column(BigInteger)
    discount_pct: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    is_free: Mapped[bool] = mapped_column(default=False)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    price_changed_at: Mapped[datetime | None]
    # When appdetails last answered for the game (the watched-prices refresh); NULL: never.
    price_refreshed_at: Mapped[datetime | None]
    # When appdetails last answered for it with an entry we could not use (malformed, another
    # currency), and why; the price stays, and the refresh queues the app behind fresher ones.
    price_error_at: Mapped[datetime | None]
    price_error: Mapped[str | None] = mapped_column(String(200))
    # The title as the search index holds it (models.words.search_text): written with the
    # title, by the upsert and by the ORM alike; migration 0013 indexes it on each backend.
    search_title: Mapped[str] = mapped_column(Text, server_default="")

    @validates("title")
    def _keep_search_title(self, _key: str, title: str) -> str:
        self.search_title = search_text(title)
        return title

    @property
    def itemkey(self) -> str:
        """Steam's item key, e.g. App_440, Sub_54029, Bundle_232."""
        return item_key(self.kind, self.steam_id)

    @property
    def store_path(self) -> str:
        """The item's path on the store, e.g. /app/440/."""
        return f"/{self.kind}/{self.steam_id}/"


class PriceChange(Base):
    """A game's price from observed_at on; written only when the price differs from before."""

    __tablename__ = "price_history"
    __table_args__ = (
        Index("ix_price_history_game_price", "game_id", "final_cents"),
        Index("ix_price_history_game_time", "game_id", "observed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime]
    final_cents: Mapped[int | None] = mapped_column(BigInteger)
    original_cents: Mapped[int | None] = mapped_column(BigInteger)
    discount_pct: Mapped[int] = mapped_column(default=0)
    is_free: Mapped[bool] = mapped_column(default=False)
    currency: Mapped[str] = mapped_column(String(3))
    scrape_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("scrape_runs.id", ondelete="SET NULL")
    )
