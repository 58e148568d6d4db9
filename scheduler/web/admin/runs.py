"""/admin/runs: scrape and alert runs, newest first, a page of each; a run's own page lists
what it failed (store pages, or alerts with the subscriber, the game and the reason)."""

from __future__ import annotations

from flask import abort, render_template, request

from models import AlertRun, ReadSession, ScrapeRun
from scheduler import runs
from scheduler.paging import page_number
from scheduler.web.admin import bp

PER_PAGE = 25
FAILED_PER_PAGE = 100


@bp.get("/runs")
def run_list() -> str:
    """Scrape runs and alert runs, each paged on its own (?scrape=N, ?alerts=N)."""
    with ReadSession() as session:
        scrapes = runs.scrape_runs(session, page_number(request.args.get("scrape")), PER_PAGE)
        alerts = runs.alert_runs(session, page_number(request.args.get("alerts")), PER_PAGE)
    return render_template("admin_runs.html", scrapes=scrapes, alerts=alerts)


@bp.get("/runs/scrape/<int:run_id>")
def scrape_run(run_id: int) -> str:
    """One scrape run: its figures and its failed pages with their errors."""
    with ReadSession() as session:
        run = session.get(ScrapeRun, run_id)
        if run is None:
            abort(404)
        failed = runs.failed_pages(
            session, run_id, page_number(request.args.get("page")), FAILED_PER_PAGE
        )
    return render_template("admin_scrape_run.html", run=run, failed=failed)


@bp.get("/runs/alerts/<int:run_id>")
def alert_run(run_id: int) -> str:
    """One alert run: its figures and its failed alerts with their reasons."""
    with ReadSession() as session:
        run = session.get(AlertRun, run_id)
        if run is None:
            abort(404)
        failed = runs.failed_alerts(
            session, run_id, page_number(request.args.get("page")), FAILED_PER_PAGE
        )
    return render_template("admin_alert_run.html", run=run, failed=failed)
