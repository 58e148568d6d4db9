"""Admin edits of the schedule, for any front end: apply one edit, then nudge running beats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from scheduler.beat.calls import CallRules
from scheduler.beat.entries import in_transaction
from scheduler.beat.timing import ScheduleError, Timing, parse_cron, parse_every

T = TypeVar("T")


def call_rules() -> CallRules:
    """Return the tasks and queues edits may use; raises ScheduleError if tasks fail to load."""
    from scheduler.celery_app import app

    try:
        app.loader.import_default_modules()
    except Exception as exc:  # a broken task module must reach the admin as one line
        raise ScheduleError(
            f"cannot check task names: loading the task modules failed: {exc}"
        ) from None
    return CallRules.from_app(app)


def apply_edit(work: Callable[[Any], T]) -> tuple[T, bool]:
    """Commit work(session) as one transaction, then nudge beat; returns (result, nudged)."""
    result = in_transaction(work)
    return result, nudge_beat()


def nudge_beat() -> bool:
    """Publish the change nudge; False when Redis is unreachable (beat still polls the DB)."""
    import redis

    from config import get_config
    from scheduler.beat.lock import nudge

    with redis.Redis.from_url(get_config().redis_url, socket_timeout=2) as client:
        return nudge(client, 0)


def timing_from(cron: str | None, every: str | None) -> Timing | None:
    """Return the Timing for a cron line or an interval such as '30s'; None if neither."""
    if cron:
        return parse_cron(cron)
    return Timing(every=parse_every(every)) if every else None


def merged_options(current: Any, replacement: Any, queue: str | None, expires: int | None) -> Any:
    """Return the replacement (else current) send options with queue and expires applied."""
    options = current if replacement is None else replacement
    extra = {k: v for k, v in (("queue", queue), ("expires", expires)) if v is not None}
    return {**options, **extra} if isinstance(options, dict) and extra else options
