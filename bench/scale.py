"""Scaling out on one machine: one worker process against two (scrape / mail+celery queues).

Run: .venv/bin/python bench/scale.py [--runs 3] [--games 20000] [--subscribers 2000]
     [--database postgresql|sqlite]

For each layout ("one": one worker process on every queue; "split": a scrape@ worker on
`scrape` and a mail@ worker on `mail,celery`, each `--concurrency 2`), each run gets a fresh
database and a private Redis db, scrapes the simulated store once (timed: "first scrape"),
subscribes the watchers (one sale game each), puts every tenth game on sale, then times a
second scrape and the check that fans the emails out to an aiosmtpd sink ("sale: scrape +
check"). The store rate limit is set high (1000/second) so it does not hide the workers'
own speed. Prints the median of --runs runs. Every process it starts is stopped by PID.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storesim.data import static_game  # noqa: E402
from storesim.store import SimStore, start_store  # noqa: E402
from tests.support import services  # noqa: E402
from tests.support.cluster import LAYOUTS, add_watchers, workers  # noqa: E402
from tests.support.processes import migrate_with, run_scout, scout_env  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402


@contextmanager
def fresh_database(kind: str, directory: Path, number: int) -> Iterator[str]:
    """Yield the URL of an empty database of kind (a new SQLite file or PostgreSQL database)."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / f'scale-{number}.db'}"
        return
    with services.fresh_postgres_database() as url:
        yield url


def sale_items(games: int, watchers: int) -> list[str]:
    """Return the paid apps that a sale of every tenth game (offset 0) covers."""
    items = []
    for index in range(0, games, 10):
        game = static_game(index, 0)
        if game.kind == "app":
            items.append(game.itemkey)
    return items[:watchers]


def one_run(
    layout: str, env: dict[str, str], store: SimStore, args: argparse.Namespace
) -> tuple[float, float, int]:
    """Return (first scrape seconds, sale scrape + check seconds, emails) for one layout."""
    store.control({"reset": True})
    with workers(layout, env):
        started = time.perf_counter()
        run_scout(["scrape", "--wait"], env, timeout=1800)
        first = time.perf_counter() - started
        items = sale_items(args.games, args.subscribers)
        add_watchers(env["DATABASE_URL"], args.subscribers, items, spread=True, min_discount=50)
        store.set_sale(every=10, pct=60)
        started = time.perf_counter()
        run_scout(["scrape", "--wait"], env, timeout=1800)
        out = run_scout(["check", "--wait"], env, timeout=1800)
        sale = time.perf_counter() - started
    sent = next(line for line in out.splitlines() if line.strip().startswith("sent:"))
    return first, sale, int(sent.split(":")[1])


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--games", type=int, default=20_000)
    parser.add_argument("--subscribers", type=int, default=2_000)
    default_db = "postgresql" if services.postgres_available() else "sqlite"
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=default_db)
    args = parser.parse_args()
    figures: dict[str, list[tuple[float, float, int]]] = {layout: [] for layout in LAYOUTS}
    with (
        services.private_redis_db() as redis_url,
        tempfile.TemporaryDirectory() as tmp,
        SmtpServer(keep=False) as smtp,
        start_store(games=args.games, seed=0) as store,
    ):
        store.prewarm()
        for number in range(args.runs):
            for layout in LAYOUTS:  # interleaved, so a noisy minute hurts both layouts alike
                with fresh_database(args.database, Path(tmp), number) as url:
                    env = scout_env(
                        REDIS_URL=redis_url,
                        DATABASE_URL=url,
                        STORE_URL=store.url,
                        STORE_RATE_LIMIT="1000/second",
                        MAIL_SERVER="127.0.0.1",
                        MAIL_PORT=str(smtp.port),
                        MAIL_BATCH_SIZE="100",
                    )
                    migrate_with(env)
                    figures[layout].append(one_run(layout, env, store, args))
                print(f"run {number + 1} {layout}: {figures[layout][-1]}", flush=True)
    pages = -(-args.games // 100)
    print(f"\n{args.games} games ({pages} pages), {args.subscribers} emails, {args.database},")
    print(f"median of {args.runs} runs; each worker process has --concurrency 2:")
    print(
        f"{'layout':<8} {'worker processes':<36} {'first scrape s':>14} {'sale scrape+check s':>20}"
    )
    for layout, runs in figures.items():
        names = " + ".join(f"{name.split('@')[0]}({queues})" for name, queues in LAYOUTS[layout])
        first = statistics.median(r[0] for r in runs)
        sale = statistics.median(r[1] for r in runs)
        print(f"{layout:<8} {names:<36} {first:>14.2f} {sale:>20.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
