"""Catalogue commands: scrape [--wait], games [--search], runs."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from scheduler.cli.arguments import MAX_LIMIT, int_between
from scheduler.cli.output import CLIError, format_price, print_json, print_table, terminal_safe

POLL_SECONDS = 0.5
START_TIMEOUT = 60.0
# A run no page landed in for SCRAPE_STALLED_AFTER is closed by the sweep, which beat sends
# every minute; this much later, the waiting ends even when beat is down too.
SWEEP_SLACK = 120.0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the catalogue commands to the scout parser."""
    scrape = subparsers.add_parser("scrape", help="queue a scrape of the store catalogue now")
    scrape.add_argument(
        "--wait", action="store_true", help="show progress and the run's figures when it ends"
    )
    scrape.add_argument(
        "--timeout",
        type=int_between(1, 86400),
        default=int(START_TIMEOUT),
        metavar="SECONDS",
        help="with --wait, give up when no worker has started the scrape within SECONDS (60)",
    )
    scrape.set_defaults(func=cmd_scrape)
    games = subparsers.add_parser("games", help="list games and their current prices")
    games.add_argument(
        "--search",
        metavar="TEXT",
        help="games whose title has a word starting with each word of TEXT, best first "
        "(case, accents and punctuation ignored)",
    )
    games.add_argument(
        "--limit", type=int_between(1, MAX_LIMIT), default=50, help="at most N rows (50)"
    )
    games.add_argument("--json", action="store_true", help="print JSON for scripts")
    games.set_defaults(func=cmd_games)
    runs = subparsers.add_parser("runs", help="list recent scrape runs and their figures")
    runs.add_argument(
        "--limit", type=int_between(1, MAX_LIMIT), default=20, help="at most N runs (20)"
    )
    runs.add_argument("--json", action="store_true", help="print JSON for scripts")
    runs.set_defaults(func=cmd_runs)


def cmd_scrape(args: argparse.Namespace) -> int:
    """Queue scrape_catalogue; with --wait, follow the run until it ends."""
    from scheduler.cli.services import cli_config, send_task

    result = send_task("scheduler.tasks.catalogue.scrape_catalogue")
    print(f"scrape queued (task {result.id})")
    if not args.wait:
        return 0
    stalled_after = cli_config().scrape_stalled_after + SWEEP_SLACK
    figures = wait_for_run(result, start_timeout=args.timeout, stalled_after=stalled_after)
    _print_figures(figures)
    return 0 if figures.get("status") == "ok" else 1


def _run_state(task_id: str) -> tuple[dict[str, Any] | None, int]:
    """Return the figures of the task's scrape run (None before it opens) and its pages done."""
    from models import ScrapePage, ScrapeRun, Session
    from scheduler.catalogue.runs import run_figures

    with Session() as session:
        run = session.scalars(select(ScrapeRun).where(ScrapeRun.task_id == task_id)).first()
        if run is None:
            return None, 0
        done = session.scalar(select(func.count()).where(ScrapePage.run_id == run.id))
        return run_figures(run), done or 0


def wait_for_run(result: Any, *, start_timeout: float, stalled_after: float) -> dict[str, Any]:
    """Return the task's run figures once it ends; raises CLIError if it never starts or stalls."""
    progress, since = (False, 0), time.monotonic()
    while True:
        figures, done = _run_state(result.id)
        if figures is not None:
            _progress(done, int(figures["pages_total"] or 0))
            if figures["status"] != "running":
                sys.stderr.write("\n")
                return figures
        if (figures is not None, done) != progress:
            progress, since = (figures is not None, done), time.monotonic()
        waited = time.monotonic() - since
        if figures is None:
            _check_started(result, waited, start_timeout)
        elif waited >= stalled_after:
            raise CLIError(
                f"gave up after {stalled_after:g}s without a page landing: run {figures['run_id']} "
                "looks stalled (is the worker running? the sweep closes it)"
            )
        time.sleep(POLL_SECONDS)


