"""Alert runs: one per check, refresh or sweep, closed with the figures its alerts add up to.

A run is opened by the task that fans out (a re-delivered task reuses its run) and closed by
its chord's callback, or by the sweep when the chord was lost. Helpers never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from models import AlertRun
from scheduler.alerts.outbox import ALERTS


def start_run(session: Session, *, task_id: str, now: datetime) -> tuple[AlertRun, bool]:
    """Return the run for task_id and whether it is new (a re-delivered task reuses its run)."""
    run = session.scalars(select(AlertRun).where(AlertRun.task_id == task_id)).first()
    if run is not None:
        return run, False
    run = AlertRun(task_id=task_id, started_at=now, status="running")
    session.add(run)
    session.flush()
    return run, True


def live_run_ids(session: Session, *, since: datetime) -> set[int]:
    """Return the running runs that started or claimed an email since `since`.

    Their chords are at work: a big fan-out's queued sends may wait longer than
    ALERT_STUCK_AFTER, and each claim shows the run alive. A running run outside this set has
    lost its chord, or waits on a send's retry due later than that.
    """
    running = select(AlertRun.id).where(AlertRun.status == "running")
    started = session.scalars(running.where(AlertRun.started_at >= since)).all()
    claimed = session.scalars(
        select(ALERTS.c.alert_run_id)
        .distinct()
        .where(ALERTS.c.alert_run_id.in_(running), ALERTS.c.claimed_at >= since)
    ).all()
    return {*started, *(run_id for run_id in claimed if run_id is not None)}


def run_figures(session: Session, run_id: int) -> dict[str, int]:
    """Return how many of the run's alerts are in each status."""
    rows = session.execute(
        select(ALERTS.c.status, func.count())
        .where(ALERTS.c.alert_run_id == run_id)
        .group_by(ALERTS.c.status)
    ).all()
    return {status: count for status, count in rows}


def finish_run(
    session: Session, run_id: int, *, now: datetime, errors: Sequence[str] = ()
) -> AlertRun:
    """Write the run's sent/failed/skipped figures and close it; returns the run."""
    run = session.get_one(AlertRun, run_id)
    figures = run_figures(session, run_id)
    run.sent, run.failed = figures.get("sent", 0), figures.get("failed", 0)
    run.skipped = figures.get("skipped", 0)
    unfinished = figures.get("pending", 0) + figures.get("sending", 0)
    run.status = "failed" if errors and not run.sent else "done"
    summary = list(errors[:5]) + ([f"{unfinished} alerts left for the sweep"] if unfinished else [])
    run.error_summary = "; ".join(summary)[:2000] or None
    run.finished_at = now
    return run


def close_lost_runs(session: Session, *, now: datetime, started_before: datetime) -> list[int]:
    """Close runs started before started_before with no alert left to send; return their ids.

    Such a run's chord was lost (Redis restarted empty, a header task raised), so its callback
    will never come; the sweep sends whatever it left and this closes it with figures
    recomputed from its alerts, as finish_run does. Should the callback come after all, it
    recomputes the same figures.
    """
    unfinished = exists().where(
        ALERTS.c.alert_run_id == AlertRun.id, ALERTS.c.status.in_(("pending", "sending"))
    )
    run_ids = session.scalars(
        select(AlertRun.id)
        .where(AlertRun.status == "running", AlertRun.started_at < started_before, ~unfinished)
        .order_by(AlertRun.id)
    ).all()
    for run_id in run_ids:
        run = finish_run(session, run_id, now=now)
        note = "closed by the sweep: its chord was lost"
        run.error_summary = "; ".join(filter(None, [note, run.error_summary]))[:2000]
    return list(run_ids)
