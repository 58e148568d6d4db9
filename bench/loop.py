"""The whole loop in one run: scrape the store, a sale, refresh and check, emails in a sink.

Run: .venv/bin/python bench/loop.py [--database sqlite,postgresql] [--games 200000]
     [--subscribers 10000] [--naive-scale 0.05]

Per database: a real `celery worker --concurrency 2` (bench/alerts.py's) on a private Redis db
scrapes --games items from the simulated store (2,000 pages of 100 at full size). Then
--subscribers subscribers each watch one paid app at 60% of its price and OTHERS more that do
not drop; a 90% sale starts on the first watched app of every subscriber; one refresh tick asks
appdetails for every watched app (100 ids a request), stores what changed and records the
alerts, and its chord sends every email to an aiosmtpd sink. Each stage's seconds and the
total are printed; subscribers are seeded outside the clock, and on PostgreSQL the database is
ANALYZEd after seeding, outside the clock (the test server runs without autovacuum).

The naive way runs in the same run on the same store: BeautifulSoup parse (tests/support/
bs4_parser.py) and one ORM merge per row (bench/upsert.py) in two processes, then the same
refresh with one id per appdetails request and one task per email (MAIL_BATCH_SIZE=1), on a
copy of the database taken before the sale. It runs on --naive-scale of the items and of the
subscribers and is extrapolated linearly; the output says so and from what size. It is a
benchmark that prints figures, not a test; every process it starts is stopped by PID.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.alerts import Databases, wait_ready, wait_run, worker_env, worker_process  # noqa: E402
from bench.naive import PAGE, naive_scrape_into_empty  # noqa: E402
from storesim.store import SimStore, start_store  # noqa: E402
from tests.support import services  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402

OTHERS, SALE_PCT = 2, 90
SCRAPE = "scheduler.tasks.catalogue.scrape_catalogue"
REFRESH = "scheduler.tasks.prices.refresh_watched_prices"


def loop_env(url: str, redis_url: str, store: SimStore, sink: SmtpServer, batch: int) -> dict:
    """Return a worker's environment: batch ids per appdetails request and emails per task."""
    env = worker_env(url, redis_url, batch, sink)
    env.update(
        STORE_URL=store.url,
        STORE_RATE_LIMIT="100000/second",
        STORE_APPDETAILS_RATE_LIMIT="100000/second",
        STORE_APPDETAILS_BATCH=str(batch),
        PRICE_REFRESH_REQUESTS="100000",
        STORE_PAGE_SIZE=str(PAGE),
        SCRAPE_PAGES_PER_TASK="10",
    )
    return env


def timed_scrape(app: Any) -> tuple[float, dict[str, Any]]:
    """Queue the catalogue scrape; return its seconds (to the run's close) and figures."""
    from sqlalchemy import select

    from models import ScrapeRun, Session
    from scheduler.catalogue.runs import run_figures

    began = time.monotonic()
    result = app.send_task(SCRAPE)
    while time.monotonic() - began < 1800:
        with Session() as session:
            run = session.scalars(select(ScrapeRun).where(ScrapeRun.task_id == result.id)).first()
            if run is not None and run.status != "running":
                seconds = time.monotonic() - began
                result.get(timeout=60)  # long done: consumes its result while Redis is up
                return seconds, run_figures(run)
        time.sleep(0.05)
    raise RuntimeError("the scrape did not finish in 30 minutes")