def _check_started(result: Any, waited: float, timeout: float) -> None:
    """Raise CLIError when the task ended without a run, or no worker took it in time."""
    if result.ready():
        outcome = result.result
        if isinstance(outcome, dict) and outcome.get("skipped"):
            raise CLIError(f"scrape skipped: {outcome['skipped']}")
        raise CLIError(f"scrape task ended without a run: {outcome!r}")
    if waited >= timeout:
        # Not revoked: a worker that starts later still runs it, once.
        raise CLIError(
            f"gave up after {timeout:g}s: no worker has started the scrape, which stays queued "
            f"(task {result.id}): is the worker process running?"
        )


def _progress(done: int, total: int) -> None:
    if not total:
        sys.stderr.write("\rreading the first page...")
        return
    width = 30
    filled = min(width, width * done // total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} pages")
    sys.stderr.flush()


def _print_figures(figures: dict[str, Any]) -> None:
    print(f"run {figures['run_id']}: {figures['status']}")
    for key in (
        "total_count",
        "pages_total",
        "pages_ok",
        "pages_failed",
        "rows_seen",
        "rows_new",
        "rows_changed",
        "rows_bad",
    ):
        print(f"  {key.replace('_', ' ')}: {figures[key]}")
    if figures["finished_at"] and figures["started_at"]:
        seconds = (figures["finished_at"] - figures["started_at"]).total_seconds()
        print(f"  seconds: {seconds:.1f}")
    if figures["error_summary"]:
        print("  errors:")
        for line in figures["error_summary"].splitlines():
            print(f"    {terminal_safe(line)}")


def cmd_games(args: argparse.Namespace) -> int:
    """List games by title, or those the search finds (the web's search), best first."""
    from models import Game, Session
    from scheduler.catalogue.search import search_games
    from scheduler.cli.services import open_database

    open_database()
    with Session() as session:
        found: Iterable[Any]
        if args.search is None:
            found = session.scalars(select(Game).order_by(Game.title, Game.id).limit(args.limit))
        else:
            found = search_games(session, args.search, limit=args.limit)
        rows = [_game_row(game) for game in found]
    if args.json:
        print_json(rows)
    else:
        print_table(
            [
                {**r, "price": format_price(r["final_cents"], r["currency"], r["is_free"])}
                for r in rows
            ],
            ["itemkey", "title", "price", "discount_pct", "last_seen"],
            empty="no games yet: run `scout scrape`" if args.search is None else "no game matches",
        )
    return 0


def _game_row(game: Any) -> dict[str, Any]:
    return {
        "itemkey": game.itemkey,
        "kind": game.kind,
        "steam_id": game.steam_id,
        "title": game.title,
        "final_cents": game.final_cents,
        "original_cents": game.original_cents,
        "discount_pct": game.discount_pct,
        "currency": game.currency,
        "is_free": game.is_free,
        "first_seen": game.first_seen,
        "last_seen": game.last_seen,
        "price_changed_at": game.price_changed_at,
    }


def cmd_runs(args: argparse.Namespace) -> int:
    """List recent scrape runs, newest first."""
    from models import ScrapeRun, Session
    from scheduler.catalogue.runs import run_figures
    from scheduler.cli.services import open_database

    open_database()
    with Session() as session:
        runs = session.scalars(select(ScrapeRun).order_by(ScrapeRun.id.desc()).limit(args.limit))
        rows = [run_figures(run) for run in runs]
    if args.json:
        print_json(rows)
    else:
        print_table(
            [
                {
                    **r,
                    "run": r["run_id"],
                    "pages": f"{r['pages_ok']}/{r['pages_total']} ok, {r['pages_failed']} failed",
                    "rows": f"{r['rows_seen']} seen, {r['rows_new']} new, "
                    f"{r['rows_changed']} changed",
                }
                for r in rows
            ],
            ["run", "status", "started_at", "finished_at", "pages", "rows"],
            empty="no scrape runs yet",
        )
    return 0
