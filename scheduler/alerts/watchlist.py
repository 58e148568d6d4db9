"""Watchlists: subscribers, what they watch, and the pass that turns price drops into alerts.

Helpers take the session as first argument and never commit. Bad input raises a WatchError
subclass (from watch_input) whose str() is one line. The rules as SQL live in alert_rules.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.alert import ALERT_STATUSES, Alert, Subscriber, WatchEntry
from models.base import rows_changed, utcnow
from models.game import Game, item_key
from scheduler.alerts import rules as alert_rules
from scheduler.alerts.digests import advance_due
from scheduler.alerts.inputs import (
    UnknownItemError,
    UnknownSubscriberError,
    WatchError,
    normalize_email,
    parse_item,
    parse_price,
    parse_rule,
)
from scheduler.alerts.outbox import claimable
from scheduler.alerts.personal import find_game, watch_game

__all__ = [
    "UnknownItemError",
    "UnknownSubscriberError",
    "WatchError",
    "normalize_email",
    "parse_item",
    "parse_price",
    "find_due_alerts",
    "pending_alert_batches",
    "subscribe",
    "unsubscribe",
    "find_subscriber",
    "find_game",
    "add_watch",
    "remove_watch",
    "list_watches",
    "list_alerts",
]


def find_due_alerts(session: Session, *, now: datetime, alert_run_id: int | None) -> int:
    """Re-arm, insert the due alerts as pending and remember their prices; returns how many new."""
    advance_due(session, now=now)  # a drop found after today's digest waits for tomorrow's
    conn = session.connection()
    conn.execute(alert_rules.rearm_statement())
    # RETURNING counts what was really inserted: rowcount of INSERT ... SELECT is -1 on psycopg.
    inserted = conn.execute(alert_rules.insert_statement(conn.dialect.name, now, alert_run_id))
    count = len(inserted.all())
    conn.execute(alert_rules.remember_statement())
    return count


def pending_alert_batches(session: Session, *, batch_size: int, now: datetime) -> list[list[int]]:
    """Return ids of subscribed subscribers with pending alerts, in lists of at most batch_size.

    Alerts waiting for a send's retry until after now are that retry's to send.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    ids = list(
        session.scalars(
            select(Alert.subscriber_id)
            .distinct()
            .join(Subscriber, Subscriber.id == Alert.subscriber_id)
            .where(
                Alert.status == "pending",
                Subscriber.unsubscribed_at.is_(None),
                Subscriber.confirmed_at.is_not(None),
                claimable(now),
            )
            .order_by(Alert.subscriber_id)
        )
    )
    return [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)]


def find_subscriber(session: Session, email: str) -> Subscriber | None:
    """Return the subscriber with this address (subscribed or not), or None."""
    address = normalize_email(email)
    return session.scalars(select(Subscriber).where(Subscriber.email == address)).first()


def subscribe(session: Session, email: str, *, smtputf8: bool = False) -> Subscriber:
    """Return the subscribed, confirmed subscriber for email (an admin vouches for it).

    Creates it, re-subscribes it (with a new unsubscribe token) or confirms a web sign-up that
    never opened its link. Raises WatchError for an address the relay cannot reach (smtputf8:
    it takes SMTPUTF8).
    """
    address = normalize_email(email, smtputf8=smtputf8)
    now = utcnow()
    subscriber = add_subscriber(session, address, now=now, confirmed=True)
    if subscriber.unsubscribed_at is not None:
        subscriber.unsubscribed_at = None
        subscriber.unsubscribe_token = secrets.token_urlsafe(32)
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = now
    session.flush()
    return subscriber


def add_subscriber(session: Session, address: str, *, now: datetime, confirmed: bool) -> Subscriber:
    """Return the subscriber with this normalised address, inserting it if there is none.

    Two requests for a new address at once insert one row (ON CONFLICT DO NOTHING).
    """
    dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(Subscriber)
        .values(
            email=address,
            unsubscribe_token=secrets.token_urlsafe(32),
            session_key=secrets.token_hex(16),
            created_at=now,
            confirmed_at=now if confirmed else None,
        )
        .on_conflict_do_nothing(index_elements=[Subscriber.email])
    )
    return session.scalars(
        select(Subscriber)
        .where(Subscriber.email == address)
        .execution_options(populate_existing=True)
    ).one()


