"""Persistence speed: set-based upsert_listings against one ORM merge per row, on both backends.

Run: .venv/bin/python bench/upsert.py [--rows 200000] [--naive-rows 20000] [--runs 3]
[--backends sqlite,postgresql]. Each backend gets a fresh database migrated with alembic (a temp
SQLite file; a new database on the PostgreSQL test server, dropped afterwards). Three passes over
the same items, with history: first load (all new), unchanged, 10% repriced. Modes: --rows
listings in page-sized batches of 100, one transaction each as a page task does; --rows listings
in one call; and the naive way (one SELECT + session.merge() per row, a history row when the
price changed, 100 rows per transaction) on --naive-rows listings. Prints rows/s, the median of
--runs runs, each on emptied tables. Wall-clock time, so the database server's work counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session as OrmSession  # noqa: E402

from models.base import Session, configure_engine, get_engine  # noqa: E402
from models.game import Game, PriceChange  # noqa: E402
from scheduler.catalogue.parse import Listing  # noqa: E402
from scheduler.catalogue.persist import upsert_listings  # noqa: E402
from tests.support import services  # noqa: E402

PAGE = 100
PASSES = ("first load", "unchanged", "10% repriced")
START = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)

Upsert = Callable[..., Any]


def make_listings(n: int, *, repriced: bool = False) -> list[Listing]:
    """Return n store rows of apps, packages and bundles; repriced drops every tenth by 10%."""
    rows = []
    for i in range(1, n + 1):
        kind = "bundle" if i % 50 == 0 else "sub" if i % 20 == 0 else "app"
        free = i % 97 == 0
        original = 0 if free else 99 + i * 37 % 5000
        final = original * 9 // 10 if repriced and i % 10 == 0 else original
        discount = 0 if original == 0 else 100 - final * 100 // original
        rows.append(
            Listing(
                itemkey=f"{kind.capitalize()}_{i}",
                kind=kind,
                steam_id=i,
                appids=(i,),
                title=f"Game {i}",
                final_cents=final,
                original_cents=original,
                discount_pct=discount,
                is_free=free,
                price_text=f"${final / 100:.2f}",
            )
        )
    return rows


def naive_upsert(
    session: OrmSession,
    listings: list[Listing],
    *,
    currency: str,
    run_id: int | None,
    now: datetime,
) -> None:
    """The way to beat: look each row up, session.merge() it, add history when it changed."""
    for item in listings:
        old = session.scalars(
            select(Game).where(Game.kind == item.kind, Game.steam_id == item.steam_id)
        ).one_or_none()
        price = {
            "final_cents": item.final_cents,
            "original_cents": item.original_cents,
            "discount_pct": item.discount_pct,
            "is_free": item.is_free,
            "currency": currency,
        }
        changed = old is None or any(getattr(old, name) != value for name, value in price.items())
        game = session.merge(
            Game(
                id=old.id if old else None,
                kind=item.kind,
                steam_id=item.steam_id,
                title=item.title,
                first_seen=old.first_seen if old else now,
                last_seen=now,
                price_changed_at=now if changed else old.price_changed_at,
                **price,
            )
        )
        if changed:
            session.flush()
            session.add(
                PriceChange(game_id=game.id, observed_at=now, scrape_run_id=run_id, **price)
            )


def empty_tables() -> None:
    """Remove every game and price so the next run starts from empty tables."""
    services.empty_all_tables(get_engine())


def timed_pass(upsert: Upsert, listings: list[Listing], batch: int, now: datetime) -> float:
    """Upsert listings in batches, one transaction each; return rows/s."""
    began = time.perf_counter()
    for start in range(0, len(listings), batch):
        with Session.begin() as session:
            upsert(session, listings[start : start + batch], currency="USD", run_id=None, now=now)
    return len(listings) / (time.perf_counter() - began)


def timed_run(upsert: Upsert, n: int, batch: int) -> list[float]:
    """Return rows/s of the three passes over n listings, from empty tables."""
    empty_tables()
    same = make_listings(n)
    repriced = make_listings(n, repriced=True)
    return [
        timed_pass(upsert, listings, batch, START + timedelta(hours=6 * number))
        for number, listings in enumerate([same, same, repriced])
    ]


def measure_upsert(url: str, n: int, *, naive_rows: int = 20_000, runs: int = 3) -> dict:
    """Migrate the database at url and return {mode: {pass: median rows/s}} for each mode."""
    services.migrate(url)
    configure_engine(url)
    modes: dict[str, tuple[Upsert, int, int]] = {
        f"set-based, batches of {PAGE} ({n:,} rows)": (upsert_listings, n, PAGE),
        f"set-based, one call ({n:,} rows)": (upsert_listings, n, n),
        f"naive merge per row, batches of {PAGE} ({naive_rows:,} rows)": (
            naive_upsert,
            naive_rows,
            PAGE,
        ),
    }
    figures = {}
    for mode, (upsert, rows, batch) in modes.items():
        results = [timed_run(upsert, rows, batch) for _ in range(runs)]
        figures[mode] = {
            name: statistics.median(run[i] for run in results) for i, name in enumerate(PASSES)
        }
    empty_tables()
    get_engine().dispose()
    return figures


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """Yield the URL of a new empty database of backend, removed afterwards."""
    if backend == "postgresql":
        with services.fresh_postgres_database() as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="scout-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def print_figures(backend: str, figures: dict, runs: int) -> None:
    """Print one line per mode: rows/s of each pass."""
    print(f"\n{backend} — rows/s with history, median of {runs} runs")
    print(f"  {'mode':<52}" + "".join(f"{name:>14}" for name in PASSES))
    for mode, passes in figures.items():
        print(f"  {mode:<52}" + "".join(f"{passes[name]:>14,.0f}" for name in PASSES))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    for backend in args.backends.split(","):
        with fresh_database(backend) as url:
            figures = measure_upsert(url, args.rows, naive_rows=args.naive_rows, runs=args.runs)
        print_figures(backend, figures, args.runs)


if __name__ == "__main__":
    main()
