"""The watched-prices refresh: appdetails for the watched apps, then alerts for what changed.

Each tick refreshes the watched apps stalest first (sales ahead), many ids per request, until its
share of requests is spent or the shared appdetails budget has no slot left; the rest waits for
the next tick. Each request's answer is stored, and the alerts of the prices it changed are
recorded, in one transaction; the emails go out in a chord when the tick ends (the sweep sends
them if the worker dies first). Per-app claims in Redis keep overlapping ticks apart, so the
task runs twice safely: a second run asks again and changes nothing that is already stored.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import redis
from celery.exceptions import SoftTimeLimitExceeded

from config import Config
from models import AlertRun, Session, utcnow
from scheduler.alerts import outbox
from scheduler.alerts.scoped import find_due_alerts_for
from scheduler.alerts.watchlist import pending_alert_batches
from scheduler.app import celery as app
from scheduler.app import current_config
from scheduler.catalogue import refresh
from scheduler.catalogue.appdetails import PriceAnswer, parse_appdetails
from scheduler.catalogue.claims import Claims
from scheduler.catalogue.client import BudgetSpent, FetchError, StoreClient, client_for
from scheduler.catalogue.parse import ParseError
from scheduler.tasks import alerts

log = logging.getLogger(__name__)

REFRESH_SOFT_TIME_LIMIT = 240
REFRESH_TIME_LIMIT = 300


@dataclass(frozen=True)
class RefreshSettings:
    """The refresh's settings, read from the config in one place."""

    currency: str
    batch: int
    requests: int
    sale_weight: int
    mail_batch_size: int
    redis_url: str


def refresh_settings(config: Config) -> RefreshSettings:
    """Return the refresh's settings from config."""
    return RefreshSettings(
        currency=config.store_currency,
        batch=config.store_appdetails_batch,
        requests=config.price_refresh_requests,
        sale_weight=config.price_refresh_sale_weight,
        mail_batch_size=config.mail_batch_size,
        redis_url=config.redis_url,
    )


@dataclass
class Tick:
    """One tick's figures (requests: appdetails requests, a failed one's retries included)."""

    watched: int = 0
    oldest_age_s: int | None = None
    requests: int = 0
    asked: int = 0
    priced: int = 0
    changed: int = 0
    no_price: int = 0
    unknown: int = 0
    bad: int = 0
    missing: int = 0
    failed: int = 0
    claimed_elsewhere: int = 0
    budget_spent: bool = False
    alerts_new: int = 0
    run_id: int | None = None
    seconds: float = 0.0

    def count(self, answer: PriceAnswer, changed: int) -> None:
        """Add one answer's buckets."""
        self.priced += len(answer.prices)
        self.changed += changed
        self.no_price += len(answer.no_price)
        self.unknown += len(answer.unknown)
        self.bad += len(answer.bad)
        self.missing += len(answer.missing)

    def line(self) -> str:
        """Return the figures as one key=value line."""
        return " ".join(f"{key}={value}" for key, value in asdict(self).items())


_redis: dict[int, redis.Redis] = {}


def redis_client(url: str) -> redis.Redis:
    """Return this process's Redis client for claims."""
    client = _redis.get(os.getpid())
    if client is None:
        client = _redis[os.getpid()] = redis.Redis.from_url(url, socket_timeout=10)
    return client


