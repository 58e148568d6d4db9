"""Alert delivery speed: batched chord (one SMTP connection per batch) against one task per email.

Run: .venv/bin/python bench/alerts.py [--runs 3] [--database sqlite] [--batch-size 100].
Seeds 100,000 watch entries over 20,000 subscribers in a temp PostgreSQL database (or SQLite
file) where a sale puts 10,000 subscribers' games under their targets, then for each mode
(batched, naive) and each sink (plain, STARTTLS + AUTH) starts a real worker process
(`celery worker --concurrency 2`) on a private Redis db, queues check_watchlists and times
from its start to the last message the aiosmtpd sink accepted.
Prints the median of --runs runs, in wall-clock seconds and in the worker's CPU seconds (start-up
included), which a shared machine's load moves less. Worker processes are stopped on exit.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import services  # noqa: E402
from tests.support.smtp import PASSWORD, USERNAME, SmtpServer  # noqa: E402

WATCHES_PER_SUBSCRIBER = 5
SALE_GAMES, OTHER_GAMES = 1000, 4000
MODES = {"batched": 100, "naive": 1}  # MAIL_BATCH_SIZE: subscribers per task and connection


def seed(url: str, subscribers: int) -> int:
    """Fill a migrated database; return how many emails the sale should cause."""
    from sqlalchemy import create_engine, insert

    from models import Game, PriceChange, Subscriber, WatchEntry

    now = datetime.now(UTC)
    then, sale_at = now - timedelta(days=30), now - timedelta(minutes=10)
    engine = create_engine(url)
    games = [
        {
            "id": g + 1,
            "kind": "app",
            "steam_id": 10_000 + g,
            "title": f"Game {g} & <Co>",
            "final_cents": 499 if g < SALE_GAMES else 1999,
            "original_cents": 1999,
            "discount_pct": 75 if g < SALE_GAMES else 0,
            "currency": "USD",
            "is_free": False,
            "first_seen": then,
            "last_seen": now,
            "price_changed_at": sale_at if g < SALE_GAMES else then,
        }
        for g in range(SALE_GAMES + OTHER_GAMES)
    ]
    history = [
        {
            "game_id": g["id"],
            "observed_at": then,
            "final_cents": 1999,
            "original_cents": 1999,
            "currency": "USD",
        }
        for g in games
    ]
    history += [
        {
            "game_id": g + 1,
            "observed_at": sale_at,
            "final_cents": 499,
            "original_cents": 1999,
            "currency": "USD",
        }
        for g in range(SALE_GAMES)
    ]
    people = [
        {
            "id": s + 1,
            "email": f"user{s}@example.com",
            "created_at": then,
            "confirmed_at": then,
            "unsubscribe_token": f"tok{s:08d}x" * 2,
        }
        for s in range(subscribers)
    ]
    watches = [
        {
            "subscriber_id": s + 1,
            "game_id": g + 1,
            "rule": "below",
            "target_cents": 1000,
            "generation": 0,
            "created_at": then,
        }
        for s in range(subscribers)
        for g in watched_games(s, subscribers)
    ]
    with engine.begin() as conn:
        for model, rows in (
            (Game, games),
            (PriceChange, history),
            (Subscriber, people),
            (WatchEntry, watches),
        ):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(model), rows[start : start + 5000])
    engine.dispose()
    return subscribers // 2


def watched_games(s: int, subscribers: int) -> list[int]:
    """Return the games subscriber s watches: the first half has 1 or 2 on sale, the rest none."""
    on_sale = []
    if s < subscribers // 2:
        on_sale = [s % SALE_GAMES] + ([(s + 500) % SALE_GAMES] if s % 2 == 0 else [])
    others = [SALE_GAMES + (s * 7 + k * 613) % OTHER_GAMES for k in range(WATCHES_PER_SUBSCRIBER)]
    return on_sale + others[: WATCHES_PER_SUBSCRIBER - len(on_sale)]


def worker_env(db_url: str, redis_url: str, batch: int, sink: SmtpServer) -> dict[str, str]:
    """Return the environment of a worker sending to sink, in batches of `batch` subscribers."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(sink.port),
        "MAIL_TIMEOUT": "30",
        "MAIL_BATCH_SIZE": str(batch),
        "MAIL_DEFAULT_SENDER": "SteamScout <alerts@bench.test>",
        "PUBLIC_URL": "http://bench.test",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    if sink.cert is not None:
        # The worker verifies the sink's self-signed certificate through OpenSSL's default path.
        env.update(
            MAIL_USE_TLS="true",
            MAIL_USERNAME=USERNAME,
            MAIL_PASSWORD=PASSWORD,
            SSL_CERT_FILE=str(sink.cert),
        )
    return env


