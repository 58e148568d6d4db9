"""Subscribers, their watch entries, and alerts as an outbox of emails to send."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

ALERT_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class Subscriber(Base):
    """A person who receives price-drop emails; unsubscribed_at set means never email again.

    Only a confirmed address (confirmed_at set: it opened a sign-in link, or an admin vouched
    for it with `scout subscribe`) ever gets an alert. The sign-in link's nonce is stored as its
    SHA-256 only (sign_in_hash), until sign_in_expires_at; a newer link replaces it.
    sign_in_request names the newest sign-in request, sign_in_sent the one whose email the
    server accepted, so a task run twice sends one email. session_key is in every session
    cookie of this subscriber: a cookie of a deleted account whose id was reused matches nothing.
    """

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    unsubscribed_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    session_key: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    sign_in_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    sign_in_expires_at: Mapped[datetime | None]
    sign_in_request: Mapped[str | None] = mapped_column(String(32))
    sign_in_sent: Mapped[str | None] = mapped_column(String(32))
    # When the emails come: "immediate" (as soon as a drop is found) or "daily" (one digest at
    # digest_hour in timezone); next_digest_at is that hour's next occurrence, in UTC.
    frequency: Mapped[str] = mapped_column(String(10), default="immediate")
    digest_hour: Mapped[int | None]
    timezone: Mapped[str | None] = mapped_column(String(64))
    next_digest_at: Mapped[datetime | None]


class WatchEntry(Base):
    """A subscriber watching one game with one rule.

    rule "below": alert when final_cents <= target_cents; "discount": when discount_pct >=
    min_discount_pct; "new_low": when the price is below every price seen before.
    last_alert_cents is the price of the last alert in the current arming; generation grows each
    time the rule stops being met (re-arming), so a later drop is a new drop.
    """

    __tablename__ = "watch_entries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "game_id"),
        Index("ix_watch_entries_game_id", "game_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(10))  # "below" | "discount" | "new_low"
    target_cents: Mapped[int | None] = mapped_column(BigInteger)
    min_discount_pct: Mapped[int | None]
    last_alert_cents: Mapped[int | None] = mapped_column(BigInteger)
    generation: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    # A paused watch keeps its rule and history but finds no drop until it is resumed.
    paused_at: Mapped[datetime | None]
    # Where the watch came from: "wishlist" (a Steam wishlist import), or NULL (added by hand).
    source: Mapped[str | None] = mapped_column(String(10))


class Alert(Base):
    """One price drop for one watch entry: a row of the email outbox, unique per drop."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("watch_entry_id", "generation", "trigger_cents"),
        Index("ix_alerts_status_subscriber", "status", "subscriber_id"),
        Index("ix_alerts_alert_run_id", "alert_run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    watch_entry_id: Mapped[int] = mapped_column(ForeignKey("watch_entries.id", ondelete="CASCADE"))
    generation: Mapped[int]
    trigger_cents: Mapped[int] = mapped_column(BigInteger)
    previous_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    # Set when a send released it for its own retry, due then; nothing else sends it before.
    retry_at: Mapped[datetime | None]
    # A daily digest's alert waits for its subscriber's digest hour: nothing claims it before.
    hold_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(255))
    alert_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_runs.id", ondelete="SET NULL")
    )


class AlertRun(Base):
    """One check of the watchlists and the emails it fanned out, with its figures."""

    __tablename__ = "alert_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10), default="running")
    alerts_new: Mapped[int] = mapped_column(default=0)
    subscribers: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    error_summary: Mapped[str | None] = mapped_column(Text)
