"""The health report `scout status` prints and the admin console's /admin shows: workers, the
beat holding the lock, queue lengths, the last runs, watched prices' age, the schedule, and
every problem with its reason. One gathering for both front ends (scheduler.health has the
parts)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import redis

from config import Config
from models import ReadSession, utcnow

PING_TIMEOUT = 1.0  # seconds the workers have to answer a ping
REDIS_TIMEOUT = 3.0


def gather(config: Config, app: Any) -> dict[str, Any]:
    """Return the health report. Redis out of reach is reported, not raised: the report then
    has "redis_error" (one line), no workers, and a problem saying so."""
    from scheduler.beat.lock import LOCK_KEY
    from scheduler.catalogue.refresh import freshness
    from scheduler.health import broker_health, database_health, problems, schedule_health

    client = redis.Redis.from_url(
        config.redis_url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )
    report: dict[str, Any] = {"redis_error": None, "workers": []}
    try:
        report.update(broker_health(client, LOCK_KEY))
    except (redis.RedisError, OSError) as exc:
        report.update(queues={}, beat=None, redis_error=str(exc) or type(exc).__name__)
    finally:
        client.close()
    if report["redis_error"] is None:
        replies = app.control.ping(timeout=PING_TIMEOUT) or []
        report["workers"] = sorted(name for reply in replies for name in reply)
    with ReadSession() as session:
        report.update(database_health(session, now=utcnow(), stuck_after=config.alert_stuck_after))
        report["prices"] = {
            **freshness(session, now=utcnow()),
            "stale_after": config.price_stale_after,
        }
        report["schedule"] = schedule_health(schedule_rows(session, config), now=utcnow())
    report["problems"] = problems(report)
    if report["redis_error"] is not None:
        report["problems"].insert(0, f"Redis does not answer: {report['redis_error']}")
    return report


def schedule_rows(session: Any, config: Config) -> list[dict[str, Any]]:
    """Return the schedule entries as beat sees them (a bad stored row says why it is skipped)."""
    from scheduler.beat import admin, view
    from scheduler.beat import entries as store
    from scheduler.beat.timing import ScheduleError

    try:
        rules = admin.beat_rules()
    except ScheduleError:
        rules = None  # the tasks do not load: reported by every schedule command already
    tz = ZoneInfo(config.timezone)
    return [view.entry_row(entry, tz, rules) for entry in store.all_entries(session)]
