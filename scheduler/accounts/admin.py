"""Subscribers for the admin console: find them by address, see one, and unsubscribe or delete
one on request, each action audited (admin_actions) with the admin's address.

The audit names the subscriber by id, never by address, so a deleted subscriber leaves nothing
about them in any table. Helpers take the session first and never commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AdminAction, Alert, Game, Subscriber
from scheduler.accounts.data import delete_account
from scheduler.alerts.watchlist import unsubscribe
from scheduler.paging import Page, page_of

MAX_QUERY = 254
RECENT_ALERTS = 50


class NotFound(LookupError):
    """No subscriber has this id (any more)."""


def search(session: Session, text: str, number: int, size: int) -> Page[Subscriber]:
    """Return page `number` of the subscribers whose address holds text, by address."""
    query = select(Subscriber).order_by(Subscriber.email)
    wanted = text.strip()[:MAX_QUERY].lower()
    if wanted:
        query = query.where(func.lower(Subscriber.email).contains(wanted, autoescape=True))
    return page_of(session, query, number, size)


def get(session: Session, subscriber_id: int) -> Subscriber:
    """Return the subscriber; raises NotFound."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound(subscriber_id)
    return subscriber


def recent_alerts(session: Session, subscriber_id: int) -> list[Any]:
    """Return the subscriber's newest alerts, with game, status and the reason of a failure."""
    return list(
        session.execute(
            select(
                Alert.id,
                Game.kind,
                Game.steam_id,
                Game.title,
                Alert.trigger_cents,
                Alert.currency,
                Alert.status,
                Alert.attempts,
                Alert.last_error,
                Alert.created_at,
                Alert.sent_at,
                Alert.alert_run_id,
            )
            .join(Game, Game.id == Alert.game_id)
            .where(Alert.subscriber_id == subscriber_id)
            .order_by(Alert.id.desc())
            .limit(RECENT_ALERTS)
        )
    )


def actions(
    session: Session, subscriber_id: int | None = None, limit: int = 20
) -> list[AdminAction]:
    """Return the newest admin actions first, on one subscriber id or on anyone."""
    query = select(AdminAction).order_by(AdminAction.id.desc()).limit(limit)
    if subscriber_id is not None:
        query = query.where(AdminAction.subscriber_id == subscriber_id)
    return list(session.scalars(query))


def _audit(
    session: Session, action: str, subscriber_id: int, by: str, at: datetime, detail: Any
) -> None:
    session.add(
        AdminAction(at=at, by=by, action=action, subscriber_id=subscriber_id, detail=detail)
    )
    session.flush()


def unsubscribe_for(session: Session, subscriber_id: int, *, by: str, at: datetime) -> bool:
    """Unsubscribe the subscriber as their own link would (pending alerts skipped), audited;
    return False when they had unsubscribed already (nothing changes, nothing logged).
    Raises NotFound."""
    subscriber = get(session, subscriber_id)
    if subscriber.unsubscribed_at is not None:
        return False
    unsubscribe(session, subscriber.unsubscribe_token)
    _audit(session, "unsubscribe", subscriber_id, by, at, None)
    return True


def delete_for(session: Session, subscriber_id: int, *, by: str, at: datetime) -> dict[str, int]:
    """Delete the subscriber and everything about them, audited by id; return the counts.
    Raises NotFound."""
    get(session, subscriber_id)
    counts = delete_account(session, subscriber_id)
    _audit(session, "delete", subscriber_id, by, at, counts)
    return counts
