"""The store -> database pipeline on a real worker, real Redis, the simulated store over HTTP."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from models import Game, PriceChange, ScrapePage, ScrapeRun, Session
from scheduler.app import celery as app
from scheduler.tasks import catalogue
from tests.support.scrapes import run_scrape, scrape_run_of

GAMES = 230
PAGE_SIZE = 20


def count(model, *where) -> int:
    with Session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_a_scrape_lands_every_game_and_closes_the_run_with_its_figures(db, worker, small_pages):
    small_pages.control({"games": GAMES})
    run = run_scrape()
    pages = -(-GAMES // PAGE_SIZE)
    assert (run.status, run.total_count, run.pages_total) == ("ok", GAMES, pages)
    assert (run.pages_ok, run.pages_failed) == (pages, 0)
    assert (run.rows_seen, run.rows_new, run.rows_changed) == (GAMES, GAMES, 0)
    assert count(Game) == GAMES
    assert count(PriceChange) == GAMES  # a first sighting is the first price-history row
    assert count(ScrapePage, ScrapePage.run_id == run.id) == pages


def test_a_second_scrape_at_the_same_prices_writes_no_history(db, worker, small_pages):
    small_pages.control({"games": GAMES})
    run_scrape()
    again = run_scrape()
    assert (again.status, again.rows_seen, again.rows_new, again.rows_changed) == (
        "ok",
        GAMES,
        0,
        0,
    )
    assert count(PriceChange) == GAMES


def test_a_sale_writes_one_history_row_per_changed_price(db, worker, small_pages):
    small_pages.control({"games": GAMES})
    run_scrape()
    with Session() as session:
        before = {(g.kind, g.steam_id): g.final_cents for g in session.scalars(select(Game))}
    small_pages.control({"epoch": 2})
    sale = run_scrape()
    with Session() as session:
        after = {(g.kind, g.steam_id): g.final_cents for g in session.scalars(select(Game))}
    changed = sum(1 for key, cents in after.items() if before[key] != cents)
    assert changed > 0
    assert sale.rows_changed >= changed
    assert count(PriceChange) == GAMES + sale.rows_changed


def test_a_page_that_keeps_failing_is_recorded_and_every_other_page_lands(db, worker, small_pages):
    small_pages.control({"games": GAMES})
    first = run_scrape()
    with Session() as session:
        prices = {(g.kind, g.steam_id): g.final_cents for g in session.scalars(select(Game))}
    small_pages.control({"epoch": 2, "faults": [{"kind": "500", "start": 60, "times": None}]})
    run = run_scrape()
    assert run.status == "partial"
    assert (run.pages_ok, run.pages_failed) == (first.pages_total - 1, 1)
    assert run.rows_seen == GAMES - PAGE_SIZE
    assert "start=60" in run.error_summary and "500" in run.error_summary
    with Session() as session:
        page = session.scalars(
            select(ScrapePage).where(ScrapePage.run_id == run.id, ScrapePage.start == 60)
        ).one()
        assert page.status == "failed"
        kept = {(g.kind, g.steam_id): g.final_cents for g in session.scalars(select(Game))}
    assert len(kept) == GAMES  # nothing was lost
    on_failed_page = [small_pages.truth(i) for i in range(60, 60 + PAGE_SIZE)]
    for truth in on_failed_page:  # the failed page's games keep their last good prices
        assert kept[(truth.kind, truth.steam_id)] == prices[(truth.kind, truth.steam_id)]
    moved = [t for t in on_failed_page if t.final_cents != prices[(t.kind, t.steam_id)]]
    assert moved, "the sale should have changed a price on the failed page"


@pytest.mark.parametrize("fault", ["garbled", "json_error", "truncated", "empty"])
def test_a_bad_page_in_mid_catalogue_is_recorded_as_failed(sqlite_db, worker, small_pages, fault):
    small_pages.control({"games": GAMES, "faults": [{"kind": fault, "start": 100, "times": None}]})
    run = run_scrape()
    assert run.pages_failed == 1 and run.status == "partial"
    assert "start=100" in run.error_summary


def test_a_store_that_is_down_fails_the_run_and_the_worker_lives_on(sqlite_db, worker, small_pages):
    small_pages.control({"games": GAMES, "faults": [{"kind": "down", "times": None}]})
    run = run_scrape()
    assert run.status == "failed"
    assert "first page" in run.error_summary
    assert app.send_task("celery.ping").get(timeout=10) == "pong"


def test_a_429_storm_is_waited_out_and_the_run_completes(sqlite_db, worker, small_pages, scout_app):
    scout_app.update(store_max_retries=6)
    storm = {"kind": "429", "times": 5, "retry_after": "1"}
    small_pages.control({"games": GAMES, "faults": [storm]})
    started = time.monotonic()
    run = run_scrape()
    assert (run.status, run.rows_seen, run.pages_failed) == ("ok", GAMES, 0)
    assert small_pages.stats()["by_status"]["429"] == 5
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured, not hammered through


def test_a_redelivered_scrape_task_does_not_scrape_twice(sqlite_db, worker, small_pages):
    small_pages.control({"games": GAMES})
    result = catalogue.scrape_catalogue.apply_async(task_id="scrape-redelivered")
    result.get(timeout=30)
    run = scrape_run_of("scrape-redelivered")
    requests_before = small_pages.stats()["total"]
    result.forget()  # so that .get() below waits for the second delivery's own answer
    again = catalogue.scrape_catalogue.apply_async(task_id="scrape-redelivered").get(timeout=30)
    assert again["run_id"] == run.id and again["status"] == "ok"
    assert small_pages.stats()["total"] == requests_before
    assert count(ScrapeRun) == 1


def test_a_redelivered_page_chunk_skips_the_pages_that_landed(db, worker, small_pages):
    small_pages.control({"games": GAMES})
    run = run_scrape()
    requests_before = small_pages.stats()["total"]
    again = catalogue.scrape_pages.delay(run.id, [20, 40, 60]).get(timeout=30)
    assert again == {"ok": 3, "failed": 0}
    assert small_pages.stats()["total"] == requests_before
    with Session() as session:
        assert session.get(ScrapeRun, run.id).rows_seen == GAMES
    assert count(PriceChange) == GAMES


def test_a_finished_scrape_logs_one_key_value_line_of_figures(
    sqlite_db, worker, small_pages, caplog
):
    small_pages.control({"games": 50})
    with caplog.at_level("INFO", logger="scheduler.tasks.catalogue"):
        run = run_scrape()
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("scrape run_id")]
    figures = dict(pair.split("=", 1) for pair in line.removeprefix("scrape ").split())
    assert figures["run_id"] == str(run.id) and figures["status"] == "ok"
    assert (figures["pages_ok"], figures["rows_seen"], figures["rows_new"]) == ("3", "50", "50")
