"""The watched-prices refresh: appdetails for the watched apps, then alerts for what changed.

Each tick refreshes the watched apps stalest first (sales ahead), many ids per request, until its
share of requests is spent or the shared appdetails budget has no slot left; the rest waits for
the next tick. Each request's answer is stored, and the alerts of the prices it changed are
recorded, in one transaction; the emails go out in a chord when the tick ends (the sweep sends
them if the worker dies first). Per-app claims in Redis keep overlapping ticks apart, so the
task runs twice safely: a second run asks again and changes nothing that is already stored.

A database outage (models.errors.expected: PostgreSQL restarting, SQLite locked) retries the
tick with backoff and one log line. Claims on apps not yet asked are released at once, so another
tick may take them; an answer already received but not stored travels in the retry's arguments
with its claims kept, so the retry stores it without asking the store again.
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
from sqlalchemy.exc import SQLAlchemyError

from config import Config
from models import AlertRun, Session, errors, utcnow
from scheduler.alerts import runs as alert_runs
from scheduler.alerts.scoped import find_due_alerts_for
from scheduler.alerts.watchlist import pending_alert_batches
from scheduler.app import celery as app
from scheduler.app import current_config
from scheduler.catalogue import refresh
from scheduler.catalogue.appdetails import (
    PriceAnswer,
    answer_from_plain,
    answer_to_plain,
    parse_appdetails,
)
from scheduler.catalogue.claims import Claims
from scheduler.catalogue.client import BudgetSpent, FetchError, StoreClient, client_for
from scheduler.catalogue.parse import ParseError
from scheduler.tasks import alerts
from scheduler.tasks.tick import Held, Tick

log = logging.getLogger(__name__)

REFRESH_SOFT_TIME_LIMIT = 240
REFRESH_TIME_LIMIT = 300
# A database that fails mid tick (PostgreSQL restarting, SQLite locked) is retried 1, 2, 4, 8,
# 16 s later: about half a minute, well inside the claims' TTL.
DB_BACKOFF_BASE, DB_BACKOFF_MAX = 1, 30


_redis: dict[int, redis.Redis] = {}


def redis_client(url: str) -> redis.Redis:
    """Return this process's Redis client for claims."""
    client = _redis.get(os.getpid())
    if client is None:
        client = _redis[os.getpid()] = redis.Redis.from_url(url, socket_timeout=10)
    return client


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
    """Return the refresh's settings from the config."""
    return RefreshSettings(
        currency=config.store_currency,
        batch=config.store_appdetails_batch,
        requests=config.price_refresh_requests,
        sale_weight=config.price_refresh_sale_weight,
        mail_batch_size=config.mail_batch_size,
        redis_url=config.redis_url,
    )


@app.task(
    bind=True,
    name="scheduler.tasks.prices.refresh_watched_prices",
    acks_late=True,
    soft_time_limit=REFRESH_SOFT_TIME_LIMIT,
    time_limit=REFRESH_TIME_LIMIT,
    max_retries=None,  # retry_later counts PRICE_REFRESH_DB_RETRIES itself
)
def refresh_watched_prices(self: Any, carry: dict[str, Any] | None = None) -> dict[str, Any]:
    """Refresh the stalest watched prices within the budget, alert on changes; returns figures."""
    settings, began = refresh_settings(current_config()), time.monotonic()
    task_id = self.request.id or f"refresh-{uuid.uuid4().hex}"
    claims = Claims(redis_client(settings.redis_url), task_id, ttl=REFRESH_TIME_LIMIT)
    tick, held = Tick(**(carry or {}).get("tick", {})), Held()
    # A retry skips what its first attempt stored: it plans as of that attempt's start.
    since = datetime.fromisoformat(carry["since"]) if carry else utcnow()
    try:
        resume(task_id, claims, carry, settings, tick, held)
        run_tick(task_id, claims, settings, tick, held, since)
        if tick.run_id is not None:
            send_alerts(tick.run_id, settings.mail_batch_size)
    except SoftTimeLimitExceeded:
        claims.release(held.claimed)
        log.warning("price refresh %s: soft time limit reached; the rest waits", task_id)
    except SQLAlchemyError as exc:
        if not errors.expected(exc):  # a bug, not an outage: Celery logs it with its traceback
            raise
        retry_later(self, claims, tick, held, exc, since)
    tick.seconds = round(tick.seconds + time.monotonic() - began, 3)
    log.info("price refresh %s", tick.line())
    return asdict(tick)


def resume(
    task_id: str,
    claims: Claims,
    carry: dict[str, Any] | None,
    settings: RefreshSettings,
    tick: Tick,
    held: Held,
) -> None:
    """Store the answer a retried tick could not store (claims held); raises OperationalError."""
    if not carry or carry.get("unsaved") is None:
        return
    held.claimed, held.unsaved = list(carry["unsaved_ids"]), answer_from_plain(carry["unsaved"])
    store_answer(task_id, held.unsaved, settings.currency, tick)
    claims.release(held.claimed)
    held.claimed, held.unsaved = [], None