def seed_watchers(subscribers: int) -> list[int]:
    """Subscribe and watch (1 + OTHERS paid apps each, none shared); return the sale's app ids."""
    from sqlalchemy import insert, select

    from models import Game, Session, Subscriber, WatchEntry

    now = datetime.now(UTC)
    with Session.begin() as session:
        paid = session.execute(
            select(Game.id, Game.steam_id, Game.final_cents)
            .where(Game.kind == "app", Game.final_cents > 0, Game.discount_pct == 0)
            .order_by(Game.steam_id)
        ).all()
        if len(paid) < subscribers * (1 + OTHERS):
            raise SystemExit(f"only {len(paid)} paid apps: raise --games or lower --subscribers")
        people = [
            {"id": s + 1, "email": f"u{s}@bench.test", "created_at": now,
             "confirmed_at": now, "unsubscribe_token": f"t{s:012d}" * 3}
            for s in range(subscribers)
        ]  # fmt: skip
        watches = [
            {"subscriber_id": s + 1, "game_id": paid[k * subscribers + s].id, "rule": "below",
             "target_cents": paid[k * subscribers + s].final_cents * 6 // 10, "generation": 0,
             "created_at": now}
            for s in range(subscribers)
            for k in range(1 + OTHERS)
        ]  # fmt: skip
        for model, rows in ((Subscriber, people), (WatchEntry, watches)):
            for start in range(0, len(rows), 5000):
                session.execute(insert(model), rows[start : start + 5000])
    return [row.steam_id for row in paid[:subscribers]]


def analyze() -> None:
    """ANALYZE the loaded database, as autovacuum does in production after a load this size.

    The test server runs with autovacuum off; without statistics the planner's plans for the
    refresh's statements on 200,000 freshly loaded games take about 3x as long (profiled).
    """
    from models.base import get_engine

    with get_engine().connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def keep_subscribers(count: int) -> None:
    """Unsubscribe all but the first count subscribers (the naive way's fraction)."""
    from sqlalchemy import update

    from models import Session, Subscriber

    with Session.begin() as session:
        session.execute(
            update(Subscriber)
            .where(Subscriber.id > count)
            .values(unsubscribed_at=datetime.now(UTC))
        )


def timed_refresh(app: Any, sink: SmtpServer, expected: int) -> tuple[float, float, dict]:
    """Queue one refresh tick; return its seconds, the emails' seconds after it, its figures."""
    with sink.handler.lock:
        sink.handler.count, sink.handler.first_at, sink.handler.last_at = 0, 0.0, 0.0
    began = time.monotonic()
    result = app.send_task(REFRESH)
    figures = result.get(timeout=1800)
    ended = time.monotonic()
    sink.wait_for(expected, timeout=1800)
    emails = max(0.0, sink.handler.last_at - ended)
    # Outside the clock: the run closes, so no chord callback is left for the next worker.
    wait_run(result.id, timeout=600)
    return ended - began, emails, figures


def one_database(
    kind: str, args: argparse.Namespace, work: Path, app: Any, redis_url: str, store: SimStore
) -> dict[str, Any]:
    """Run the loop both ways on one database; return every stage's seconds and sizes."""
    from models.base import configure_engine

    work.mkdir()
    dbs, log = Databases(kind, work), work / "worker.log"
    out: dict[str, Any] = {"load_before": os.getloadavg()}
    try:
        services.migrate(dbs.pristine)
        store.control({"sale": None, "reset_stats": True, "clear_faults": True})
        configure_engine(dbs.pristine)
        with SmtpServer(keep=False) as sink:
            env = loop_env(dbs.pristine, redis_url, store, sink, 100)
            with worker_process(env, log) as process:
                wait_ready(app, process)
                out["scrape"], out["scraped"] = timed_scrape(app)
            sale = seed_watchers(args.subscribers)
            if kind == "postgresql":
                analyze()
            configure_engine("sqlite://")  # no connection left: the copy is whole
            naive_url = dbs.fresh()
            configure_engine(dbs.pristine)
            store.sale_on_apps(sale, pct=SALE_PCT)
            with worker_process(env, log) as process:
                wait_ready(app, process)
                out["refresh"], out["emails"], out["tick"] = timed_refresh(app, sink, len(sale))
            out["few"] = few = max(1, round(args.subscribers * args.naive_scale))
            configure_engine(naive_url)
            keep_subscribers(few)
            with worker_process(loop_env(naive_url, redis_url, store, sink, 1), log) as process:
                wait_ready(app, process)
                out["naive_refresh"], out["naive_emails"], out["naive_tick"] = timed_refresh(
                    app, sink, few
                )
            configure_engine("sqlite://")
        items = max(PAGE, math.ceil(args.games * args.naive_scale / PAGE) * PAGE)
        out["naive_scrape"], out["naive_rows"] = naive_scrape_into_empty(kind, work, store, items)
        out["naive_items"] = items
    finally:
        configure_engine("sqlite://")
        dbs.close()
    out["load_after"] = os.getloadavg()
    if "Traceback" in log.read_text(errors="replace"):
        print(f"worker log has tracebacks:\n{log.read_text(errors='replace')[-3000:]}")
    return out