def unsubscribe(session: Session, token: str) -> Subscriber | None:
    """Unsubscribe the token's owner and skip their pending alerts; None for an unknown token."""
    if not token:
        return None
    subscriber = session.scalars(
        select(Subscriber).where(Subscriber.unsubscribe_token == token)
    ).first()
    if subscriber is None:
        return None
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = utcnow()
    session.execute(
        update(Alert)
        .where(Alert.subscriber_id == subscriber.id, Alert.status == "pending")
        .values(status="skipped", last_error="unsubscribed")
    )
    session.flush()
    return subscriber


def _subscribed(session: Session, email: str) -> Subscriber:
    subscriber = find_subscriber(session, email)
    if subscriber is None:
        raise UnknownSubscriberError(f"{normalize_email(email)} is not subscribed")
    if subscriber.unsubscribed_at is not None:
        raise UnknownSubscriberError(f"{subscriber.email} has unsubscribed")
    return subscriber


def add_watch(
    session: Session,
    email: str,
    item: str,
    *,
    below_cents: int | None = None,
    min_discount: int | None = None,
    new_low: bool = False,
) -> WatchEntry:
    """Watch item for a subscriber with one rule; a changed rule replaces the old and re-arms."""
    rule = parse_rule(below_cents, min_discount, new_low)
    subscriber = _subscribed(session, email)
    return watch_game(session, subscriber.id, find_game(session, item), rule)


def remove_watch(session: Session, email: str, item: str) -> bool:
    """Stop watching item (its alerts go too); returns False when there was no such watch."""
    kind, steam_id = parse_item(item)
    subscriber = find_subscriber(session, email)
    if subscriber is None:
        return False
    game_ids = select(Game.id).where(Game.kind == kind, Game.steam_id == steam_id)
    result = session.execute(
        delete(WatchEntry).where(
            WatchEntry.subscriber_id == subscriber.id, WatchEntry.game_id.in_(game_ids)
        )
    )
    return rows_changed(result) > 0


def list_watches(session: Session, email: str | None = None) -> list[dict[str, Any]]:
    """Return the watches (of one address, or all) with their game's current price."""
    query = (
        select(
            Subscriber.email,
            Game.kind,
            Game.steam_id,
            Game.title,
            WatchEntry.rule,
            WatchEntry.target_cents,
            WatchEntry.min_discount_pct,
            Game.final_cents,
            Game.discount_pct,
            Game.is_free,
            Game.currency,
            WatchEntry.last_alert_cents,
            WatchEntry.generation,
            WatchEntry.created_at,
            Subscriber.unsubscribed_at,
        )
        .join(Subscriber, Subscriber.id == WatchEntry.subscriber_id)
        .join(Game, Game.id == WatchEntry.game_id)
        .order_by(Subscriber.email, Game.title, Game.id)
    )
    if email is not None:
        query = query.where(Subscriber.email == normalize_email(email))
    return [_with_item(row._asdict()) for row in session.execute(query)]


def list_alerts(
    session: Session, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Return the newest alerts first, optionally of one status; raises WatchError for a bad one."""
    if status is not None and status not in ALERT_STATUSES:
        raise WatchError(f"unknown alert status {status!r}: use {', '.join(ALERT_STATUSES)}")
    query = (
        select(
            Alert.id,
            Alert.created_at,
            Subscriber.email,
            Game.kind,
            Game.steam_id,
            Game.title,
            Alert.trigger_cents,
            Alert.previous_cents,
            Alert.currency,
            Alert.status,
            Alert.attempts,
            Alert.generation,
            Alert.sent_at,
            Alert.last_error,
        )
        .join(Subscriber, Subscriber.id == Alert.subscriber_id)
        .join(Game, Game.id == Alert.game_id)
        .order_by(Alert.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Alert.status == status)
    return [_with_item(row._asdict()) for row in session.execute(query)]


def _with_item(row: dict[str, Any]) -> dict[str, Any]:
    kind, steam_id = row.pop("kind"), row.pop("steam_id")
    return {"item": item_key(kind, steam_id), **row}
