"""Scrapes through the broker: queue one and wait for its run to close."""

from __future__ import annotations

import time

from sqlalchemy import select

from models import ScrapeRun, Session
from scheduler.tasks import catalogue


def scrape_run_of(task_id: str, timeout: float = 60.0) -> ScrapeRun:
    """Return the run that scrape task task_id opened, once closed; AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session() as session:
            run = session.scalars(select(ScrapeRun).where(ScrapeRun.task_id == task_id)).first()
            if run is not None and run.status != "running":
                return run
        time.sleep(0.1)
    raise AssertionError(f"scrape run of task {task_id} did not finish in {timeout}s")


def run_scrape(timeout: float = 60.0) -> ScrapeRun:
    """Queue a scrape through the broker and wait for its run to close; return the run."""
    return scrape_run_of(catalogue.scrape_catalogue.delay().id, timeout)
