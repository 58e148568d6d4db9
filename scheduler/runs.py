"""What ran, for the admin console: scrape and alert runs newest first, a page at a time, and
what one run failed (its failed pages, or its failed alerts with their reasons)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Alert, AlertRun, Game, ScrapePage, ScrapeRun, Subscriber
from scheduler.paging import Page, page_of


def scrape_runs(session: Session, number: int, size: int) -> Page[ScrapeRun]:
    """Return page `number` of the scrape runs, newest first."""
    return page_of(session, select(ScrapeRun).order_by(ScrapeRun.id.desc()), number, size)


def alert_runs(session: Session, number: int, size: int) -> Page[AlertRun]:
    """Return page `number` of the alert runs, newest first."""
    return page_of(session, select(AlertRun).order_by(AlertRun.id.desc()), number, size)


def failed_pages(session: Session, run_id: int, number: int, size: int) -> Page[ScrapePage]:
    """Return page `number` of the run's failed store pages (by position), with their errors."""
    query = (
        select(ScrapePage)
        .where(ScrapePage.run_id == run_id, ScrapePage.status == "failed")
        .order_by(ScrapePage.start)
    )
    return page_of(session, query, number, size)


def failed_alerts(session: Session, run_id: int, number: int, size: int) -> Page[Any]:
    """Return page `number` of the run's failed alerts with address, game and reason."""
    query = (
        select(
            Alert.id,
            Alert.subscriber_id,
            Subscriber.email,
            Game.kind,
            Game.steam_id,
            Game.title,
            Alert.trigger_cents,
            Alert.currency,
            Alert.attempts,
            Alert.last_error,
            Alert.created_at,
        )
        .join(Subscriber, Subscriber.id == Alert.subscriber_id)
        .join(Game, Game.id == Alert.game_id)
        .where(Alert.alert_run_id == run_id, Alert.status == "failed")
        .order_by(Alert.id)
    )
    return page_of(session, query, number, size)
