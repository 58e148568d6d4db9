"""What the service holds about one person: export it as plain data, or delete all of it.

Every row about a subscriber hangs off its subscribers row (watches, alerts and wishlist
imports reference it with ON DELETE CASCADE), so deleting that row deletes everything; the
count of what went is taken first, for the person's and the admin's confirmation. A send in
flight for a deleted subscriber finds no alert to claim, and a sign-in email in flight finds no
request to answer: nothing is sent to the address again unless it signs up anew."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from models.alert import Alert, Subscriber, WatchEntry
from models.audit import AdminAction
from models.game import Game
from models.schedule import ScheduleEdit
from models.wishlist import WishlistImport
from scheduler.alerts.inputs import UnknownSubscriberError, normalize_email

EXPORT_FORMAT = 1


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def find(session: Session, email: str) -> Subscriber:
    """Return the subscriber with this address; raises UnknownSubscriberError (one line)."""
    address = normalize_email(email)
    subscriber = session.scalars(select(Subscriber).where(Subscriber.email == address)).first()
    if subscriber is None:
        raise UnknownSubscriberError(f"no subscriber {address}")
    return subscriber


def _watches(session: Session, subscriber_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(WatchEntry, Game)
        .join(Game, Game.id == WatchEntry.game_id)
        .where(WatchEntry.subscriber_id == subscriber_id)
        .order_by(WatchEntry.id)
    ).all()
    return [
        {
            "item": game.itemkey,
            "title": game.title,
            "rule": entry.rule,
            "target_cents": entry.target_cents,
            "min_discount_pct": entry.min_discount_pct,
            "currency": game.currency,
            "paused": entry.paused_at is not None,
            "source": entry.source,
            "created_at": _iso(entry.created_at),
        }
        for entry, game in rows
    ]


def _alerts(session: Session, subscriber_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Alert, Game)
        .join(Game, Game.id == Alert.game_id)
        .where(Alert.subscriber_id == subscriber_id)
        .order_by(Alert.id)
    ).all()
    return [
        {
            "item": game.itemkey,
            "title": game.title,
            "price_cents": alert.trigger_cents,
            "previous_cents": alert.previous_cents,
            "currency": alert.currency,
            "status": alert.status,
            "found_at": _iso(alert.created_at),
            "sent_at": _iso(alert.sent_at),
        }
        for alert, game in rows
    ]


def _wishlist_imports(session: Session, subscriber_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(WishlistImport)
        .where(WishlistImport.subscriber_id == subscriber_id)
        .order_by(WishlistImport.id)
    )
    return [
        {
            "profile": row.profile,
            "steamid": None if row.steamid is None else str(row.steamid),
            "rule": row.rule,
            "target_cents": row.target_cents,
            "min_discount_pct": row.min_discount_pct,
            "status": row.status,
            "requested_at": _iso(row.requested_at),
            "finished_at": _iso(row.finished_at),
            "report": None if row.report is None else json.loads(row.report),
            "error": row.error,
        }
        for row in rows
    ]


def export_account(session: Session, subscriber_id: int) -> dict[str, Any]:
    """Return everything held about a subscriber as JSON-able data."""
    subscriber = session.get_one(Subscriber, subscriber_id)
    return {
        "format": EXPORT_FORMAT,
        "email": subscriber.email,
        "created_at": _iso(subscriber.created_at),
        "confirmed_at": _iso(subscriber.confirmed_at),
        "unsubscribed_at": _iso(subscriber.unsubscribed_at),
        "emails": {
            "frequency": subscriber.frequency,
            "digest_hour": subscriber.digest_hour,
            "timezone": subscriber.timezone,
        },
        "watches": _watches(session, subscriber_id),
        "alerts": _alerts(session, subscriber_id),
        "wishlist_imports": _wishlist_imports(session, subscriber_id),
    }


def delete_account(session: Session, subscriber_id: int) -> dict[str, int]:
    """Delete a subscriber and every row about them; return how many of each went."""
    counts = {
        "watches": session.scalar(
            select(func.count()).where(WatchEntry.subscriber_id == subscriber_id)
        )
        or 0,
        "alerts": session.scalar(select(func.count()).where(Alert.subscriber_id == subscriber_id))
        or 0,
        "wishlist_imports": session.scalar(
            select(func.count()).where(WishlistImport.subscriber_id == subscriber_id)
        )
        or 0,
    }
    session.execute(delete(Alert).where(Alert.subscriber_id == subscriber_id))
    session.execute(delete(WishlistImport).where(WishlistImport.subscriber_id == subscriber_id))
    session.execute(delete(WatchEntry).where(WatchEntry.subscriber_id == subscriber_id))
    address = session.scalar(select(Subscriber.email).where(Subscriber.id == subscriber_id))
    session.execute(delete(Subscriber).where(Subscriber.id == subscriber_id))
    if address is not None:
        _forget_in_audits(session, address, subscriber_id)
    return counts


def _forget_in_audits(session: Session, address: str, subscriber_id: int) -> None:
    """An admin who deletes their own account leaves audit rows, not their address, behind."""
    stand_in = f"deleted subscriber {subscriber_id}"
    for model in (ScheduleEdit, AdminAction):
        session.execute(update(model).where(model.by == address).values(by=stand_in))
