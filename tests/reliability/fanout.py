"""A fan-out under fault: seed subscribers with one due email each, send, break something, count."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from celery import Celery
from sqlalchemy import func, insert, select

from models import Alert, AlertRun, Game, PriceChange, Session, Subscriber, WatchEntry
from tests.support.faults import Tally, report, tally, wait_for
from tests.support.smtp import SmtpServer

SWEEPS = (
    "scheduler.tasks.alerts.requeue_stuck_alerts",
    "scheduler.tasks.catalogue.close_stalled_scrapes",
)


def seed_subscribers(count: int, *, digest_at: datetime | None = None) -> set[str]:
    """One game on sale and count subscribers each watching it below its price; their emails.

    digest_at: every subscriber takes one daily digest, due then (UTC), instead of an email as
    soon as the drop is found: the check holds their alerts and the sweep sends them then.
    """
    now = datetime.now(UTC)
    then = now - timedelta(days=30)
    emails = {f"user{n}@example.com" for n in range(count)}
    with Session.begin() as session:
        game_id = session.execute(
            insert(Game)
            .values(
                kind="app",
                steam_id=620,
                title="Portal 2",
                final_cents=499,
                original_cents=1999,
                discount_pct=75,
                currency="USD",
                is_free=False,
                first_seen=then,
                last_seen=now,
                price_changed_at=now - timedelta(minutes=10),
            )
            .returning(Game.id)
        ).scalar_one()
        session.execute(
            insert(PriceChange),
            [
                {"game_id": game_id, "observed_at": at, "final_cents": c, "currency": "USD"}
                for at, c in ((then, 1999), (now - timedelta(minutes=10), 499))
            ],
        )
        session.execute(
            insert(Subscriber),
            [
                {
                    "id": n + 1,
                    "email": f"user{n}@example.com",
                    "created_at": then,
                    "confirmed_at": then,
                }
                | {"unsubscribe_token": f"token-{n:06d}-" + "x" * 20}
                | _daily(digest_at)
                for n in range(count)
            ],
        )
        session.execute(
            insert(WatchEntry),
            [
                {"subscriber_id": n + 1, "game_id": game_id, "rule": "below"}
                | {"target_cents": 1000, "generation": 0, "created_at": then}
                for n in range(count)
            ],
        )
    return emails


def _daily(digest_at: datetime | None) -> dict[str, object]:
    if digest_at is None:
        return {"frequency": "immediate"}
    return {
        "frequency": "daily",
        "digest_hour": digest_at.hour,
        "timezone": "UTC",
        "next_digest_at": digest_at,
    }


def outstanding() -> dict[str, int]:
    """Return how many alerts are still pending or sending and how many runs are open."""
    with Session() as session:
        alerts = session.scalar(
            select(func.count()).where(Alert.status.in_(("pending", "sending")))
        )
        runs = session.scalar(select(func.count()).where(AlertRun.status == "running"))
    return {"alerts": alerts or 0, "runs": runs or 0}


def statuses() -> dict[str, int]:
    """Return the alerts by status."""
    with Session() as session:
        rows = session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all()
    return {status: count for status, count in rows}


class Sweeper(threading.Thread):
    """Sends the sweep tasks every few seconds, as beat would with a short interval."""

    def __init__(self, client: Celery, every: float = 2.0) -> None:
        super().__init__(name="sweeper", daemon=True)
        self.client, self.every = client, every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            for name in SWEEPS:
                try:
                    self.client.send_task(name, queue="celery", retry=False, expires=30)
                except Exception:  # noqa: BLE001  the broker may be down: that is the test
                    pass

    def __enter__(self) -> Sweeper:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.join(10)


def fan_out(
    scenario: str,
    client: Celery,
    sink: SmtpServer,
    *,
    emails: set[str],
    fault_after: int,
    fault: Callable[[], None],
    timeout: float = 240,
    sweep_every: float = 2.0,
    start: Callable[[], None] | None = None,
) -> Tally:
    """Send every due email; apply fault once fault_after arrived; wait until all is closed.

    start: how the sending begins (default: the check finds the drops and fans them out).
    """
    with Sweeper(client, sweep_every):
        if start is None:
            client.send_task("scheduler.tasks.alerts.check_watchlists", queue="celery")
        else:
            start()
        wait_for(lambda: len(sink.messages) >= fault_after, 120, f"{fault_after} emails")
        began = time.monotonic()
        fault()

        def settled() -> bool:
            received = {r for m in sink.messages for r in m.rcpt_tos}
            left = outstanding()
            return emails <= received and left == {"alerts": 0, "runs": 0}

        try:
            wait_for(settled, timeout, "every email and every run to close", every=0.5)
            recovered: float | None = time.monotonic() - began
        except AssertionError:
            recovered = None
    result = report(scenario, tally(emails, sink.messages), recovered)
    assert recovered is not None, f"{scenario}: not recovered: {outstanding()} {statuses()}"
    return result


def assert_within(result: Tally, *, duplicates: int) -> None:
    """Nothing lost, at most `duplicates` repeats, and every repeat the first send's Message-ID."""
    assert result.lost == 0, result.line("lost", None)
    assert result.foreign_ids == 0, "a repeated email carried a new Message-ID"
    assert result.duplicates <= duplicates, result.line(f"more than {duplicates} duplicates", None)