def run_tick(
    task_id: str, claims: Claims, settings: RefreshSettings, tick: Tick, held: Held, since: datetime
) -> None:
    """Ask for, store and judge the apps not answered since, batch by batch, within the share."""
    now = utcnow()
    with Session() as session:
        watched = refresh.watched_apps(session)
    order = refresh.plan_refresh(watched, now=now, sale_weight=settings.sale_weight)
    tick.watched, tick.oldest_age_s = len(order), _oldest_age(watched, now)
    client = client_for(current_config())
    for start in range(0, len(order), settings.batch):
        if tick.requests >= settings.requests:
            break
        chunk = order[start : start + settings.batch]
        ids = take_due(claims, chunk, planned_at=since, held=held)
        tick.claimed_elsewhere += len(chunk) - len(ids)
        if ids and not refresh_batch(task_id, client, claims, ids, settings, tick, held):
            break


def retry_later(
    task: Any, claims: Claims, tick: Tick, held: Held, exc: SQLAlchemyError, since: datetime
) -> None:
    """Release what was never asked and retry with backoff, or give up; logs one line."""
    kept = held.kept()
    claims.release([steam_id for steam_id in held.claimed if steam_id not in set(kept)])
    reason = errors.one_line(exc)
    retries = current_config().price_refresh_db_retries
    if task.request.retries >= retries:
        claims.release(kept)
        log.error(
            "price refresh %s: database unavailable after %s retries (%s); next tick asks again",
            task.request.id,
            retries,
            reason,
        )
        return
    countdown = min(DB_BACKOFF_MAX, DB_BACKOFF_BASE * 2**task.request.retries)
    log.warning(
        "price refresh %s: database unavailable (%s); retry %s of %s in %ss, %s answers kept",
        task.request.id,
        reason,
        task.request.retries + 1,
        retries,
        countdown,
        len(kept),
    )
    tick.db_retries += 1
    unsaved = None if held.unsaved is None else answer_to_plain(held.unsaved)
    carry = {
        "tick": asdict(tick),
        "since": since.isoformat(),
        "unsaved": unsaved,
        "unsaved_ids": kept,
    }
    raise task.retry(countdown=countdown, kwargs={"carry": carry})


def take_due(claims: Claims, chunk: list[int], *, planned_at: datetime, held: Held) -> list[int]:
    """Claim the chunk's apps that no overlapping refresh holds or answered since planned_at."""
    held.claimed = ids = claims.take(chunk)
    with Session() as session:
        done = refresh.refreshed_since(session, ids, since=planned_at)
    claims.release(sorted(done))
    held.claimed = [steam_id for steam_id in ids if steam_id not in done]
    return held.claimed


def refresh_batch(
    task_id: str,
    client: StoreClient,
    claims: Claims,
    ids: list[int],
    settings: RefreshSettings,
    tick: Tick,
    held: Held,
) -> bool:
    """Ask for, store and judge one request's apps; returns False once the budget is spent.

    A database error propagates with the claims and the unsaved answer in held, for the retry.
    """
    spent = False
    try:
        body = client.fetch_appdetails(ids)
        tick.requests, tick.asked = tick.requests + 1, tick.asked + len(ids)
        held.unsaved = parse_appdetails(body, ids, settings.currency)
    except BudgetSpent:
        tick.budget_spent = spent = True
    except (FetchError, ParseError) as exc:
        if isinstance(exc, FetchError):  # parse errors come after a counted request
            tick.requests, tick.asked = tick.requests + exc.attempts, tick.asked + len(ids)
        tick.failed += 1
        log.warning("price refresh: %s; their last prices stay", exc)
    if held.unsaved is not None:
        store_answer(task_id, held.unsaved, settings.currency, tick)
    claims.release(ids)
    held.claimed, held.unsaved = [], None
    return not spent


def store_answer(task_id: str, answer: PriceAnswer, currency: str, tick: Tick) -> None:
    """Store one answer and record the alerts its changed prices make, in one transaction."""
    now = utcnow()
    with Session.begin() as session:
        changed = refresh.apply_answer(session, answer, now=now, currency=currency)
        if changed:
            run, _ = alert_runs.start_run(session, task_id=task_id, now=now)
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
        batches = pending_alert_batches(session, batch_size=batch_size, now=utcnow())
        run = session.get_one(AlertRun, run_id)
        run.subscribers = max(run.subscribers, sum(len(batch) for batch in batches))
    alerts.dispatch(run_id, batches)


def _oldest_age(watched: list[refresh.Watched], now: datetime) -> int | None:
    oldest = min((app.checked_at for app in watched), default=None)
    return None if oldest is None else int((now - oldest).total_seconds())
