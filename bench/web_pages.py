"""Whole pages of the web, per backend: a game page with 1,000 price changes and its chart, and
a watchlist of 500 watches, each beside the naive way; then requests per second through gunicorn
with the Procfile's settings. bench/web.py runs these as its `pages` and `gunicorn` sections.

pages     Flask's test client against the app create_app builds (no network), signed in as a
          person watching 500 games with 20 price changes each. The naive way, on the same
          data in the same run: the game page loading every change as an ORM object and
          finding the low in Python; the watchlist asking for each row's low and last alert
          with a query of its own (what a page written one ORM call a row does).
gunicorn  the Procfile's `web` line (gunicorn, --preload, its workers, the access log) on a
          free port, and THREADS client threads with keep-alive connections asking one page
          for SECONDS; requests per second, median of the runs, beside one gunicorn worker.
"""

from __future__ import annotations

import argparse
import gc
import os
import secrets
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from flask import g, render_template
from sqlalchemy import select

from bench import prices, web_admin
from bench.upsert import fresh_database
from config import PROJECT_ROOT
from tests.support import services
from tests.support.ports import free_port, wait_for_port

WATCHES = 500
THREADS = 8
SECONDS = 8.0
NAIVE_GAME, NAIVE_LIST = "/bench/naive-game", "/bench/naive-watchlist"


def naive_game_page() -> str:
    """The game page the slow way: every change as an ORM object, the low found in Python."""
    from models import Game, PriceChange, Session

    with Session() as db:
        game = db.scalars(select(Game).order_by(Game.id)).first()
        assert game is not None
        changes = list(db.scalars(select(PriceChange).where(PriceChange.game_id == game.id)))
        paid = [c for c in changes if c.final_cents is not None and not c.is_free]
        low = min(paid, key=lambda c: c.final_cents or 0) if paid else None
        return render_template(
            "error.html",
            title=game.title,
            message=f"{len(changes)} changes, low {low.final_cents if low else None}",
            status=200,
        )


def naive_watchlist() -> str:
    """The watchlist the slow way: one query per row for its low and one for its last alert."""
    from models import Alert, PriceChange, Session, WatchEntry
    from scheduler.alerts.personal import watch_rows

    with Session() as db:
        rows = watch_rows(db, g.account.id)
        entries = db.scalars(select(WatchEntry).where(WatchEntry.subscriber_id == g.account.id))
        for entry in entries:
            db.scalar(
                select(PriceChange.final_cents)
                .where(
                    PriceChange.game_id == entry.game_id,
                    PriceChange.final_cents.is_not(None),
                    PriceChange.is_free.is_(False),
                )
                .order_by(PriceChange.final_cents)
                .limit(1)
            )
            db.scalar(
                select(Alert.sent_at)
                .where(Alert.watch_entry_id == entry.id, Alert.status == "sent")
                .order_by(Alert.sent_at.desc())
                .limit(1)
            )
    from scheduler.web.forms import WatchForm

    return render_template("watchlist.html", rows=rows, form=WatchForm(), error="", failed=None)


def build(db_url: str, redis_url: str) -> tuple[Any, str]:
    """Return a signed-in test client of an app with the data, and the game page's path."""
    from config import load_config
    from models import Game, Session
    from scheduler.alerts.personal import watch_game
    from scheduler.alerts.watchlist import subscribe
    from scheduler.app import create_app
    from scheduler.web.auth import sign_in_required

    app = create_app(
        load_config({"DATABASE_URL": db_url, "REDIS_URL": redis_url, "SECRET_KEY": "b" * 32})
    )
    app.add_url_rule(NAIVE_GAME, "bench_naive_game", naive_game_page)
    app.add_url_rule(NAIVE_LIST, "bench_naive_list", sign_in_required(naive_watchlist))
    page_game, watched = prices.store_histories(1_000, WATCHES)
    with Session.begin() as db:
        person = subscribe(db, "bench@example.com")
        for game_id in watched:
            watch_game(db, person.id, db.get_one(Game, game_id), ("below", 999, None))
        sid, key = person.id, person.session_key
        itemkey = db.get_one(Game, page_game).itemkey
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie.update(sid=sid, key=key, at=int(time.time()))
    gc.collect()
    gc.freeze()  # as scheduler/web/wsgi.py does in gunicorn's master, before it forks
    return client, f"/games/{itemkey}"


