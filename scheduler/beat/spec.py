"""An entry as plain data: its row's schedule fields, its editable fields, and their checks."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from models.schedule import ScheduleEntry
from scheduler.beat.timing import CRON_FIELDS, ScheduleError, Timing

NAME_MAX = 200


def timing_of(entry: ScheduleEntry) -> Timing:
    """Return the Timing stored on a row."""
    if entry.interval_seconds is not None:
        return Timing(every=entry.interval_seconds)
    return Timing(cron=tuple(getattr(entry, f"cron_{f}") for f in CRON_FIELDS))  # type: ignore[arg-type]


def set_timing(entry: ScheduleEntry, timing: Timing) -> None:
    """Store timing on the row's cron fields or interval."""
    fields = timing.cron or (None,) * 5
    for name, value in zip(CRON_FIELDS, fields, strict=True):
        setattr(entry, f"cron_{name}", value)
    entry.interval_seconds = timing.every


def as_spec(entry: ScheduleEntry) -> dict[str, Any]:
    """Return the editable fields of a row as plain data (the edit log's before/after)."""
    return {
        "task": entry.task,
        "schedule": timing_of(entry).as_spec(),
        "args": entry.args,
        "kwargs": entry.kwargs,
        "options": entry.options,
        "enabled": entry.enabled,
    }


def check_fields(
    name: str, task: str, args: Any, kwargs: Any, options: Any, known_tasks: Iterable[str] | None
) -> None:
    """Raise ScheduleError unless name, task, args, kwargs and options are acceptable."""
    if not name or len(name) > NAME_MAX or name != name.strip():
        raise ScheduleError(f"bad name {name!r}: 1 to {NAME_MAX} characters, no outer spaces")
    if known_tasks is not None and task not in set(known_tasks):
        raise ScheduleError(f"unknown task {task!r}: not registered with the Celery app")
    if not isinstance(args, list):
        raise ScheduleError(f"bad args {args!r}: must be a JSON list")
    for label, value in (("kwargs", kwargs), ("options", options)):
        if not isinstance(value, dict):
            raise ScheduleError(f"bad {label} {value!r}: must be a JSON object")
    try:
        json.dumps([args, kwargs, options])
    except (TypeError, ValueError) as exc:
        raise ScheduleError(f"args, kwargs and options must be plain JSON: {exc}") from None
