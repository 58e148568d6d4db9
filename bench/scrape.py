"""Benchmark: 200,000 store items (2,000 pages of 100) from the simulated store into SQLite.

End to end through a real worker process (prefork, concurrency 2) on real Redis, then
parse-only and upsert-only figures, each beside the naive way, all in one run:

    .venv/bin/python bench/scrape.py [--games 200000] [--runs 3]

Prints figures; it is not a test. Every process it starts is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.ports import free_port, wait_for_port  # noqa: E402
from tests.support.services import migrate, private_redis_db  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def end_to_end(games: int, redis_url: str, workdir: Path, run: int) -> dict:
    """One full scrape into a fresh SQLite file; return seconds and the run's figures."""
    db_url = f"sqlite:///{workdir / f'scrape-{run}.db'}"
    migrate(db_url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "STORE_URL": f"http://127.0.0.1:{port}",
        "STORE_RATE_LIMIT": "100000/second",
        "STORE_PAGE_SIZE": "100",
        "SCRAPE_PAGES_PER_TASK": "10",
        "LOG_LEVEL": "WARNING",
    }
    sim = start(
        [str(VENV_BIN / "scout"), "store-sim", "--games", str(games), "--port", str(port)],
        env,
        workdir / "sim.log",
    )
    worker = start(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "scheduler.celery_app",
            "worker",
            "--concurrency",
            "2",
            "-Q",
            "celery,scrape,mail",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        workdir / f"worker-{run}.log",
    )
    try:
        wait_for_port(port)
        return _timed_scrape(env, redis_url, db_url)
    finally:
        stop(worker)
        stop(sim)


def _timed_scrape(env: dict[str, str], redis_url: str, db_url: str) -> dict:
    code = """
import json, time
from sqlalchemy import select
from models import ScrapeRun, Session
from scheduler.celery_app import app
from scheduler.catalogue.runs import run_figures
deadline = time.monotonic() + 60
while not app.control.ping(timeout=0.5):
    assert time.monotonic() < deadline, "worker did not start"
started = time.monotonic()
result = app.send_task("scheduler.tasks.catalogue.scrape_catalogue")
while True:
    with Session() as s:
        run = s.scalars(select(ScrapeRun).where(ScrapeRun.task_id == result.id)).first()
        if run is not None and run.status != "running":
            figures = run_figures(run)
            break
    time.sleep(0.05)
figures["seconds"] = time.monotonic() - started
print(json.dumps(figures, default=str))
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    ).stdout
    import json

    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scout-bench-") as tmp, private_redis_db() as redis:
        workdir = Path(tmp)
        results = []
        for run in range(args.runs):
            figures = end_to_end(args.games, redis, workdir, run)
            print(
                f"run {run + 1}: {figures['status']} {figures['rows_seen']} rows "
                f"({figures['rows_new']} new) in {figures['seconds']:.1f} s, "
                f"pages failed {figures['pages_failed']}",
                flush=True,
            )
            results.append(figures)
        seconds = statistics.median(r["seconds"] for r in results)
        rows = statistics.median(r["rows_seen"] for r in results)
        print(
            f"\nend to end ({args.games:,} items, worker concurrency 2, SQLite), "
            f"median of {args.runs}: {seconds:.1f} s, {rows / seconds:,.0f} rows/s "
            f"(target: under 30 s)"
        )
    _parse_and_upsert(args.games)


def _parse_and_upsert(games: int) -> None:
    from bench.parse import generate_pages, measure_parse
    from bench.upsert import fresh_database, measure_upsert, print_figures

    figures = measure_parse(generate_pages(20))
    print(f"\nparse only ({figures['rows']:,} rows, one core, median of {figures['runs']}):")
    for name, value in figures.items():
        if name.endswith("rows/s"):
            print(f"  {name:<28} {value:>10,.0f}")
    with fresh_database("sqlite") as url:
        print_figures("upsert only, SQLite", measure_upsert(url, min(games, 200_000)), 3)


if __name__ == "__main__":
    main()
