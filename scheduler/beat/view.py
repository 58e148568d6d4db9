"""How the schedule is shown to admins: entries as plain data with words and next run, edits."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.beat.calls import CallRules, check_call
from scheduler.beat.spec import stored_json, timing_of
from scheduler.beat.timing import ScheduleError, describe, next_run


def entry_row(entry: Any, tz: ZoneInfo, rules: CallRules | None = None) -> dict[str, Any]:
    """Return an entry as plain data, with its schedule in words, its next run and, given
    rules, why beat skips it (a row stored before edits were checked)."""
    timing = timing_of(entry)
    baseline = max(t for t in (entry.anchored_at, entry.last_run_at) if t)
    problem = None
    try:  # without rules, what any sender would refuse (e.g. text that is not JSON)
        check_call(entry.task, entry.args, entry.kwargs, entry.options, rules)
    except ScheduleError as exc:
        problem = f"skipped by beat until edited: {exc}"
    due = next_run(timing, baseline, tz) if entry.enabled and problem is None else None
    return {
        "name": entry.name,
        "task": entry.task,
        "schedule": str(timing),
        "in_words": describe(timing),
        "enabled": entry.enabled,
        "next_run": due,
        "last_run_at": entry.last_run_at,
        "run_count": entry.run_count,
        "args": stored_json(entry.args),
        "kwargs": stored_json(entry.kwargs),
        "options": stored_json(entry.options),
        "anchored_at": entry.anchored_at,
        "updated_at": entry.updated_at,
        "problem": problem,
    }


def local_times(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """Return the row with every datetime converted to tz for display."""
    return {k: v.astimezone(tz) if isinstance(v, datetime) else v for k, v in row.items()}


def summarize(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """Return one line saying what an edit changed."""
    if before is None and after is not None and "schedule" in after:
        return f"{after['task']} {spec_text(after['schedule'])}"
    if after is None:
        return "removed"
    if before is None:
        return f"task {after.get('task_id', '-')}"
    changed = [
        f"{k}: {spec_text(before.get(k))} -> {spec_text(after.get(k))}"
        for k in after
        if before.get(k) != after.get(k)
    ]
    return "; ".join(changed) or "no change"


def spec_text(value: Any) -> str:
    if isinstance(value, dict) and set(value) in ({"cron"}, {"every"}):
        return f"cron {value['cron']}" if "cron" in value else f"every {value['every']}s"
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def entry_lines(row: dict[str, Any], tz: ZoneInfo) -> list[str]:
    """Return `key: value` lines for one entry, times in tz."""
    lines = []
    for key, value in local_times(row, tz).items():
        if isinstance(value, datetime):
            value = value.strftime("%Y-%m-%d %H:%M:%S %Z")
        shown = json.dumps(value) if isinstance(value, list | dict) else value
        lines.append(f"{key + ':':<13} {'-' if shown is None else shown}")
    return lines


def edit_row(edit: Any) -> dict[str, Any]:
    """Return one ScheduleEdit as plain data."""
    return {
        "version": edit.version,
        "at": edit.at,
        "by": edit.by,
        "entry": edit.entry_name,
        "action": edit.action,
        "before": edit.before,
        "after": edit.after,
    }


def confirmation(entry: Any, what: str, tz: ZoneInfo) -> str:
    """Return the one line the CLI prints after an edit, with the entry's next run."""
    row = entry_row(entry, tz)
    due = row["next_run"]
    when = due.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z") if due else "-"
    return f"schedule entry {entry.name!r} {what} ({row['in_words']}); next run {when}"
