"""Benchmarks of the web's building blocks, one section each; prints figures, it is not a test.

Run: .venv/bin/python bench/web.py [--only search,history,chart,pages,gunicorn,admin]
[--backends sqlite,postgresql]
[--games 200000] [--titles varied|plausible] [--queries 400] [--naive-queries 100] [--runs 3]

search  --games games (bench/catalogue.py's titles) stored through the scrape's upsert into a
        fresh migrated database per backend, then the queries people type and one- or
        two-letter ones through scheduler.catalogue.search.search_games (20 results, a session
        per query, as a page opens one), beside the naive way, `title ILIKE '%q%' ORDER BY
        title` (`scout games --search` before), on the first --naive-queries of each kind.
        Median and p95 per query, each the median of --runs runs.
history per backend, scheduler.catalogue.history on a game with 1,000 price changes (a game
        page's data) and the lows of 500 games with 20 changes each (a watchlist's), beside
        the naive way of one query per game.
chart   the SVG price chart of a game with 1,000 price changes: milliseconds per render.
pages, gunicorn   whole pages through Flask, and requests per second through gunicorn with the
        Procfile's settings (bench/web_pages.py says how).
admin   the admin console's schedule page with 10,000 entries (bench/web_admin.py says how).

Sections are functions in SECTIONS: a new one takes the parsed arguments and prints its lines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session as OrmSession  # noqa: E402

from bench import catalogue, prices, web_admin, web_pages  # noqa: E402
from bench.upsert import fresh_database  # noqa: E402
from models.base import Session, configure_engine, get_engine  # noqa: E402
from models.game import Game  # noqa: E402
from scheduler.catalogue.persist import upsert_listings  # noqa: E402
from scheduler.catalogue.search import search_games  # noqa: E402
from tests.support import services  # noqa: E402

LIMIT = 20
LOAD_CHUNK = 20_000
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def naive_search(session: OrmSession, query: str, *, limit: int) -> list[Game]:
    """The way to beat: a substring of the title, case-insensitive, in title order."""
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found = select(Game).where(Game.title.ilike(pattern, escape="\\"))
    return list(session.scalars(found.order_by(Game.title, Game.id).limit(limit)))


def store_catalogue(titles: list[str]) -> float:
    """Store one app per title through the scrape's upsert, as a first scrape would; seconds."""
    rows = catalogue.listings(titles)
    began = time.perf_counter()
    for start in range(0, len(rows), LOAD_CHUNK):
        with Session.begin() as session:
            chunk = rows[start : start + LOAD_CHUNK]
            upsert_listings(session, chunk, currency="USD", run_id=None, now=NOW)
    return time.perf_counter() - began


def analyze() -> None:
    """Fresh planner statistics, as autovacuum keeps them (the test server does not run it)."""
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def timed(search: Callable[..., list[Game]], queries: list[str]) -> tuple[list[float], int]:
    """Return each query's milliseconds and how many queries found something."""
    times, hits = [], 0
    for query in queries:
        began = time.perf_counter()
        with Session() as session:
            hits += bool(search(session, query, limit=LIMIT))
        times.append((time.perf_counter() - began) * 1000)
    return times, hits


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def measure_search(mix: dict[str, list[str]], args: argparse.Namespace) -> dict:
    """Return {(method, kind): (median ms, p95 ms, share found)}, each the median of the runs."""
    methods = {"search_games": (search_games, None), "naive ILIKE": (naive_search, args.naive)}
    runs: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for _ in range(args.runs):
        for kind, queries in mix.items():
            for method, (search, count) in methods.items():
                sample = queries[:count] if count else queries
                times, hits = timed(search, sample)
                figures = (statistics.median(times), p95(times), hits / len(sample))
                runs.setdefault((method, kind), []).append(figures)
    return {
        key: tuple(statistics.median(run[i] for run in results) for i in range(3))
        for key, results in runs.items()
    }


def section_search(args: argparse.Namespace) -> None:
    """Search on --games games, per backend, beside the naive way."""
    make = catalogue.plausible_titles if args.titles == "plausible" else catalogue.varied_titles
    titles = make(args.games)
    mix = catalogue.queries(titles, args.queries)
    print(f"\nsearch: {args.games:,} games ({args.titles} titles), {LIMIT} results a query,")
    print(
        f"  {len(mix['typed'])} typed and {len(mix['short'])} short queries "
        f"(naive: the first {args.naive} of each), median of {args.runs} runs"
    )
    print(f"  {'backend':<11}{'method':<14}{'kind':<7}{'median ms':>10}{'p95 ms':>9}{'found':>7}")
    for backend in args.backends:
        with fresh_database(backend) as url:
            services.migrate(url)
            configure_engine(url)
            seconds = store_catalogue(titles)
            analyze()
            figures = measure_search(mix, args)
            get_engine().dispose()
        for (method, kind), (median, worst, found) in figures.items():
            print(f"  {backend:<11}{method:<14}{kind:<7}{median:>10.2f}{worst:>9.2f}{found:>7.0%}")
        print(f"  {backend}: stored the catalogue through the upsert in {seconds:.1f} s")


def section_history(args: argparse.Namespace) -> None:
    """A game page's prices (1,000 changes) and a 500-game watchlist's lows, per backend."""
    print(f"\nhistory: ms per call (median, p95), median of {args.runs} runs")
    for backend in args.backends:
        with fresh_database(backend) as url:
            services.migrate(url)
            configure_engine(url)
            page_game, watched = prices.store_histories(1_000, 500)
            analyze()
            figures = prices.measure_history(args.runs, page_game, watched)
            get_engine().dispose()
        for what, (median, worst) in figures.items():
            print(f"  {backend:<11}{what:<30}{median:>9.2f}{worst:>9.2f}")


def section_chart(args: argparse.Namespace) -> None:
    """Render the SVG chart of 1,000 price changes; milliseconds per render."""
    median, worst = prices.measure_chart(runs=args.runs)
    print(f"\nchart: 1,000 price changes, median of {args.runs} runs of 200 renders")
    print(f"  {median:.2f} ms per render (median), {worst:.2f} ms (p95)")


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "search": section_search,
    "history": section_history,
    "chart": section_chart,
    "pages": web_pages.section_pages,
    "gunicorn": web_pages.section_gunicorn,
    "admin": web_admin.run,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--games", type=int, default=200_000)
    parser.add_argument("--titles", choices=("varied", "plausible"), default="varied")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--naive-queries", dest="naive", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    web_pages.add_arguments(parser)
    web_admin.add_arguments(parser)
    args = parser.parse_args(argv)
    args.only = args.only.split(",")
    args.backends = args.backends.split(",")
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section {', '.join(sorted(unknown))}: use {', '.join(SECTIONS)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"load average before: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    for name in args.only:
        SECTIONS[name](args)
    print(f"\nload average after: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")


if __name__ == "__main__":
    main()
