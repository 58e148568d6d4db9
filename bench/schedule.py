"""Beat at scale: tick time, memory and edit-to-effect latency for 10 and 10,000 entries.

Run: .venv/bin/python bench/schedule.py [--sizes 10,10000] [--postgres]. Each size gets a fresh
migrated database (a temp SQLite file, or a throwaway PostgreSQL database with --postgres) and
a private Redis db. Entries mix crons and intervals; ten of them run every second.
- tick: DatabaseScheduler.tick_once() with a frozen clock moved 1 s per tick, so every tick sends
  the ten every-second entries (busy); a second tick at the same instant sends nothing (idle).
  Both include the Redis lock renewal and the database change check; not the wait for a nudge.
- memory: Python allocations held by the scheduler after loading every entry (tracemalloc).
- edit: a real-clock scheduler loops in a thread as under `celery beat`; the main thread commits
  `schedule set` edits as the CLI does and times until beat has applied each one, with the Redis
  nudge and without it (the database check alone).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import services  # noqa: E402

EDITS = 20
TICKS = 30
FAST = 10


def specs(count: int, queue: str) -> dict[str, dict[str, Any]]:
    """Return count entries: ten every second, the rest crons and intervals of a minute or more."""
    found: dict[str, dict[str, Any]] = {}
    for n in range(count):
        if n < FAST:
            schedule: dict[str, Any] = {"every": 1}
        elif n % 3 == 0:
            schedule = {"cron": f"{n % 60} {n % 24} * * *"}
        elif n % 3 == 1:
            schedule = {"cron": f"{n % 60} * * * *"}
        else:
            schedule = {"every": 60 + n % 3600}
        found[f"entry-{n:05d}"] = {
            "task": "celery.backend_cleanup",
            "schedule": schedule,
            "options": {"queue": queue, "expires": 60},
        }
    return found


def seed(count: int, queue: str, at: datetime) -> None:
    from scheduler.beat import entries as store

    def work(session: Any) -> None:
        for name, spec in specs(count, queue).items():
            store.add_entry(session, name, spec, "bench", at, None)

    store.in_transaction(work)


def make_beat(clock: Any, lock_key: str) -> Any:
    from scheduler.beat.scheduler import DatabaseScheduler
    from scheduler.celery_app import app

    return DatabaseScheduler(app, clock=clock, defaults={}, lock_key=lock_key, max_interval=1)


def measure_ticks(lock_key: str, start: datetime) -> dict[str, float]:
    """Return load time, memory and busy/idle tick times (ms) with a frozen clock."""
    from scheduler.beat.due import DueQueue

    now = [start]
    beat = make_beat(lambda: now[0], lock_key)
    beat.tick_once()  # takes the lock, loads every entry, opens the broker connection
    began = time.perf_counter()
    beat.load_all()
    load = time.perf_counter() - began
    beat.queue = DueQueue(beat.tz)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    beat.load_all()
    gc.collect()
    held = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    busy, idle = [], []
    for _ in range(TICKS + 1):
        now[0] += timedelta(seconds=1)
        began = time.perf_counter()
        beat.tick_once()
        busy.append(time.perf_counter() - began)
        began = time.perf_counter()
        beat.tick_once()
        idle.append(time.perf_counter() - began)
    beat.close()
    busy, idle = busy[1:], idle[1:]  # the first pass warms the producer's channel
    return {
        "load_s": load,
        "mem_kb": held / 1024,
        "busy_ms": statistics.median(busy) * 1000,
        "busy_max_ms": max(busy) * 1000,
        "idle_ms": statistics.median(idle) * 1000,
    }


def measure_edits(lock_key: str, count: int, nudge: bool) -> tuple[float, float]:
    """Return median and worst seconds from an edit's commit to beat applying it."""
    import redis

    from config import get_config
    from models.base import utcnow
    from scheduler.beat import entries as store
    from scheduler.beat import lock as schedule_lock
    from scheduler.beat.timing import Timing

    beat = make_beat(utcnow, lock_key)
    stop = threading.Event()
    loop = threading.Thread(target=lambda: [beat.tick() for _ in iter(stop.is_set, True)])
    loop.start()
    client = redis.Redis.from_url(get_config().redis_url)
    latencies = []
    try:
        while not beat.active:
            time.sleep(0.01)
        for n in range(EDITS):
            name, every = f"entry-{(count // 2 + n) % count:05d}", 7200 + n
            began = time.perf_counter()
            edit = store.in_transaction(
                lambda s, a=name, e=every: store.edit_entry(
                    s, a, "bench", utcnow(), timing=Timing(every=e)
                )
            )
            if nudge:
                schedule_lock.nudge(client, edit.id)
            while beat.queue.entries[name].timing.every != every:
                time.sleep(0.0005)
            latencies.append(time.perf_counter() - began)
            time.sleep(0.05 + (n % 7) * 0.03)  # edits arrive at uneven moments
    finally:
        stop.set()
        loop.join(timeout=5)
        beat.close()
        client.close()
    return statistics.median(latencies), max(latencies)


