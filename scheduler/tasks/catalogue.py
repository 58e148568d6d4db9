"""Catalogue tasks: read the first search page, fan the rest out in a chord, close the run.

Every task here runs twice safely: a run is keyed by the task id, a page that landed is
skipped, upserts are idempotent and the closing callback recomputes the figures from the
page records.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import chord

from config import Config
from models import Session, utcnow
from scheduler.app import celery as app
from scheduler.app import current_config
from scheduler.catalogue import runs as scrape_runs
from scheduler.catalogue.client import client_for
from scheduler.catalogue.pages import chunked, land_page, page_starts
from scheduler.catalogue.parse import SearchPage
from scheduler.logs import key_values
from scheduler.tasks.outage import DatabaseTask

log = logging.getLogger(__name__)


def _land(config: Config, run_id: int, start: int) -> SearchPage | None:
    return land_page(
        client_for(config),
        run_id,
        start,
        page_size=config.store_page_size,
        currency=config.store_currency,
    )


@app.task(bind=True, base=DatabaseTask, name="scheduler.tasks.catalogue.scrape_catalogue")
def scrape_catalogue(self: Any) -> dict[str, Any]:
    """Open a run, land the first page, then fan the other pages out in a chord."""
    config = current_config()
    now, quiet_for = utcnow(), timedelta(seconds=config.scrape_stalled_after)
    with Session.begin() as session:
        scrape_runs.close_stalled_runs(session, now=now, quiet_for=quiet_for)
        other = scrape_runs.running_run(session)
        if other is not None and other.task_id != self.request.id:
            log.info("scrape skipped: run %s is still running", other.id)
            return {"skipped": f"run {other.id} is still running", "run_id": other.id}
        run = scrape_runs.start_run(session, task_id=self.request.id, now=now)
        if run.status != "running":
            return scrape_runs.run_figures(run)
        run_id = run.id
    first = _land(config, run_id, 0)
    if first is None:
        with Session.begin() as session:
            scrape_runs.set_plan(session, run_id, total_count=0, pages_total=1)
            run = scrape_runs.finish_run(
                session, run_id, now=utcnow(), fatal="the first page failed; nothing to fan out"
            )
            figures = scrape_runs.run_figures(run)
        log.error("scrape run %s failed: first page could not be read", run_id)
        return figures
    starts = page_starts(first.total_count, config.store_page_size)
    with Session.begin() as session:
        scrape_runs.set_plan(
            session, run_id, total_count=first.total_count, pages_total=len(starts) + 1
        )
    chunks = chunked(starts, config.scrape_pages_per_task)
    if not chunks:
        return finish_scrape.run([], run_id)
    chord(scrape_pages.s(run_id, chunk) for chunk in chunks)(finish_scrape.s(run_id))
    log.info(
        "scrape run %s: %s rows in %s pages, %s page tasks queued",
        run_id,
        first.total_count,
        len(starts) + 1,
        len(chunks),
    )
    return {"run_id": run_id, "pages_total": len(starts) + 1, "tasks": len(chunks)}


@app.task(
    bind=True,
    base=DatabaseTask,
    name="scheduler.tasks.catalogue.scrape_pages",
    soft_time_limit=3000,
    time_limit=3300,
)
def scrape_pages(self: Any, run_id: int, starts: list[int]) -> dict[str, int]:
    """Land a chunk of pages; a failed page is recorded and the others still land."""
    config = current_config()
    with Session.begin() as session:
        landed = scrape_runs.pages_done(session, run_id, starts)
    done, failed = len(landed), 0
    for start in starts:
        if start in landed:
            continue
        if _land(config, run_id, start) is None:
            failed += 1
        else:
            done += 1
    return {"ok": done, "failed": failed}


@app.task(base=DatabaseTask, name="scheduler.tasks.catalogue.finish_scrape")
def finish_scrape(_results: list[dict[str, int]], run_id: int) -> dict[str, Any]:
    """Chord callback: close the run with figures computed from its page records."""
    with Session.begin() as session:
        run = scrape_runs.finish_run(session, run_id, now=utcnow())
        figures = scrape_runs.run_figures(run)
    log.info("scrape %s", key_values(figures))
    return figures


@app.task(
    base=DatabaseTask,
    name="scheduler.tasks.catalogue.close_stalled_scrapes",
    acks_late=True,
    db_retries=0,  # a sweep: the next one, a minute later, is the retry
    soft_time_limit=60,
    time_limit=120,
)
def close_stalled_scrapes() -> dict[str, list[int]]:
    """Sweep: close runs no page landed in for SCRAPE_STALLED_AFTER; returns their ids."""
    quiet_for = timedelta(seconds=current_config().scrape_stalled_after)
    with Session.begin() as session:
        closed = scrape_runs.close_stalled_runs(session, now=utcnow(), quiet_for=quiet_for)
    for run_id in closed:
        log.warning("scrape run %s closed by the sweep: no page landed for %s", run_id, quiet_for)
    return {"closed": closed}
