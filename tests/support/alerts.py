"""Alerts for tests: games on sale, watches, outbox rows, and waiting for a run to close."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from models import Alert, AlertRun, Game, PriceChange, Session, Subscriber, WatchEntry, utcnow
from scheduler.alerts.watchlist import add_watch, subscribe
from scheduler.tasks.alerts import check_watchlists


def add_game(
    session: Any,
    steam_id: int,
    title: str,
    *,
    price: int,
    was: int = 1999,
    low: int = 899,
    currency: str = "USD",
) -> Game:
    """A game now at price (since an hour ago) whose history went was -> low -> was -> price."""
    now = utcnow()
    game = Game(
        kind="app",
        steam_id=steam_id,
        title=title,
        final_cents=price,
        original_cents=was,
        discount_pct=round(100 * (was - price) / was),
        currency=currency,
        is_free=False,
        first_seen=now - timedelta(days=30),
        last_seen=now,
        price_changed_at=now - timedelta(hours=1),
    )
    session.add(game)
    session.flush()
    for days, cents in ((30, was), (20, low), (10, was), (1 / 24, price)):
        session.add(
            PriceChange(
                game_id=game.id,
                observed_at=now - timedelta(days=days),
                final_cents=cents,
                original_cents=was,
                currency=currency,
                discount_pct=0,
                is_free=False,
            )
        )
    session.flush()
    return game


def watch(email: str, *steam_ids: int, below: int = 1000) -> None:
    """Subscribe email and watch each app for a price at or below `below` cents."""
    with Session.begin() as session:
        subscribe(session, email)
        for steam_id in steam_ids:
            add_watch(session, email, f"app/{steam_id}", below_cents=below)


def add_pending_alert(
    session: Any,
    email: str,
    game: Game,
    *,
    status: str = "pending",
    claimed_at: datetime | None = None,
    run_id: int | None = None,
) -> Alert:
    """An alert created directly in the outbox, as find_due_alerts would have."""
    subscriber = subscribe(session, email)
    entry = WatchEntry(
        subscriber_id=subscriber.id,
        game_id=game.id,
        rule="below",
        target_cents=1000,
        generation=0,
        last_alert_cents=game.final_cents,
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    alert = Alert(
        subscriber_id=subscriber.id,
        game_id=game.id,
        watch_entry_id=entry.id,
        generation=0,
        trigger_cents=game.final_cents,
        previous_cents=1999,
        currency=game.currency,
        status=status,
        attempts=1 if claimed_at else 0,
        created_at=utcnow(),
        claimed_at=claimed_at,
        alert_run_id=run_id,
    )
    session.add(alert)
    session.flush()
    return alert


def wait_for_run(
    task_id: str | None = None, *, run_id: int | None = None, timeout: float = 30.0
) -> AlertRun:
    """Return the run of a task (or with an id) once it is closed; fails after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session() as session:
            query = select(AlertRun).where(
                AlertRun.task_id == task_id if run_id is None else AlertRun.id == run_id
            )
            run = session.scalars(query).first()
            if run is not None and run.status != "running":
                return run
        time.sleep(0.05)
    raise AssertionError(f"alert run of task {task_id} / id {run_id} did not close in {timeout}s")


def alerts_by_email() -> dict[str, list[Alert]]:
    """Return every alert, grouped by its subscriber's address."""
    with Session() as session:
        rows = session.execute(
            select(Subscriber.email, Alert)
            .join(Alert, Alert.subscriber_id == Subscriber.id)
            .order_by(Alert.id)
        ).all()
    grouped: dict[str, list[Alert]] = {}
    for email, alert in rows:
        grouped.setdefault(email, []).append(alert)
    return grouped


def run_check() -> AlertRun:
    """Queue check_watchlists on the worker and return its closed run."""
    return wait_for_run(check_watchlists.delay().id)


RECIPIENTS = ("a@example.com", "b@example.com", "c@example.com")


def three_pending(emails: tuple[str, ...] = RECIPIENTS) -> list[int]:
    """Three subscribers with one pending alert each; return their ids."""
    with Session.begin() as session:
        game = add_game(session, 620, "Portal 2", price=499)
        return [add_pending_alert(session, email, game).subscriber_id for email in emails]


class OutboxLock:
    """Locks the alerts table against writers from another connection, on demand."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: Any = None

    def take(self) -> None:
        """Lock the table; return once the lock is held."""
        if self.url.startswith("sqlite"):
            self.conn = sqlite3.connect(
                make_url(self.url).database, isolation_level=None, check_same_thread=False
            )
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.engine = create_engine(self.url)
            self.conn = self.engine.connect()
            self.conn.exec_driver_sql("LOCK TABLE alerts IN EXCLUSIVE MODE")

    def release(self) -> None:
        """Let writers in again."""
        if self.conn is not None:
            self.conn.rollback()
            self.conn.close()
            self.conn = None
            if not self.url.startswith("sqlite"):
                self.engine.dispose()
