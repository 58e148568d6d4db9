"""What an admin needs to know about the service's health, gathered from Redis and the database."""

from __future__ import annotations

import functools
import importlib.util
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import Alert, AlertRun, ScrapeRun, errors, get_engine
from scheduler.alerts.runs import live_run_ids

QUEUES = ("celery", "scrape", "mail")
NOT_ANSWERING, NOT_MIGRATED = "not answering", "not migrated"
# The checkout's migrations/, installed under this name (scheduler/cli/migrate.py runs them).
MIGRATIONS_PACKAGE = "steamscout_migrations"


def check_services(redis_url: str, timeout: float) -> list[str]:
    """Return what is unhealthy, e.g. ["database (not migrated)", "redis"]; [] when all is well.

    The checks run at once and the answer comes within timeout seconds whatever hangs: a check
    still waiting then counts as not answering (a hung PostgreSQL connect would otherwise take
    its connect_timeout, and the two checks one after the other their sum).
    """
    checks: dict[str, Callable[[], str | None]] = {
        "database": lambda: database_problem(timeout),
        "redis": lambda: None if ping_redis(redis_url, timeout) else NOT_ANSWERING,
    }
    found: dict[str, str | None] = {}

    def run(name: str, check: Callable[[], str | None]) -> None:
        found[name] = check()

    deadline = time.monotonic() + timeout
    threads = [threading.Thread(target=run, args=item, daemon=True) for item in checks.items()]
    for thread in threads:
        thread.start()
    for thread in threads:  # a check that outlives the deadline ends on its own timeout
        thread.join(max(0.0, deadline - time.monotonic()))
    problems = {name: found.get(name, NOT_ANSWERING) for name in checks}
    return [
        name if problem == NOT_ANSWERING else f"{name} ({problem})"
        for name, problem in problems.items()
        if problem is not None
    ]


def database_problem(timeout: float) -> str | None:
    """Return None when the database answers at this code's schema, else "not answering" or
    "not migrated"; creates nothing (a missing SQLite file is not migrated)."""
    engine = get_engine()
    driver_error = engine.dialect.loaded_dbapi.Error
    try:
        # The DBAPI connection itself: no BEGIN IMMEDIATE, so a check never waits for a writer.
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            if engine.dialect.name == "postgresql":
                cursor.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
            cursor.execute("SELECT version_num FROM alembic_version")
            revisions = {row[0] for row in cursor.fetchall()}
        finally:
            connection.close()
    except (SQLAlchemyError, driver_error) as exc:
        missing = errors.schema_missing(exc) or errors.database_missing(exc)
        return NOT_MIGRATED if missing else NOT_ANSWERING
    return None if migrated(revisions) else NOT_MIGRATED


def migrated(revisions: set[str]) -> bool:
    """Return True for a database at this code's newest revision, or at one it does not know
    (a newer release migrated it); False for none or an older one (the release step failed)."""
    known, heads = schema_revisions()
    return bool(revisions) and (revisions == heads or not revisions <= known)


@functools.cache
def schema_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """Return every revision of the installed migrations and the newest ones (heads)."""
    from alembic.script import ScriptDirectory

    spec = importlib.util.find_spec(MIGRATIONS_PACKAGE)
    folder = list(spec.submodule_search_locations or [])[0] if spec else None
    if folder is None:  # no migrations installed: any revision counts as this code's
        return frozenset(), frozenset()
    script = ScriptDirectory(folder)
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return known, frozenset(script.get_heads())


