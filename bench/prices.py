"""Price histories for bench/web.py: a game page's data and chart, a watchlist's lows."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from models.base import Session
from models.game import Game, PriceChange
from scheduler.catalogue.history import PricePoint, game_prices, lowest_prices
from scheduler.web.chart import price_chart

START = datetime(2024, 1, 1, 6, 0, tzinfo=UTC)


def cents_at(n: int) -> int:
    """A price that wanders between 4.99 and 29.99 and sometimes goes on sale."""
    return 499 + (n * 7919) % 2500 if n % 5 else 299 + n % 200


def changes(count: int) -> list[PricePoint]:
    """Return count price changes, one every 8 hours or so, a few of them free or unpriced."""
    points = []
    for n in range(count):
        free, unpriced = n % 97 == 96, n % 89 == 88
        cents = None if unpriced else 0 if free else cents_at(n)
        points.append(PricePoint(START + timedelta(hours=8 * n), cents, cents, 0, free))
    return points


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Return the median and p95 milliseconds of repeat calls."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20, method="inclusive")[-1]


def median_of_runs(runs: int, measure: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    figures = [measure() for _ in range(runs)]
    return statistics.median(f[0] for f in figures), statistics.median(f[1] for f in figures)


def measure_chart(runs: int, count: int = 1_000, repeat: int = 200) -> tuple[float, float]:
    """Return median and p95 ms of rendering the chart of count changes (medians of runs)."""
    points = changes(count)
    now = points[-1].at + timedelta(days=2)

    def render() -> str:
        return price_chart(points, currency="USD", now=now, title="Bench & <Chart>")

    return median_of_runs(runs, lambda: timed(render, repeat))


def store_histories(
    count: int, watched: int, *, others: int = 10_000, per_game: int = 20
) -> tuple[int, list[int]]:
    """Store a game with count changes, then watched and other games with per_game each.

    Returns the first game's id and the watched games' ids.
    """
    with Session.begin() as session:
        games = [
            Game(kind="app", steam_id=n, title=f"Game {n}", currency="USD", final_cents=999,
                 first_seen=START, last_seen=START)
            for n in range(1 + watched + others)
        ]  # fmt: skip
        session.add_all(games)
        session.flush()
        rows = [
            {"game_id": game.id, "observed_at": point.at, "final_cents": point.final_cents,
             "original_cents": point.original_cents, "discount_pct": 0, "is_free": point.is_free,
             "currency": "USD"}
            for game, number in [(games[0], count), *((g, per_game) for g in games[1:])]
            for point in changes(number)
        ]  # fmt: skip
        session.execute(insert(PriceChange), rows)
        return games[0].id, [game.id for game in games[1 : 1 + watched]]


def naive_lows(game_ids: list[int]) -> dict[int, int | None]:
    """The way to beat: one query per row of the watchlist."""
    with Session() as session:
        return {
            game_id: session.scalar(
                select(PriceChange.final_cents)
                .where(PriceChange.game_id == game_id, PriceChange.final_cents.is_not(None),
                       PriceChange.is_free.is_(False))
                .order_by(PriceChange.final_cents).limit(1)
            )
            for game_id in game_ids
        }  # fmt: skip


def measure_history(runs: int, page_game: int, watched: list[int]) -> dict[str, tuple]:
    """Return {what: (median ms, p95 ms)} for a game page's data and a watchlist's lows."""

    def page() -> None:
        with Session() as session:
            game_prices(session, session.get_one(Game, page_game))

    def lows() -> None:
        with Session() as session:
            lowest_prices(session, watched)

    return {
        "game_prices, 1,000 changes": median_of_runs(runs, lambda: timed(page, 100)),
        f"lowest_prices, {len(watched)} games": median_of_runs(runs, lambda: timed(lows, 30)),
        f"naive, {len(watched)} queries": median_of_runs(runs, lambda: timed(
            lambda: naive_lows(watched), 5)),
    }  # fmt: skip
