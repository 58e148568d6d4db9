"""Freshness of watched prices: from a sale to each alert email, inside the appdetails budget.

Run: .venv/bin/python bench/freshness.py [--runs 3] [--scale 10] [--watched 20000] [--sale 500]

Time is scaled: with --scale 10 one real second stands for 10 store seconds, so the budget of
200 requests per 5 minutes becomes 200 per 30 s and the 120 s refresh tick every 12 s; every
figure is printed in unscaled minutes. Per run: a fresh copy of a SQLite catalogue scraped from
the simulated store (--watched distinct watched apps, one subscriber each, "below" targets at
60% of today's price), a real `celery worker --concurrency 2`, an aiosmtpd sink, and a thread
sending the refresh tick as beat would. After one warm-up cycle, a sale (90% off) starts on
--sale watched apps at a random moment; the run ends when every sale app's email arrived (or
after --horizon unscaled minutes).

The naive way runs in the same run against a second, identical store with the same sale at the
same moment and a budget of its own of the same size: one id per request, round robin over the
watched apps. It only detects the new price (no database, no email), so its times are a lower
bound of what its emails would take.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.alerts import stop_process, wait_ready, worker_process  # noqa: E402
from storesim.store import SimStore, start_store  # noqa: E402
from tests.support import services  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402

BUDGET, WINDOW, TICK = 200, 300.0, 120.0  # requests per window (store seconds); tick interval
TASK = "scheduler.tasks.prices.refresh_watched_prices"
SALE_PCT = 90


def seed(url: str, store: SimStore, watched: int) -> list[tuple[int, int, int]]:
    """Scrape the store into a migrated database and watch `watched` paid apps.

    Returns (app id, price, discount) of the watched apps.
    """
    import requests
    from sqlalchemy import insert

    from models import Session, Subscriber, WatchEntry
    from models.base import configure_engine
    from scheduler.catalogue.parse import parse_search_response
    from scheduler.catalogue.persist import upsert_listings

    engine = configure_engine(url)
    games, rows = store.games, []
    for start in range(0, games, 100):
        query = {"start": start, "count": 100, "infinite": 1, "cc": "us", "l": "english"}
        body = requests.get(f"{store.url}/search/results/", params=query, timeout=30).text
        rows += parse_search_response(body, start).listings
    now = datetime.now(UTC)
    with Session.begin() as session:
        upsert_listings(session, rows, currency="USD", run_id=None, now=now - timedelta(hours=8))
    paid = [r for r in rows if r.kind == "app" and r.final_cents and not r.is_free][:watched]
    if len(paid) < watched:
        raise SystemExit(f"the store has only {len(paid)} paid apps; raise --games")
    from sqlalchemy import select

    from models import Game

    with Session.begin() as session:
        ids = dict(session.execute(select(Game.steam_id, Game.id).where(Game.kind == "app")).all())
        people = [
            {"id": n + 1, "email": f"u{r.steam_id}@bench.test", "created_at": now,
             "confirmed_at": now, "unsubscribe_token": f"t{r.steam_id:010d}" * 3}
            for n, r in enumerate(paid)
        ]  # fmt: skip
        watches = [
            {"subscriber_id": n + 1, "game_id": ids[r.steam_id], "rule": "below",
             "target_cents": r.final_cents * 6 // 10, "generation": 0, "created_at": now}
            for n, r in enumerate(paid)
        ]  # fmt: skip
        for model, batch in ((Subscriber, people), (WatchEntry, watches)):
            for start in range(0, len(batch), 5000):
                session.execute(insert(model), batch[start : start + 5000])
    engine.dispose()
    return [(r.steam_id, r.final_cents or 0, r.discount_pct) for r in paid]


class Ticker(threading.Thread):
    """Sends the refresh task every `every` seconds, as beat does, until stopped."""

    def __init__(self, app: Any, every: float) -> None:
        super().__init__(name="ticker", daemon=True)
        self.app, self.every, self.done = app, every, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.app.send_task(TASK, queue="celery", expires=self.every * 0.9)
            self.done.wait(self.every)


class Naive(threading.Thread):
    """One id per request, round robin, under a budget of its own; records when it saw a drop."""

    def __init__(self, store: SimStore, redis_url: str, before: dict[int, int], rate: str) -> None:
        super().__init__(name="naive", daemon=True)
        from scheduler.catalogue.client import StoreClient

        self.client = StoreClient(
            store.url, "us", "english", appdetails_rate_limit=rate, redis_url=redis_url,
            max_retries=2, backoff_base=0.05, backoff_max=0.2,
        )  # fmt: skip
        self.before, self.ids, self.done = before, sorted(before), threading.Event()
        self.seen_drop: dict[int, float] = {}
        self.requests = 0

    def run(self) -> None:
        from scheduler.catalogue.appdetails import parse_appdetails
        from scheduler.catalogue.client import BudgetSpent, FetchError

        position = 0
        while not self.done.is_set():
            appid = self.ids[position % len(self.ids)]
            try:
                body = self.client.fetch_appdetails([appid])
            except BudgetSpent:
                time.sleep(0.005)
                continue
            except FetchError:
                body = "null"
            position, self.requests = position + 1, self.requests + 1
            price = parse_appdetails(body, [appid], "USD").prices.get(appid)
            if price is None:
                continue
            if price.final_cents < self.before[appid] and appid not in self.seen_drop:
                self.seen_drop[appid] = time.monotonic()
        self.client.close()


def worker_env(db: str, redis_url: str, store: SimStore, sink: SmtpServer, scale: float) -> dict:
    """Return the environment of the worker: the store, a scaled budget, the sink."""
    return {
        **os.environ,
        "DATABASE_URL": db,
        "REDIS_URL": redis_url,
        "STORE_URL": store.url,
        "STORE_APPDETAILS_RATE_LIMIT": f"{BUDGET}/{WINDOW / scale:g}seconds",
        "STORE_APPDETAILS_BATCH": "100",
        "PRICE_REFRESH_REQUESTS": str(round(BUDGET * TICK / WINDOW)),
        "STORE_MAX_RETRIES": "2",
        "STORE_BACKOFF_BASE": "0.05",
        "STORE_BACKOFF_MAX": "0.2",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(sink.port),
        "MAIL_DEFAULT_SENDER": "SteamScout <alerts@bench.test>",
        "PUBLIC_URL": "http://bench.test",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }


Watched = list[tuple[int, int, int]]  # (app id, price, discount)


def one_run(
    args: argparse.Namespace,
    work: Path,
    app: Any,
    redis_url: str,
    rng: random.Random,
    stores: tuple[SimStore, SimStore],
    watched: Watched,
) -> dict[str, Any]:
    """Run one sale on a fresh copy of the catalogue; return its figures."""
    import redis

    ours, theirs = stores
    for store in stores:
        store.control({"sale": None, "reset_stats": True, "clear_faults": True})
    redis.Redis.from_url(redis_url).flushdb()
    db = work / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(work / "seed.db", db)
    scale, before = args.scale, {appid: price for appid, price, _ in watched}
    candidates = [appid for appid, _, pct in watched if pct <= 50]
    sale = sorted(rng.sample(candidates, args.sale))
    with SmtpServer() as sink, ExitStack() as stack:
        process = stack.enter_context(
            worker_process(
                worker_env(f"sqlite:///{db}", redis_url, ours, sink, scale), work / "w.log"
            )
        )
        wait_ready(app, process)
        rate = f"{BUDGET}/{WINDOW / scale:g}seconds"
        naive, ticker = Naive(theirs, redis_url, before, rate), Ticker(app, TICK / scale)
        naive.start(), ticker.start()
        # Warm up a full cycle, then the sale at a random moment within the next budget window.
        time.sleep(WINDOW / scale + rng.uniform(0, WINDOW / scale))
        sale_wall = time.time() + 0.2
        for store in stores:
            store.sale_on_apps(sale, pct=SALE_PCT, at=sale_wall)
        sale_at = time.monotonic() + (sale_wall - time.time())
        deadline = sale_at + args.horizon * 60 / scale
        wanted = {f"u{appid}@bench.test" for appid in sale}
        while time.monotonic() < deadline and len(arrivals(sink, wanted, sale_at)) < len(sale):
            time.sleep(0.1)
        ticker.done.set(), naive.done.set()
        naive.join(10)
        stop_process(process)
    got = arrivals(sink, wanted, sale_at)
    minutes = sorted(scale * seconds / 60 for seconds in got.values())
    naive_minutes = sorted(
        scale * (at - sale_at) / 60 for appid, at in naive.seen_drop.items() if appid in sale
    )
    stats = ours.stats()["appdetails"]
    return {
        "emails": len(minutes), "minutes": minutes,
        "naive_seen": len(naive_minutes), "naive_minutes": naive_minutes,
        "requests": stats["requests"], "ids": stats["ids"], "naive_requests": naive.requests,
        "most_in_window": ours.appdetails_most_in_window(WINDOW / scale * 0.98),
        "naive_most_in_window": theirs.appdetails_most_in_window(WINDOW / scale * 0.98),
    }  # fmt: skip


def arrivals(sink: SmtpServer, wanted: set[str], sale_at: float) -> dict[str, float]:
    """Return the first email's arrival, in seconds after the sale, per wanted address."""
    first: dict[str, float] = {}
    for message in sink.messages:
        for address in message.rcpt_tos:
            if address in wanted and address not in first:
                first[address] = message.at - sale_at
    return first