def report(kind: str, args: argparse.Namespace, out: dict[str, Any]) -> None:
    """Print one database's stages, ours beside the naive way's extrapolation, and the ratio."""
    items, few = out["naive_items"], out["few"]
    scrape_x, people_x = args.games / items, args.subscribers / few
    tick = out["tick"]
    print(
        f"\n{kind}: {args.games:,} items ({out['scraped']['rows_seen']:,} rows seen, "
        f"{out['scraped']['pages_failed']} pages failed), {args.subscribers:,} subscribers, "
        f"{tick['watched']:,} watched apps, {tick['requests']} appdetails requests, "
        f"{tick['alerts_new']:,} alerts; load average before {_load(out['load_before'])}, "
        f"after {_load(out['load_after'])}"
    )
    stages = [
        ("scrape", out["scrape"], out["naive_scrape"] * scrape_x, f"{items:,} items"),
        ("refresh+check", out["refresh"], out["naive_refresh"] * people_x, f"{few:,} subscribers"),
        ("emails", out["emails"], out["naive_emails"] * people_x, f"{few:,} emails"),
    ]
    print(f"  {'stage':<14} {'ours s':>8} {'naive s':>9}  naive measured on")
    for name, ours, naive, size in stages:
        print(f"  {name:<14} {ours:>8.1f} {naive:>9.1f}  {size}, extrapolated linearly")
    total, naive_total = sum(s[1] for s in stages), sum(s[2] for s in stages)
    target = "target: under 40 s on SQLite" if kind == "sqlite" else "no time target"
    print(
        f"  {'total':<14} {total:>8.1f} {naive_total:>9.1f}  ({target}; "
        f"{naive_total / total:.1f}x the naive way, target: at least 8x)"
    )


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in load)


def drop_results(app: Any) -> None:
    """Cancel the result subscriptions the backend still holds, while Redis is up.

    Without this, the Redis backend's pending results unsubscribe in __del__ at interpreter
    shutdown and print a traceback for each.
    """
    from celery.result import AsyncResult

    gc.collect()
    for obj in gc.get_objects():
        if isinstance(obj, AsyncResult) and obj.backend is app.backend:
            app.backend.remove_pending_result(obj)


def main() -> None:
    """Run the loop on each database named and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite,postgresql")
    parser.add_argument("--games", type=int, default=200_000)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--naive-scale", type=float, default=0.05)
    args = parser.parse_args()
    if not 0 < args.naive_scale <= 1:
        raise SystemExit("--naive-scale must be in (0, 1]")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scout-loop-")))
        redis_url = stack.enter_context(services.private_redis_db())
        os.environ.update({"REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{work / 'x.db'}"})
        from scheduler.celery_app import app

        store = stack.enter_context(start_store(games=args.games))
        store.prewarm()
        print(
            f"naive way measured on {args.naive_scale:g} of the items and subscribers and "
            "extrapolated linearly (sizes below)",
            flush=True,
        )
        for kind in args.database.split(","):
            report(kind, args, one_database(kind, args, work / kind, app, redis_url, store))
        drop_results(app)


if __name__ == "__main__":
    main()
