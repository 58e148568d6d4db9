"""The admin console's schedule page with 10,000 entries: milliseconds per request, beside the
naive way. Prints figures; it is not a test.

Run: .venv/bin/python bench/web_admin.py [--backends sqlite,postgresql] [--entries 10000]
     [--requests 50] [--naive-requests 5] [--runs 3]
(bench/web.py's `--only admin` runs the same `run(args)`.)

Per backend: a fresh migrated database (PostgreSQL vacuumed and analyzed after seeding, as
autovacuum would) and a private Redis db; --entries entries like beat's
(crons in Europe/Berlin, some in its daylight-saving hours, and intervals), every other one with
a last run whose task ended as a scrape run, an alert run, a Celery result (success or failure)
or nothing yet. An admin signed in asks, through the app's own WSGI stack (Flask's test
client: the gate, the session, SQL, next runs, daylight-saving notes, outcomes from the
database and one Redis MGET, the template), for:
  list p1     /admin/schedule               the first 100 entries by name
  list mid    /admin/schedule?page=50       a page in the middle (OFFSET 4,900)
  list last   /admin/schedule?page=100      the last page
  find        /admin/schedule?q=entry-0500  a name search (10 entries)
  entry       /admin/schedule/entry-05000   one entry's page with its form and history
and the naive way: every entry loaded through the ORM, each one's outcome asked for on its own
(a SELECT per run table and a Redis GET per task) and all of them rendered on one page.
Each figure is the median over --runs runs of that run's median and p95.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.upsert import fresh_database  # noqa: E402
from tests.support import services  # noqa: E402

ADMIN = "bench-admin@example.com"
ZONE = "Europe/Berlin"
PER_PAGE = 100


def pages(count: int) -> dict[str, str]:
    """The pages asked for: the first, middle and last page of the list, a search, an entry."""
    last = -(-count // PER_PAGE)
    return {
        "list p1": "/admin/schedule",
        "list mid": f"/admin/schedule?page={max(1, last // 2)}",
        "list last": f"/admin/schedule?page={last}",
        "find": f"/admin/schedule?q=entry-{count // 2 // 10:04d}",
        "entry": f"/admin/schedule/entry-{count // 2:05d}",
    }


NAIVE = "/bench/naive-schedule"


def spec(n: int) -> dict[str, Any]:
    """Entry n: a daily cron (one in ten at Berlin's 02:xx), an hourly cron, or an interval."""
    if n % 3 == 0:
        hour = 2 if n % 10 == 0 else n % 24
        schedule: dict[str, Any] = {"cron": f"{n % 60} {hour} * * *"}
    elif n % 3 == 1:
        schedule = {"cron": f"{n % 60} * * * *"}
    else:
        schedule = {"every": 60 + n % 3600}
    return {"task": "celery.backend_cleanup", "schedule": schedule, "options": {"expires": 60}}


def seed(count: int, app: Any) -> None:
    """Add count entries; every other one ran, its task ending one of five ways."""
    from models import AlertRun, ScrapeRun, utcnow
    from scheduler.beat import entries as store

    now = utcnow()
    ran: dict[str, str] = {}

    def work(session: Any) -> None:
        for n in range(count):
            store.add_entry(session, f"entry-{n:05d}", spec(n), "bench", now, None)
            if n % 2:
                continue
            task_id, kind = f"bench-task-{n}", n // 2 % 5
            ran[f"entry-{n:05d}"] = task_id
            if kind == 0:
                session.add(ScrapeRun(task_id=task_id, started_at=now, status="ok"))
            elif kind == 1:
                session.add(AlertRun(task_id=task_id, started_at=now, status="done"))
            elif kind == 2:
                app.backend.store_result(task_id, None, "SUCCESS")
            elif kind == 3:
                app.backend.store_result(task_id, ValueError("store said no"), "FAILURE")
        session.flush()
        for name, task_id in ran.items():
            store.record_run(session, name, now - timedelta(minutes=5), task_id)

    store.in_transaction(work)


def analyze() -> None:
    """Fresh planner statistics, as autovacuum keeps them (the test server does not run it)."""
    from models.base import get_engine

    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def naive_page() -> str:
    """The schedule the naive way: every entry, one lookup per outcome, all on one page."""
    from zoneinfo import ZoneInfo

    import redis
    from flask import current_app, render_template
    from sqlalchemy import select

    from models import AlertRun, ScrapeRun, Session, utcnow
    from scheduler.beat import admin, listing, outcomes
    from scheduler.beat import entries as store
    from scheduler.context import current_config
    from scheduler.paging import Page

    app, config = current_app.extensions["celery"], current_config()
    tz, rules, now = ZoneInfo(config.timezone), admin.beat_rules(), utcnow()
    client = redis.Redis.from_url(config.redis_url)
    ended: dict[str, outcomes.Outcome] = {}
    with Session() as session:
        rows = [listing.entry_view(e, tz, rules, now) for e in store.all_entries(session)]
        for row in rows:
            task_id = row["last_task_id"]
            if not task_id:
                continue
            for model in (ScrapeRun, AlertRun):
                run = session.scalars(select(model).where(model.task_id == task_id)).first()
                if run is not None:
                    ended[task_id] = outcomes.Outcome("ok", f"run {run.id}: {run.status}")
            if task_id not in ended:
                raw = client.get(app.backend.get_key_for_task(task_id))
                meta = app.backend.decode(raw) if raw else None
                ended[task_id] = outcomes.from_meta(
                    meta, row["last_run_at"], now=now, kept=timedelta(days=7)
                )
    client.close()
    page = Page(rows, 1, max(1, len(rows)), len(rows))
    return render_template("admin_schedule.html", page=page, query="", ended=ended)


def build_client(db_url: str, redis_url: str, count: int) -> Any:
    """Return a test client of an app on db_url with count entries, signed in as the admin."""
    from config import load_config
    from models import Session
    from scheduler.alerts.watchlist import subscribe
    from scheduler.app import create_app

    config = load_config(
        {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_hex(32),
            "ADMIN_EMAILS": ADMIN,
            "TIMEZONE": ZONE,
            "PUBLIC_URL": "http://scout.bench",
        }
    )
    app = create_app(config)
    app.add_url_rule(NAIVE, "bench_naive", naive_page)
    seed(count, app.extensions["celery"])
    analyze()
    with Session.begin() as session:
        admin = subscribe(session, ADMIN)
        sid, key = admin.id, admin.session_key
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie.update(sid=sid, key=key, at=int(time.time()))
    return client


def timed(client: Any, path: str, requests: int) -> list[float]:
    """Return each request's milliseconds (after one warm-up request)."""
    assert client.get(path).status_code == 200, path
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, path
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def measure(client: Any, args: argparse.Namespace) -> dict[str, tuple[float, float, int]]:
    """Return {page: (median ms, p95 ms, bytes)}, each the median of args.runs runs."""
    targets = {**pages(args.entries), "naive (all)": NAIVE}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    for _ in range(args.runs):
        for name, path in targets.items():
            count = args.naive_requests if path == NAIVE else args.requests
            times = timed(client, path, count)
            runs[name].append((statistics.median(times), p95(times)))
    return {
        name: (
            statistics.median(r[0] for r in results),
            statistics.median(r[1] for r in results),
            len(client.get(targets[name]).data),
        )
        for name, results in runs.items()
    }


def run(args: argparse.Namespace) -> None:
    """Print the schedule page's figures per backend (the section bench/web.py runs)."""
    from models.base import get_engine

    args.entries = entries = getattr(args, "entries", 10_000)
    print(f"\nadmin schedule page: {entries:,} entries, times in {ZONE}; ms per request,")
    print(
        f"  {args.requests} requests a page (naive: {args.naive_requests}), "
        f"median of {args.runs} runs"
    )
    print(f"  {'backend':<11}{'page':<13}{'median ms':>10}{'p95 ms':>9}{'KB':>8}")
    for backend in args.backends:
        with fresh_database(backend) as url, services.private_redis_db() as redis_url:
            services.migrate(url)
            client = build_client(url, redis_url, entries)
            figures = measure(client, args)
            get_engine().dispose()
        for name, (median, worst, size) in figures.items():
            print(f"  {backend:<11}{name:<13}{median:>10.1f}{worst:>9.1f}{size / 1024:>8.0f}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this section's options (bench/web.py adds them to its own parser)."""
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--naive-requests", dest="naive_requests", type=int, default=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=3)
    add_arguments(parser)
    args = parser.parse_args(argv)
    args.backends = args.backends.split(",")
    if args.requests < 2 or args.naive_requests < 2 or args.entries < 1:
        parser.error("--requests and --naive-requests need at least 2, --entries at least 1")
    load: Callable[[], str] = lambda: " ".join(f"{n:.1f}" for n in os.getloadavg())  # noqa: E731
    print(f"load average before: {load()}")
    run(args)
    print(f"\nload average after: {load()}")


if __name__ == "__main__":
    main()
