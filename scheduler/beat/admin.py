"""Admin edits of the schedule, for any front end: read one edit from the texts typed, apply
it, then nudge running beats. `scout schedule` and the admin console both go through here, so
an edit is refused by the same checks with the same one line on both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session as SessionType

from models.base import Session
from models.schedule import ScheduleEntry
from scheduler.beat import entries as store
from scheduler.beat.calls import CallRules, check_call, parse_json_text
from scheduler.beat.entries import in_transaction
from scheduler.beat.spec import timing_of
from scheduler.beat.timing import FieldError, ScheduleError, Timing, parse_cron, parse_every

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


def parse_call_texts(
    args: str | None, kwargs: str | None, options: str | None, prefix: str = "--"
) -> dict[str, Any]:
    """Return the JSON values of the texts given, by name; raises FieldError naming the field
    (as prefix + name: `--args` on the command line, `args` on a form)."""
    found: dict[str, Any] = {}
    for label, text in (("args", args), ("kwargs", kwargs), ("options", options)):
        if text is None:
            continue
        try:
            found[label] = parse_json_text(text)
        except ScheduleError as exc:
            raise FieldError(f"bad {prefix}{label}: {exc}", label) from None
        if found[label] is None:  # would read as "not given"
            raise FieldError(f"bad {prefix}{label}: null is not a JSON list or object", label)
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


@dataclass(frozen=True)
class Change:
    """One edit of an entry, read from what an admin typed; None leaves that part as it is."""

    timing: Timing | None = None
    call: dict[str, Any] = field(default_factory=dict)  # "task", "args", "kwargs" given
    options: Any = None  # the new send options (JSON), replacing the old ones
    queue: str | None = None
    expires: int | None = None
    enabled: bool | None = None

    @property
    def changes_call(self) -> bool:
        """Whether the task, its arguments or its send options change (so they are checked)."""
        return bool(self.call) or any(
            value is not None for value in (self.options, self.queue, self.expires)
        )

    @property
    def empty(self) -> bool:
        """Whether this change changes nothing."""
        return self.timing is None and self.enabled is None and not self.changes_call

    def described(self) -> str:
        """Return what changes, e.g. 'schedule cron 0 3 * * *, args, options'."""
        options = any(value is not None for value in (self.options, self.queue, self.expires))
        changed = sorted({*self.call, *(["options"] if options else [])})
        enabled = [] if self.enabled is None else ["enabled" if self.enabled else "disabled"]
        return ", ".join([f"schedule {self.timing}"] * bool(self.timing) + changed + enabled)


def read_change(
    *,
    cron: str | None = None,
    every: str | None = None,
    task: str | None = None,
    args: str | None = None,
    kwargs: str | None = None,
    options: str | None = None,
    queue: str | None = None,
    expires: str | None = None,
    enabled: bool | None = None,
    prefix: str = "--",
) -> Change:
    """Return the Change the texts ask for (None: left as it is); raises FieldError."""
    values = parse_call_texts(args, kwargs, options, prefix)
    try:
        seconds = None if expires is None else parse_every(expires)
    except ScheduleError as exc:
        raise FieldError(str(exc), "expires") from None
    try:
        timing = timing_from(cron, every)
    except ScheduleError as exc:
        raise FieldError(str(exc), "cron" if cron is not None else "every") from None
    call = {"task": task} if task is not None else {}
    call |= {key: values[key] for key in ("args", "kwargs") if key in values}
    return Change(timing, call, values.get("options"), queue, seconds, enabled)


def apply_change(
    session: SessionType,
    name: str,
    change: Change,
    by: str,
    at: datetime,
    rules: CallRules | None,
    *,
    keep_unchanged: bool = True,
) -> tuple[ScheduleEntry, Change]:
    """Apply change to the entry called name, logged as made by `by`; return the entry and
    what changed. keep_unchanged=False leaves out what equals the entry already (a form sends
    every field), so saving a form unchanged re-anchors nothing and logs nothing.
    Raises ScheduleError (EntryNotFound for an unknown name)."""
    entry = store.get_entry(session, name)
    if not keep_unchanged:
        change = without_unchanged(change, entry)
    if change.timing is not None or change.enabled is not None:
        store.edit_entry(session, name, by, at, timing=change.timing, enabled=change.enabled)
    if change.changes_call:
        options = merged_options(entry.options, change.options, change.queue, change.expires)
        store.update_call(session, name, by, at, {**change.call, "options": options}, rules)
    return entry, change


def without_unchanged(change: Change, entry: ScheduleEntry) -> Change:
    """Return change without the parts that equal what the entry holds already."""
    options = merged_options(entry.options, change.options, change.queue, change.expires)
    same_options = not change.changes_call or _same(options, entry.options)
    return Change(
        timing=None if change.timing == timing_of(entry) else change.timing,
        call={k: v for k, v in change.call.items() if not _same(v, getattr(entry, k))},
        options=None if same_options else options,
        enabled=None if change.enabled == entry.enabled else change.enabled,
    )


def _same(new: Any, old: Any) -> bool:
    # JSON equality, not Python's: [1] == [True] and 1 == 1.0 in Python, not as sent.
    try:
        return json.dumps(new, sort_keys=True) == json.dumps(old, sort_keys=True)
    except (TypeError, ValueError):  # e.g. a stored value that is not JSON
        return False


Send = Callable[[str, list[Any], dict[str, Any], dict[str, Any]], str]


def run_now(
    name: str, by: str, at: datetime, rules: CallRules, send: Send, redis_url: str
) -> tuple[str, str]:
    """Send the entry's task at once through send(task, args, kwargs, options), which returns
    the task id, and log it as a "run" edit by `by`; the entry's own rhythm is left alone.
    Returns (task name, task id); raises ScheduleError (a stored row failing the checks)."""
    with Session() as session:
        entry = store.get_entry(session, name)
        task, args, kwargs, options = entry.task, entry.args, entry.kwargs, entry.options
        # A row stored before edits were checked must not reach send_task unchecked.
        check_call(task, args, kwargs, options, rules)
    task_id = send(task, list(args), dict(kwargs), dict(options))
    after = {"task": task, "task_id": task_id}
    apply_edit(lambda s: store.log_edit(s, name, "run", by, at, None, after), redis_url)
    return task, task_id