@contextmanager
def worker_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `celery worker --concurrency 2` with env; stop it (and only it) afterwards."""
    command = [
        str(ROOT / ".venv/bin/celery"),
        "-A",
        "scheduler.celery_app",
        "worker",
        "--concurrency",
        "2",
        "-Q",
        "celery,mail,scrape",
        "--loglevel",
        "WARNING",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        yield process
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a worker we started: warm shutdown, then kill its own process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_ready(app: Any, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Return once the worker answers a ping; raises RuntimeError if it died or never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}; see the log")
        if app.control.ping(timeout=0.5):
            return
    raise RuntimeError("worker did not answer a ping in time")


def wait_run(task_id: str, timeout: float) -> Any:
    """Return the closed AlertRun of task_id; raises RuntimeError after timeout."""
    from sqlalchemy import select

    from models import AlertRun, Session

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session() as session:
            run = session.scalars(select(AlertRun).where(AlertRun.task_id == task_id)).first()
        if run is not None and run.status != "running":
            return run
        time.sleep(0.1)
    raise RuntimeError(f"run of task {task_id} did not close in {timeout}s")


class Databases:
    """The seeded database, and a fresh copy of it for each run (file copy or TEMPLATE)."""

    def __init__(self, kind: str, work: Path) -> None:
        self.kind, self.work = kind, work
        self.admin: Any = None
        if kind == "postgresql":
            from sqlalchemy import create_engine

            self.admin = create_engine(services.POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            self.prefix = f"scout_bench_{os.getpid()}"
            self._sql(f'DROP DATABASE IF EXISTS "{self.prefix}_run" WITH (FORCE)')
            self._sql(f'DROP DATABASE IF EXISTS "{self.prefix}_seed" WITH (FORCE)')
            self._sql(f'CREATE DATABASE "{self.prefix}_seed"')
        self.pristine = self._url("seed")

    def _sql(self, statement: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(statement))

    def _url(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.work / name}.db"
        from sqlalchemy.engine import make_url

        return (
            make_url(services.POSTGRES_ADMIN_URL)
            .set(database=f"{self.prefix}_{name}")
            .render_as_string(hide_password=False)
        )

    def fresh(self) -> str:
        """Return the URL of a new copy of the seeded database (replacing the last copy)."""
        if self.kind == "sqlite":
            run = self.work / "run.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{run}{suffix}").unlink(missing_ok=True)
            shutil.copy(self.work / "seed.db", run)
        else:
            self._sql(f'DROP DATABASE IF EXISTS "{self.prefix}_run" WITH (FORCE)')
            self._sql(f'CREATE DATABASE "{self.prefix}_run" TEMPLATE "{self.prefix}_seed"')
        return self._url("run")

    def close(self) -> None:
        """Drop the PostgreSQL databases this bench made."""
        if self.admin is not None:
            for name in ("run", "seed"):
                self._sql(f'DROP DATABASE IF EXISTS "{self.prefix}_{name}" WITH (FORCE)')
            self.admin.dispose()


def measure(
    app: Any, dbs: Databases, redis_url: str, batch: int, sink: SmtpServer, expected: int, log: Path
) -> dict[str, Any]:
    """Run one check on a fresh copy of the seeded database; return its timings and figures."""
    from models.base import configure_engine

    url = dbs.fresh()
    configure_engine(url)
    with sink.handler.lock:
        sink.handler.count, sink.handler.first_at, sink.handler.last_at = 0, 0.0, 0.0
    cpu_before = _children_cpu()
    with worker_process(worker_env(url, redis_url, batch, sink), log) as process:
        wait_ready(app, process)
        sent_at, wall = time.monotonic(), time.time()
        result = app.send_task("scheduler.tasks.alerts.check_watchlists")
        sink.wait_for(expected, timeout=900)
        run = wait_run(result.id, timeout=300)
    # The worker and its pool processes, once stopped and reaped, start-up included: CPU
    # seconds do not grow with the machine's load the way wall-clock seconds do.
    cpu = _children_cpu() - cpu_before
    configure_engine("sqlite://")
    # The clock starts when check_watchlists starts (its run's started_at, moved onto the
    # monotonic clock the sink stamps messages with), not when the task was queued.
    started = sent_at + (run.started_at.timestamp() - wall)
    return {
        "seconds": sink.handler.last_at - started,
        "cpu": cpu,
        "queued": started - sent_at,
        "first": sink.handler.first_at - started,
        "emails": sink.handler.count,
        "sent": run.sent,
        "failed": run.failed,
        "alerts": run.alerts_new,
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Seed once, then time every mode on every sink and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--modes", default="batched,naive")
    parser.add_argument("--sinks", default="plain,starttls+auth")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--batch-size", type=int, default=MODES["batched"])
    args = parser.parse_args()
    MODES["batched"] = args.batch_size
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scout-bench-")))
        redis_url = stack.enter_context(services.private_redis_db())
        os.environ.update({"REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{work / 'x.db'}"})
        from scheduler.celery_app import app

        dbs = Databases(args.database, work)
        stack.callback(dbs.close)
        services.migrate(dbs.pristine)
        began = time.monotonic()
        expected = seed(dbs.pristine, args.subscribers)
        print(
            f"seeded {args.subscribers} subscribers, {args.subscribers * 5} watch entries "
            f"in {time.monotonic() - began:.1f}s; the sale should send {expected} emails"
        )
        log = work / "worker.log"
        for sink_name in args.sinks.split(","):
            sink = stack.enter_context(
                SmtpServer(keep=False, cert_dir=(work if sink_name == "starttls+auth" else None))
            )
            for mode in args.modes.split(","):
                runs = [
                    measure(app, dbs, redis_url, MODES[mode], sink, expected, log)
                    for _ in range(args.runs)
                ]
                report(sink_name, mode, runs)
        if "Traceback" in log.read_text(errors="replace"):
            print(f"worker log has tracebacks:\n{log.read_text(errors='replace')[-3000:]}")


def report(sink: str, mode: str, runs: list[dict[str, Any]]) -> None:
    """Print one line: the median seconds and emails/s of the runs, and each run's seconds."""
    seconds = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    emails = runs[0]["emails"]
    each = ", ".join(
        f"{r['seconds']:.1f} (cpu {r['cpu']:.1f}, first at {r['first']:.1f}, queued "
        f"{r['queued']:.2f})"
        for r in runs
    )
    print(
        f"{sink:14} {mode:8} {emails} emails  median {seconds:6.1f}s  "
        f"{emails / seconds:7.0f} emails/s  worker CPU median {cpu:5.1f}s  "
        f"(runs: {each}; sent={runs[-1]['sent']} "
        f"failed={runs[-1]['failed']} alerts={runs[-1]['alerts']})",
        flush=True,
    )


if __name__ == "__main__":
    main()