@app.task(
    bind=True,
    name="scheduler.tasks.prices.refresh_watched_prices",
    acks_late=True,
    soft_time_limit=REFRESH_SOFT_TIME_LIMIT,
    time_limit=REFRESH_TIME_LIMIT,
)
def refresh_watched_prices(self: Any) -> dict[str, Any]:
    """Refresh the stalest watched prices within the budget, alert on changes; returns figures."""
    config = current_config()
    settings, began, now = refresh_settings(config), time.monotonic(), utcnow()
    task_id = self.request.id or f"refresh-{uuid.uuid4().hex}"
    with Session() as session:
        watched = refresh.watched_apps(session)
    order = refresh.plan_refresh(watched, now=now, sale_weight=settings.sale_weight)
    tick = Tick(watched=len(order), oldest_age_s=_oldest_age(watched, now))
    claims = Claims(redis_client(settings.redis_url), task_id, ttl=REFRESH_TIME_LIMIT)
    client = client_for(config)
    try:
        for start in range(0, len(order), settings.batch):
            if tick.requests >= settings.requests:
                break
            chunk = order[start : start + settings.batch]
            ids = take_due(claims, chunk, planned_at=now)
            tick.claimed_elsewhere += len(chunk) - len(ids)
            if ids and not refresh_batch(task_id, client, claims, ids, settings, tick):
                break
    except SoftTimeLimitExceeded:
        log.warning("price refresh %s: soft time limit reached; the rest waits", task_id)
    if tick.run_id is not None:
        send_alerts(tick.run_id, settings.mail_batch_size)
    tick.seconds = round(time.monotonic() - began, 3)
    log.info("price refresh %s", tick.line())
    return asdict(tick)


def take_due(claims: Claims, chunk: list[int], *, planned_at: datetime) -> list[int]:
    """Claim the chunk's apps that no overlapping refresh holds or answered since planned_at."""
    ids = claims.take(chunk)
    with Session() as session:
        done = refresh.refreshed_since(session, ids, since=planned_at)
    claims.release(sorted(done))
    return [steam_id for steam_id in ids if steam_id not in done]


def refresh_batch(
    task_id: str,
    client: StoreClient,
    claims: Claims,
    ids: list[int],
    settings: RefreshSettings,
    tick: Tick,
) -> bool:
    """Ask for, store and judge one request's apps; returns False once the budget is spent."""
    try:
        try:
            body = client.fetch_appdetails(ids)
        except BudgetSpent:
            tick.budget_spent = True
            return False
        tick.requests, tick.asked = tick.requests + 1, tick.asked + len(ids)
        answer = parse_appdetails(body, ids, settings.currency)
        store_answer(task_id, answer, settings.currency, tick)
    except (FetchError, ParseError) as exc:
        if isinstance(exc, FetchError):  # parse errors come after a counted request
            tick.requests, tick.asked = tick.requests + exc.attempts, tick.asked + len(ids)
        tick.failed += 1
        log.warning("price refresh: %s; their last prices stay", exc)
    finally:
        claims.release(ids)
    return True


def store_answer(task_id: str, answer: PriceAnswer, currency: str, tick: Tick) -> None:
    """Store one answer and record the alerts its changed prices make, in one transaction."""
    now = utcnow()
    with Session.begin() as session:
        changed = refresh.apply_answer(session, answer, now=now, currency=currency)
        if changed:
            run, _ = outbox.start_run(session, task_id=task_id, now=now)
            # A re-delivered tick whose run already closed leaves its alerts to the sweep.
            live = run.status == "running"
            run_id = run.id if live else None
            new = find_due_alerts_for(session, changed, now=now, alert_run_id=run_id)
            run.alerts_new += new if live else 0
            tick.alerts_new += new
            tick.run_id = run_id or tick.run_id
    tick.count(answer, len(changed))
    for appid, reason in sorted(answer.bad.items())[:3]:
        log.warning("price refresh: app %s answered badly (%s); last price stays", appid, reason)


def send_alerts(run_id: int, batch_size: int) -> None:
    """Fan the pending alerts' emails out in a chord closing run_id."""
    with Session.begin() as session:
        batches = pending_alert_batches(session, batch_size=batch_size)
        run = session.get_one(AlertRun, run_id)
        run.subscribers = max(run.subscribers, sum(len(batch) for batch in batches))
    alerts.dispatch(run_id, batches)


def _oldest_age(watched: list[refresh.Watched], now: datetime) -> int | None:
    oldest = min((app.checked_at for app in watched), default=None)
    return None if oldest is None else int((now - oldest).total_seconds())
