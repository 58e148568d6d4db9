"""Admin edits of the schedule, for any front end: apply one edit, then nudge running beats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from scheduler.beat.calls import CallRules, parse_json_text
from scheduler.beat.entries import in_transaction
from scheduler.beat.timing import ScheduleError, Timing, parse_cron, parse_every

T = TypeVar("T")


def call_rules() -> CallRules:
    """Return the tasks and queues edits may use; raises ScheduleError if tasks fail to load."""
    from scheduler.app import celery as app

    try:
        app.loader.import_default_modules()
    except Exception as exc:  # a broken task module must reach the admin as one line
        raise ScheduleError(
            f"cannot check task names: loading the task modules failed: {exc}"
        ) from None
    return CallRules.from_app(app)


def beat_rules() -> CallRules:
    """Return the checks beat applies when it loads an entry (queues are checked on edits)."""
    return replace(call_rules(), queues=None)


def parse_call_texts(args: str | None, kwargs: str | None, options: str | None) -> dict[str, Any]:
    """Return the JSON values of the texts given, by name; raises ScheduleError naming the flag."""
    found: dict[str, Any] = {}
    for label, text in (("args", args), ("kwargs", kwargs), ("options", options)):
        if text is None:
            continue
        try:
            found[label] = parse_json_text(text)
        except ScheduleError as exc:
            raise ScheduleError(f"bad --{label}: {exc}") from None
        if found[label] is None:  # would read as "not given"
            raise ScheduleError(f"bad --{label}: null is not a JSON list or object")
    return found


def apply_edit(work: Callable[[Any], T], redis_url: str) -> tuple[T, bool]:
    """Commit work(session) as one transaction, then nudge beat; returns (result, nudged)."""
    result = in_transaction(work)
    return result, nudge_beat(redis_url)


def nudge_beat(redis_url: str) -> bool:
    """Publish the change nudge; False when Redis is unreachable (beat still polls the DB)."""
    import redis

    from scheduler.beat.lock import nudge

    with redis.Redis.from_url(redis_url, socket_timeout=2) as client:
        return nudge(client, 0)


def timing_from(cron: str | None, every: str | None) -> Timing | None:
    """Return the Timing for a cron line or an interval such as '30s'; None if neither."""
    if cron is not None:
        return parse_cron(cron)
    return None if every is None else Timing(every=parse_every(every))


def merged_options(current: Any, replacement: Any, queue: str | None, expires: int | None) -> Any:
    """Return the replacement (else current) send options with queue and expires applied."""
    options = current if replacement is None else replacement
    extra = {k: v for k, v in (("queue", queue), ("expires", expires)) if v is not None}
    return {**options, **extra} if isinstance(options, dict) and extra else options
