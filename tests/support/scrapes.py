"""Scrapes through the broker: queue one and wait for its run to close."""

from __future__ import annotations

from sqlalchemy import select

from models import ScrapeRun, Session
from scheduler.tasks import catalogue
from tests.support.faults import wait_for


def run_of(task_id: str) -> ScrapeRun | None:
    """Return the run scrape task task_id opened, or None before it opened one."""
    with Session() as session:
        return session.scalars(select(ScrapeRun).where(ScrapeRun.task_id == task_id)).first()


def scrape_run_of(task_id: str, timeout: float = 60.0) -> ScrapeRun:
    """Return the run that scrape task task_id opened, once closed; AssertionError after timeout."""
    return wait_for(
        lambda: (run := run_of(task_id)) is not None and run.status != "running" and run,
        timeout,
        f"the scrape run of task {task_id} to close",
    )


def run_scrape(timeout: float = 60.0) -> ScrapeRun:
    """Queue a scrape through the broker and wait for its run to close; return the run."""
    return scrape_run_of(catalogue.scrape_catalogue.delay().id, timeout)