def ping_redis(url: str, timeout: float) -> bool:
    """Return True when Redis at url answers PING within timeout seconds."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def broker_health(client: redis.Redis, lock_key: str) -> dict[str, Any]:
    """Return queue lengths and which beat holds the lock (None when no beat is firing)."""
    holder = client.get(lock_key)
    return {
        "queues": {name: client.llen(name) for name in QUEUES},
        "beat": holder.decode() if isinstance(holder, bytes) else holder,
    }


def _last(session: Session, model: Any) -> dict[str, Any] | None:
    run = session.scalars(select(model).order_by(model.id.desc()).limit(1)).first()
    if run is None:
        return None
    return {
        "id": run.id,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def database_health(session: Session, *, now: datetime, stuck_after: int) -> dict[str, Any]:
    """Return the last runs, alerts by status, how many look stuck, and unclosed alert runs."""
    by_status = dict(
        session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all()
    )
    cutoff = now - timedelta(seconds=stuck_after)
    live = sorted(live_run_ids(session, since=cutoff))
    # What the sweep would take: claims older than the cutoff, and pending alerts that old
    # of no run at work (a long fan-out's queued alerts are not stuck, nor are alerts held
    # for a daily digest until that digest is as late).
    stuck = (
        session.scalar(
            select(func.count()).where(
                or_(
                    and_(Alert.status == "sending", Alert.claimed_at < cutoff),
                    and_(
                        Alert.status == "pending",
                        Alert.created_at < cutoff,
                        or_(Alert.alert_run_id.is_(None), Alert.alert_run_id.not_in(live)),
                        or_(Alert.hold_until.is_(None), Alert.hold_until < cutoff),
                    ),
                )
            )
        )
        or 0
    )
    runs_stuck = session.scalars(
        select(AlertRun.id)
        .where(AlertRun.status == "running", AlertRun.id.not_in(live))
        .order_by(AlertRun.id)
    ).all()
    return {
        "last_scrape": _last(session, ScrapeRun),
        "alert_runs_stuck": list(runs_stuck),
        "last_alert_run": _last(session, AlertRun),
        "alerts": by_status,
        "alerts_stuck": stuck,
    }


# An entry whose next run is this far in the past has not fired: beat is down or stuck.
OVERDUE_AFTER = timedelta(minutes=2)


def schedule_health(rows: list[dict[str, Any]], *, now: datetime) -> list[dict[str, Any]]:
    """Return each schedule entry's next run, last run, and whether it is overdue or skipped."""
    return [
        {
            "name": row["name"],
            "enabled": row["enabled"],
            "next_run": row["next_run"],
            "last_run_at": row["last_run_at"],
            "overdue": bool(row["next_run"] and row["next_run"] < now - OVERDUE_AFTER),
            "problem": row["problem"],
        }
        for row in rows
    ]


def problems(report: dict[str, Any]) -> list[str]:
    """Return one line per thing that needs an admin's attention."""
    found = []
    if not report.get("workers"):
        found.append("no worker answers: is the worker process running?")
    if not report.get("beat"):
        found.append("no beat holds the schedule lock: is the beat process running?")
    scrape = report.get("last_scrape")
    if scrape and scrape["status"] in ("failed", "partial"):
        found.append(f"the last scrape (run {scrape['id']}) ended {scrape['status']}")
    if report.get("alerts_stuck"):
        found.append(f"{report['alerts_stuck']} alerts are stuck in pending or sending")
    prices = report.get("prices") or {}
    oldest, limit = prices.get("oldest_age"), prices.get("stale_after")
    if oldest is not None and limit is not None and oldest > limit:
        found.append(
            f"the oldest watched price is {format_age(oldest)} old "
            f"(PRICE_STALE_AFTER is {format_age(limit)}): is refresh-watched-prices running?"
        )
    if report.get("alert_runs_stuck"):
        ids = ", ".join(str(i) for i in report["alert_runs_stuck"][:10])
        found.append(
            f"{len(report['alert_runs_stuck'])} alert runs stalled (running, no email claimed "
            f"for ALERT_STUCK_AFTER): {ids}"
        )
    for entry in report.get("schedule", []):
        if entry["problem"]:
            found.append(f"schedule entry {entry['name']} is {entry['problem']}")
        elif entry["overdue"]:
            found.append(
                f"schedule entry {entry['name']} was due at {entry['next_run']:%Y-%m-%d %H:%M:%S}"
                " UTC and has not fired: is beat running?"
            )
    if report.get("alerts", {}).get("failed"):
        found.append(
            f"{report['alerts']['failed']} alerts failed: see `scout alerts --status failed`"
        )
    return found


def format_age(seconds: float | None) -> str:
    """Return an age such as 45s, 12m, 3h05m or 2d04h ("none" for None)."""
    if seconds is None:
        return "none"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"
