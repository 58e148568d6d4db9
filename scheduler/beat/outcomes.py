"""How a task the schedule sent ended: its scrape or alert run when it opened one, else the
Celery result the worker stored in Redis (kept result_expires, 7 days).

Beat stores the id of the task it last sent on the entry (schedule_entries.last_task_id), and
`run now` logs the id of the task it sent in the edit log; these read what became of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AlertRun, ScrapeRun

Metas = Callable[[list[str]], Mapping[str, Mapping[str, Any] | None]]
CHUNK = 500
MAX_TEXT = 300
RUN_STATES = {"ok": "ok", "done": "ok", "partial": "failed", "failed": "failed"}


@dataclass(frozen=True)
class Outcome:
    """What became of one task: state is ok, failed, running, waiting or unknown."""

    state: str
    text: str
    run: tuple[str, int] | None = None  # ("scrape" | "alerts", run id) when it opened a run


def task_outcomes(
    session: Session, sent: Mapping[str, datetime | None], metas: Metas, *, now: datetime,
    kept: timedelta,
) -> dict[str, Outcome]:  # fmt: skip
    """Return the outcome of each task id in sent (id -> when it was sent), reading its run
    from the database, else its result through metas (Redis); Redis down gives 'unknown'."""
    found = _runs(session, list(sent))
    rest = [task_id for task_id in sent if task_id not in found]
    if not rest:
        return found
    try:
        stored = metas(rest)
    except (redis.RedisError, OSError) as exc:
        reason = f"unknown: Redis does not answer ({type(exc).__name__})"
        return found | {task_id: Outcome("unknown", reason) for task_id in rest}
    for task_id in rest:
        found[task_id] = from_meta(stored.get(task_id), sent[task_id], now=now, kept=kept)
    return found


def _runs(session: Session, task_ids: list[str]) -> dict[str, Outcome]:
    found: dict[str, Outcome] = {}
    for model, kind in ((ScrapeRun, "scrape"), (AlertRun, "alerts")):
        for start in range(0, len(task_ids), CHUNK):
            chunk = task_ids[start : start + CHUNK]
            rows = session.execute(
                select(model.id, model.task_id, model.status).where(model.task_id.in_(chunk))
            )
            for run_id, task_id, status in rows:
                if task_id is None:
                    continue
                state = RUN_STATES.get(status, "running")
                label = "scrape run" if kind == "scrape" else "alert run"
                found[task_id] = Outcome(state, f"{label} {run_id}: {status}", (kind, run_id))
    return found


def from_meta(
    meta: Mapping[str, Any] | None, sent_at: datetime | None, *, now: datetime, kept: timedelta
) -> Outcome:
    """Return the outcome a stored Celery result says (None: nothing stored yet, or expired)."""
    if meta is None:
        if sent_at is not None and now - sent_at > kept:
            days = kept.total_seconds() / 86400
            return Outcome("unknown", f"no record left (results are kept {days:g} days)")
        return Outcome("waiting", "waiting for a worker")
    status = str(meta.get("status", "")).upper()
    if status == "SUCCESS":
        return Outcome("ok", "succeeded")
    if status == "FAILURE":
        return Outcome("failed", _cut(f"failed: {_error(meta.get('result'))}"))
    if status == "RETRY":
        return Outcome("running", _cut(f"retrying after: {_error(meta.get('result'))}"))
    if status == "STARTED":
        return Outcome("running", "running")
    if status == "REVOKED":
        return Outcome("failed", "not run: revoked, or expired before a worker took it")
    return Outcome("unknown", _cut(status.lower() or "unknown"))


def _error(result: Any) -> str:
    """Return 'ExcType: message' from a stored exception (JSON: exc_type, exc_message)."""
    if not isinstance(result, Mapping):
        return str(result)
    message = result.get("exc_message")
    if isinstance(message, list | tuple):
        message = " ".join(str(part) for part in message)
    kind = result.get("exc_type") or "error"
    return f"{kind}: {message}" if message not in (None, "") else str(kind)


def _cut(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_TEXT else line[: MAX_TEXT - 3] + "..."


def result_reader(app: Any, client: redis.Redis) -> Metas:
    """Return a reader of the stored results of task ids, in one MGET, through client."""
    backend = app.backend

    def read(task_ids: list[str]) -> dict[str, Mapping[str, Any] | None]:
        keys = [backend.get_key_for_task(task_id) for task_id in task_ids]
        values = client.mget(keys) if keys else []
        pairs = zip(task_ids, values, strict=True)
        return {task_id: _decoded(backend, value) for task_id, value in pairs}

    return read


def _decoded(backend: Any, value: Any) -> Mapping[str, Any] | None:
    if value is None:
        return None
    try:
        meta = backend.decode(value)
    except Exception:  # a value another program wrote: say unknown, never fail the page
        return {"status": "unreadable"}
    return meta if isinstance(meta, Mapping) else {"status": "unreadable"}


def sent_ids(rows: Iterable[Mapping[str, Any]]) -> dict[str, datetime | None]:
    """Return task id -> when it was sent, for rows carrying last_task_id and last_run_at."""
    return {row["last_task_id"]: row.get("last_run_at") for row in rows if row.get("last_task_id")}
