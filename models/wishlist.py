"""Steam wishlist imports: one row per import a subscriber asked for, with its report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

IMPORT_STATUSES = ("queued", "running", "done", "failed")


class WishlistImport(Base):
    """One import of a Steam wishlist into a subscriber's watchlist, and what it did.

    profile is the profile as the person gave it, in a canonical form (profiles/<SteamID64> or
    id/<name>): personal data, deleted with the account (ON DELETE CASCADE). The rule is the one
    every watch the import adds gets. requested_at starts the five minutes before the next
    import; claimed_at is when a worker took it (a claim older than the sweep's limit is a dead
    worker's), task_id which task did. report is JSON (scheduler.wishlist.imports.Report);
    error says why it failed.
    """

    __tablename__ = "wishlist_imports"
    __table_args__ = (
        Index("ix_wishlist_imports_subscriber_id_requested_at", "subscriber_id", "requested_at"),
        Index("ix_wishlist_imports_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    profile: Mapped[str] = mapped_column(String(80))
    steamid: Mapped[int | None] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(10))
    target_cents: Mapped[int | None] = mapped_column(BigInteger)
    min_discount_pct: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    requested_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    # The Celery task that claimed it: that task's retry (a database outage) may take it again.
    task_id: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None]
    report: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(300))