def quantiles(values: list[float], horizon: float) -> str:
    if not values:
        return f"none within {horizon:g} min"
    return f"median {statistics.median(values):5.2f} min, worst {values[-1]:5.2f} min"


def main() -> None:
    """Seed once, run --runs sales, print each run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--watched", type=int, default=20_000)
    parser.add_argument("--games", type=int, default=27_000)
    parser.add_argument("--sale", type=int, default=500)
    parser.add_argument("--horizon", type=float, default=15.0, help="unscaled minutes")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scout-fresh-")))
        redis_url = stack.enter_context(services.private_redis_db())
        os.environ.update({"REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{work / 'x.db'}"})
        from scheduler.celery_app import app

        stores = tuple(stack.enter_context(start_store(games=args.games, seed=3)) for _ in "ab")
        services.migrate(f"sqlite:///{work / 'seed.db'}")
        began = time.monotonic()
        watched = seed(f"sqlite:///{work / 'seed.db'}", stores[0], args.watched)
        print(
            f"seeded {args.games} games, {len(watched)} watched apps in "
            f"{time.monotonic() - began:.0f}s; scale {args.scale:g}x "
            f"(budget {BUDGET}/{WINDOW / args.scale:g}s real = {BUDGET}/5min)",
            flush=True,
        )
        runs = [one_run(args, work, app, redis_url, rng, stores, watched) for _ in range(args.runs)]
        for n, run in enumerate(runs, 1):
            report(n, run, args)
        summary(runs, args)


def report(n: int, run: dict[str, Any], args: argparse.Namespace) -> None:
    per_price = run["requests"] / max(run["ids"], 1)
    print(
        f"run {n}: ours  {run['emails']}/{args.sale} emails, "
        f"{quantiles(run['minutes'], args.horizon)}; {run['requests']} requests for "
        f"{run['ids']} prices ({per_price:.4f}/price), most in any window {run['most_in_window']}"
        f"/{BUDGET}\n       naive {run['naive_seen']}/{args.sale} drops seen, "
        f"{quantiles(run['naive_minutes'], args.horizon)}; {run['naive_requests']} requests "
        f"(1.0000/price), most in any window {run['naive_most_in_window']}/{BUDGET}",
        flush=True,
    )


def summary(runs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    medians = [statistics.median(r["minutes"]) for r in runs if r["minutes"]]
    worsts = [r["minutes"][-1] if r["emails"] == args.sale else float("inf") for r in runs]
    ratio = statistics.median(r["ids"] / max(r["requests"], 1) for r in runs)
    over = max(r["most_in_window"] for r in runs)
    print(
        f"median of {len(runs)} runs: median {statistics.median(medians):.2f} min (target < 5), "
        f"worst {statistics.median(worsts):.2f} min (target < 10), {ratio:.0f}x fewer requests "
        f"per refreshed price than the naive way (target >= 10), most requests in any "
        f"5-minute window {over} (budget {BUDGET})",
        flush=True,
    )


if __name__ == "__main__":
    main()
