"""An entry as plain data: its row's schedule fields, its editable fields, and their checks."""

from __future__ import annotations

from typing import Any

from models.schedule import ScheduleEntry, UnreadableJSON
from scheduler.beat.calls import CallRules, check_call, check_text
from scheduler.beat.timing import CRON_FIELDS, ScheduleError, Timing

NAME_MAX = 200


def timing_of(entry: ScheduleEntry) -> Timing:
    """Return the Timing stored on a row."""
    if entry.interval_seconds is not None:
        return Timing(every=entry.interval_seconds)
    return Timing(cron=tuple(getattr(entry, f"cron_{f}") for f in CRON_FIELDS))


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
        "args": stored_json(entry.args),
        "kwargs": stored_json(entry.kwargs),
        "options": stored_json(entry.options),
        "enabled": entry.enabled,
    }


def stored_json(value: Any) -> Any:
    """Return a JSON column's value as plain data: text that is not JSON as that text."""
    return value.text if isinstance(value, UnreadableJSON) else value


def check_fields(
    name: str, task: str, args: Any, kwargs: Any, options: Any, rules: CallRules | None
) -> None:
    """Raise ScheduleError unless name, task, args, kwargs and options are acceptable."""
    check_name(name)
    check_call(task, args, kwargs, options, rules)


def check_name(name: Any) -> None:
    """Raise ScheduleError unless name is 1 to NAME_MAX printable characters, no outer spaces."""
    check_text("name", name, NAME_MAX)
    if name != name.strip():
        raise ScheduleError(f"bad name {name!r}: 1 to {NAME_MAX} characters, no outer spaces")