def timed(client: Any, path: str, count: int) -> tuple[float, float]:
    """Return the median and p95 ms of count requests for path (after one to warm up)."""
    times = web_admin.timed(client, path, count)
    return statistics.median(times), statistics.quantiles(times, n=20, method="inclusive")[-1]


def section_pages(args: argparse.Namespace) -> None:
    """The game page and the watchlist, per backend, beside the naive way."""
    from bench.web import analyze
    from models.base import get_engine

    print(
        f"\npages: ms per request (median, p95), {args.page_requests} requests a page, "
        f"median of {args.runs} runs"
    )
    for backend in args.backends:
        with fresh_database(backend) as url, services.private_redis_db() as redis_url:
            services.migrate(url)
            client, game_page = build(url, redis_url)
            analyze()
            targets = {
                "game page, 1,000 changes": game_page,
                "  naive (ORM rows)": NAIVE_GAME,
                f"watchlist, {WATCHES} watches": "/watchlist",
                "  naive (a query a row)": NAIVE_LIST,
            }
            for name, path in targets.items():
                runs = [timed(client, path, args.page_requests) for _ in range(args.runs)]
                median = statistics.median(r[0] for r in runs)
                worst = statistics.median(r[1] for r in runs)
                print(f"  {backend:<11}{name:<28}{median:>9.1f}{worst:>9.1f}")
            get_engine().dispose()


def web_command(port: int, workers: int) -> list[str]:
    """The Procfile's web line for port and workers, as Heroku runs it."""
    line = next(
        line for line in (PROJECT_ROOT / "Procfile").read_text().splitlines() if line[:4] == "web:"
    )
    command = line.partition(":")[2].replace("${PORT:-5000}", str(port))
    return shlex.split(command.replace("${WEB_CONCURRENCY:-2}", str(workers)))


def hammer(url: str, seconds: float, threads: int) -> float:
    """Return requests per second that threads keep-alive clients got from url in seconds."""
    done = [0] * threads
    stop = time.monotonic() + seconds

    def client(slot: int) -> None:
        with requests.Session() as session:
            while time.monotonic() < stop:
                assert session.get(url, timeout=30).status_code == 200
                done[slot] += 1

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / (time.monotonic() - began)


def section_gunicorn(args: argparse.Namespace) -> None:
    """Requests per second through gunicorn: the Procfile's workers beside one."""
    from models.base import configure_engine

    print(f"\ngunicorn: requests per second, {THREADS} client threads, {SECONDS:.0f} s a page,")
    print(f"  median of {args.runs} runs (client and server share this machine's cores)")
    for backend in args.backends:
        with fresh_database(backend) as url, services.private_redis_db() as redis_url:
            services.migrate(url)
            configure_engine(url)
            _, game_page = build(url, redis_url)
            for workers in (2, 1):
                figures = serve_and_hammer(url, redis_url, workers, game_page, args.runs)
                for name, rps in figures.items():
                    print(f"  {backend:<11}{workers} worker{'s' if workers > 1 else ' '} "
                          f"{name:<22}{rps:>8.0f}")  # fmt: skip


def serve_and_hammer(
    url: str, redis_url: str, workers: int, game_page: str, runs: int
) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url}
    env |= {"SECRET_KEY": secrets.token_hex(32), "PATH": f"{Path(sys.executable).parent}:"}
    env["PATH"] += os.environ.get("PATH", "")
    log = open(os.devnull, "w")  # noqa: SIM115  closed below, with the server
    server = subprocess.Popen(web_command(port, workers), env=env, stdout=log, stderr=log)
    try:
        wait_for_port(port, timeout=60)
        base = f"http://127.0.0.1:{port}"
        pages: dict[str, Callable[[], str]] = {
            "home": lambda: f"{base}/",
            "search 'game 1'": lambda: f"{base}/search?q=game+1",
            "game page": lambda: f"{base}{game_page}",
        }
        return {
            name: statistics.median(hammer(path(), SECONDS, THREADS) for _ in range(runs))
            for name, path in pages.items()
        }
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This module's options, added to bench/web.py's parser."""
    parser.add_argument("--page-requests", dest="page_requests", type=int, default=60)