def disable_fast_entries() -> None:
    from models.base import utcnow
    from scheduler.beat import entries as store

    for n in range(FAST):
        store.in_transaction(
            lambda s, a=f"entry-{n:05d}": store.edit_entry(s, a, "bench", utcnow(), enabled=False)
        )


def run_size(count: int, db_url: str) -> dict[str, float]:
    """Seed count entries into db_url and return every figure for that size."""
    import scheduler.celery_app  # noqa: F401  (binds the configured database first: rebind after)
    from models.base import configure_engine, utcnow

    services.migrate(db_url)
    configure_engine(db_url)
    queue, lock_key = f"bench-{count}", f"scout:bench:lock:{count}"
    start = utcnow().replace(second=1, microsecond=0)  # nothing but the fast ten falls due
    seed(count, queue, start)
    figures = measure_ticks(lock_key, start)
    disable_fast_entries()
    figures["edit_med_s"], figures["edit_max_s"] = measure_edits(lock_key, count, nudge=True)
    figures["poll_med_s"], figures["poll_max_s"] = measure_edits(lock_key, count, nudge=False)
    return figures


def report(results: dict[int, dict[str, float]]) -> None:
    rows = [
        ("full load on start/takeover", "load_s", "{:.2f} s"),
        ("memory held by the schedule", "mem_kb", "{:,.0f} KB"),
        ("tick sending 10 tasks, median", "busy_ms", "{:.1f} ms"),
        ("tick sending 10 tasks, worst", "busy_max_ms", "{:.1f} ms"),
        ("tick with nothing due, median", "idle_ms", "{:.2f} ms"),
        ("edit-to-effect with nudge, median", "edit_med_s", "{:.3f} s"),
        ("edit-to-effect with nudge, worst", "edit_max_s", "{:.3f} s"),
        ("edit-to-effect, no nudge, median", "poll_med_s", "{:.3f} s"),
        ("edit-to-effect, no nudge, worst", "poll_max_s", "{:.3f} s"),
    ]
    sizes = sorted(results)
    print(f"{'':36}" + "".join(f"{f'{n:,} entries':>16}" for n in sizes))
    for label, key, fmt in rows:
        print(f"{label:36}" + "".join(f"{fmt.format(results[n][key]):>16}" for n in sizes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,10000", help="entry counts, comma-separated")
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL, not SQLite")
    args = parser.parse_args()
    results: dict[int, dict[str, float]] = {}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scout-bench-")))
        redis_url = stack.enter_context(services.private_redis_db())
        os.environ.update({"REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{work / 'x.db'}"})
        for count in (int(n) for n in args.sizes.split(",")):
            if args.postgres:
                url = stack.enter_context(services.fresh_postgres_database())
            else:
                url = f"sqlite:///{work / f'schedule-{count}.db'}"
            results[count] = run_size(count, url)
            print(f"{count} entries measured", file=sys.stderr)
    print(
        f"SteamScout beat benchmark ({'PostgreSQL' if args.postgres else 'SQLite'}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
    )
    report(results)
    print(
        "Without the nudge an edit waits for beat's next pass: at most beat_max_loop_interval\n"
        "(1 s), sooner when other entries fall due, as they do every few ms at 10,000 entries."
    )


if __name__ == "__main__":
    main()
