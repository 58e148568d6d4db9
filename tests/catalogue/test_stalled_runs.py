"""Scrape runs whose tasks were lost (Redis restarted empty) are closed from the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import ScrapeRun, Session, utcnow
from scheduler.catalogue import runs
from scheduler.tasks import catalogue
from tests.support.scrapes import run_scrape

QUIET = timedelta(minutes=5)


def open_run(task_id: str, *, started_ago: timedelta, pages_total: int = 4) -> int:
    """A run 'running' since started_ago that planned pages_total pages; returns its id."""
    with Session.begin() as session:
        run = runs.start_run(session, task_id=task_id, now=utcnow() - started_ago)
        runs.set_plan(session, run.id, total_count=pages_total * 20, pages_total=pages_total)
        return run.id


def land(run_id: int, start: int, *, ago: timedelta, error: str | None = None) -> None:
    with Session.begin() as session:
        counts = {"seen": 20, "new": 20}
        runs.record_page(session, run_id, start, now=utcnow() - ago, counts=counts, error=error)


def test_a_run_no_page_landed_in_for_a_while_is_closed_partial_counting_missing_pages(db):
    run_id = open_run("lost", started_ago=timedelta(hours=1))
    land(run_id, 0, ago=timedelta(minutes=59))
    land(run_id, 20, ago=timedelta(minutes=58), error="HTTP 500")

    with Session.begin() as session:
        closed = runs.close_stalled_runs(session, now=utcnow(), quiet_for=QUIET)

    assert closed == [run_id]
    with Session() as session:
        run = session.get_one(ScrapeRun, run_id)
        assert (run.status, run.pages_ok, run.pages_failed) == ("partial", 1, 3)
        assert "2 pages never landed" in run.error_summary
        assert "start=20: HTTP 500" in run.error_summary
        assert run.finished_at is not None


def test_a_run_whose_pages_still_land_or_that_just_started_is_left_running(db):
    busy = open_run("busy", started_ago=timedelta(hours=1))
    land(busy, 0, ago=timedelta(seconds=30))
    fresh = open_run("fresh", started_ago=timedelta(seconds=10))

    with Session.begin() as session:
        closed = runs.close_stalled_runs(session, now=utcnow(), quiet_for=QUIET)

    assert closed == []
    with Session() as session:
        assert {session.get_one(ScrapeRun, i).status for i in (busy, fresh)} == {"running"}


def test_a_run_that_lost_its_first_page_task_is_closed_failed(db):
    with Session.begin() as session:
        run_id = runs.start_run(session, task_id="t", now=utcnow() - timedelta(hours=1)).id

    with Session.begin() as session:
        assert runs.close_stalled_runs(session, now=utcnow(), quiet_for=QUIET) == [run_id]
    with Session() as session:
        assert session.get_one(ScrapeRun, run_id).status == "failed"


def test_a_lost_chord_that_completes_after_the_sweep_reopens_nothing_and_fixes_figures(db):
    run_id = open_run("late", started_ago=timedelta(hours=1), pages_total=2)
    land(run_id, 0, ago=timedelta(minutes=59))
    with Session.begin() as session:
        runs.close_stalled_runs(session, now=utcnow(), quiet_for=QUIET)
    land(run_id, 20, ago=timedelta(0))  # the redelivered page task lands after all

    with Session.begin() as session:
        run = runs.finish_run(session, run_id, now=utcnow())
        assert (run.status, run.pages_ok, run.pages_failed) == ("ok", 2, 0)


def test_a_new_scrape_runs_at_once_when_the_open_run_lost_its_tasks(
    db, worker, small_pages, scout_app
):
    scout_app.update(scrape_stalled_after=60)
    small_pages.control({"games": 100})
    lost = open_run("lost-with-redis", started_ago=timedelta(minutes=10))

    run = run_scrape()

    assert (run.status, run.pages_ok, run.rows_seen) == ("ok", 5, 100)
    with Session() as session:
        old = session.scalars(select(ScrapeRun).where(ScrapeRun.id == lost)).one()
        assert (old.status, old.pages_failed) == ("failed", 4)


def test_the_sweep_task_closes_stalled_runs_and_only_those(db, worker):
    lost = open_run("lost", started_ago=timedelta(hours=1))
    busy = open_run("busy", started_ago=timedelta(seconds=1))

    result = catalogue.close_stalled_scrapes.delay().get(timeout=20)

    assert result == {"closed": [lost]}
    with Session() as session:
        assert session.get_one(ScrapeRun, busy).status == "running"
