"""What an admin needs to know about the service's health, gathered from Redis and the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import Alert, AlertRun, ScrapeRun, get_engine
from scheduler.alerts.runs import live_run_ids

QUEUES = ("celery", "scrape", "mail")


def ping_database(timeout: float) -> bool:
    """Return True when the database answers SELECT 1 within about timeout seconds."""
    engine = get_engine()
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


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
