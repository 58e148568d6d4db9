"""Scrape-run bookkeeping: open a run, record each page once, close the run with its figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import ScrapePage, ScrapeRun

MAX_ERRORS_IN_SUMMARY = 5


def _insert(session: Session) -> Any:  # the dialect's Insert: each has its own on_conflict
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ScrapePage)


def stalled_runs(session: Session, *, now: datetime, quiet_for: timedelta) -> list[int]:
    """Return the ids of runs still 'running' with no page recorded (or start) for quiet_for.

    A Redis that restarts empty loses the queued page tasks and the chord's counter with them,
    so such a run would never close and every later scrape would be skipped: the database,
    which records each page as it lands, is what tells a live run from a lost one.
    """
    last_page = func.max(ScrapePage.finished_at)
    rows = session.execute(
        select(ScrapeRun.id, ScrapeRun.started_at, last_page)
        .outerjoin(ScrapePage, ScrapePage.run_id == ScrapeRun.id)
        .where(ScrapeRun.status == "running")
        .group_by(ScrapeRun.id, ScrapeRun.started_at)
        .order_by(ScrapeRun.id)
    ).all()
    cutoff = now - quiet_for
    return [run_id for run_id, started, last in rows if max(started, last or started) < cutoff]


def close_stalled_runs(session: Session, *, now: datetime, quiet_for: timedelta) -> list[int]:
    """Close (partial or failed) every run quiet for quiet_for; return their ids.

    Pages that never landed count as failed; the next scrape reads them again. Should the lost
    chord complete after all (a redelivered task), its callback recomputes the run's figures.
    """
    closed = stalled_runs(session, now=now, quiet_for=quiet_for)
    for run_id in closed:
        finish_run(
            session,
            run_id,
            now=now,
            note=f"closed by the sweep: no page landed for {quiet_for.total_seconds():.0f} s "
            "(its tasks were lost, e.g. with the broker)",
        )
    return closed


def running_run(session: Session) -> ScrapeRun | None:
    """Return the run that is still in progress, if any."""
    return session.scalars(
        select(ScrapeRun).where(ScrapeRun.status == "running").order_by(ScrapeRun.id).limit(1)
    ).first()


def start_run(session: Session, *, task_id: str, now: datetime) -> ScrapeRun:
    """Return the run for task_id, creating it the first time (a re-delivered task reuses it)."""
    run = session.scalars(select(ScrapeRun).where(ScrapeRun.task_id == task_id)).first()
    if run is None:
        run = ScrapeRun(task_id=task_id, started_at=now, status="running")
        session.add(run)
        session.flush()
    return run


def pages_done(session: Session, run_id: int, starts: list[int]) -> set[int]:
    """Return which of these pages of the run already landed (a retried chunk skips them)."""
    return set(
        session.scalars(
            select(ScrapePage.start).where(
                ScrapePage.run_id == run_id, ScrapePage.start.in_(starts), ScrapePage.status == "ok"
            )
        )
    )


def record_page(
    session: Session,
    run_id: int,
    start: int,
    *,
    now: datetime,
    counts: dict[str, int] | None = None,
    error: str | None = None,
) -> None:
    """Record a page as ok (with its row counts) or failed (with error); ok is never undone."""
    counts = counts or {}
    values = {
        "run_id": run_id,
        "start": start,
        "status": "failed" if error else "ok",
        "rows_seen": counts.get("seen", 0),
        "rows_new": counts.get("new", 0),
        "rows_changed": counts.get("changed", 0),
        "rows_bad": counts.get("bad", 0),
        "error": error,
        "finished_at": now,
    }
    stmt = _insert(session).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "start"],
        set_={k: stmt.excluded[k] for k in values if k not in ("run_id", "start")},
        where=ScrapePage.status != "ok",
    )
    session.execute(stmt)


def set_plan(session: Session, run_id: int, *, total_count: int, pages_total: int) -> None:
    """Store what the first page told us: how many rows and pages this run will read."""
    session.execute(
        update(ScrapeRun)
        .where(ScrapeRun.id == run_id)
        .values(total_count=total_count, pages_total=pages_total)
    )


def finish_run(
    session: Session,
    run_id: int,
    *,
    now: datetime,
    fatal: str | None = None,
    note: str | None = None,
) -> ScrapeRun:
    """Close the run from its page records: status ok, partial or failed, and its figures.

    Pages of the plan never recorded count as failed. fatal fails the run; note is only told.
    """
    ok = ScrapePage.status == "ok"
    figures = session.execute(
        select(
            func.count(case((ok, 1))),
            func.count(case((~ok, 1))),
            func.coalesce(func.sum(ScrapePage.rows_seen), 0),
            func.coalesce(func.sum(ScrapePage.rows_new), 0),
            func.coalesce(func.sum(ScrapePage.rows_changed), 0),
            func.coalesce(func.sum(ScrapePage.rows_bad), 0),
        ).where(ScrapePage.run_id == run_id)
    ).one()
    errors = session.execute(
        select(ScrapePage.start, ScrapePage.error)
        .where(ScrapePage.run_id == run_id, ~ok)
        .order_by(ScrapePage.start)
        .limit(MAX_ERRORS_IN_SUMMARY)
    ).all()
    run = session.get(ScrapeRun, run_id)
    assert run is not None, f"scrape run {run_id} vanished"
    (
        run.pages_ok,
        run.pages_failed,
        run.rows_seen,
        run.rows_new,
        run.rows_changed,
        run.rows_bad,
    ) = (int(v) for v in figures)
    missing = max(0, (run.pages_total or 0) - run.pages_ok - run.pages_failed)
    run.pages_failed += missing
    summary = [text for text in (fatal, note) if text]
    if missing:
        summary.append(f"{missing} pages never landed")
    summary += [f"start={start}: {error}" for start, error in errors]
    if run.pages_failed - missing > len(errors):
        summary.append(f"... and {run.pages_failed - missing - len(errors)} more failed pages")
    run.error_summary = "\n".join(summary) or None
    if fatal or run.pages_ok == 0:
        run.status = "failed"
    else:
        run.status = "partial" if run.pages_failed else "ok"
    run.finished_at = now
    return run


def run_figures(run: ScrapeRun) -> dict[str, object]:
    """Return a run as a small JSON-able dict."""
    return {
        "run_id": run.id,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "total_count": run.total_count,
        "pages_total": run.pages_total,
        "pages_ok": run.pages_ok,
        "pages_failed": run.pages_failed,
        "rows_seen": run.rows_seen,
        "rows_new": run.rows_new,
        "rows_changed": run.rows_changed,
        "rows_bad": run.rows_bad,
        "error_summary": run.error_summary,
    }
