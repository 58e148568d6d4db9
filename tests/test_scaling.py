"""Scaling out: scrape and mail work on separate worker processes, one store rate limit for all."""

from __future__ import annotations

import json
import shlex
from collections import defaultdict
from pathlib import Path

import pytest
import redis

from config import PROJECT_ROOT
from storesim.store import SimStore
from tests.support import services
from tests.support.cluster import add_watchers, most_in_any_window
from tests.support.processes import BIN, Proc, migrate_with, run_scout, scout_env
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.slow

RATE = 5  # requests per second to the store, for every worker process together


def readme_workers() -> list[list[str]]:
    """Return the worker commands of the README's scaling section, as argument lists."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Scaling out", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in section.splitlines() if line.startswith("    celery ")]
    return [[str(BIN / "celery"), *shlex.split(line)[1:]] for line in lines]


def tasks_by_node(client: redis.Redis) -> dict[str, set[str]]:
    """Return, per worker node, the names of the tasks whose results it stored."""
    found: dict[str, set[str]] = defaultdict(set)
    for key in client.scan_iter("celery-task-meta-*"):
        meta = json.loads(client.get(key) or "{}")
        found[meta["worker"].split("@")[0]].add(meta["name"])
    return dict(found)


def test_two_workers_on_separate_queues_scrape_and_fan_out_within_one_rate_limit(
    tmp_path: Path, store: SimStore
) -> None:
    database_url = f"sqlite:///{tmp_path / 'scout.db'}"
    # A Redis db of its own, so the results it reads are only this test's.
    with services.private_redis_db() as redis_url, SmtpServer() as smtp:
        env = scout_env(
            REDIS_URL=redis_url,
            DATABASE_URL=database_url,
            STORE_URL=store.url,
            STORE_PAGE_SIZE="50",  # 1000 games: 20 pages, 4 s at 5 a second
            STORE_RATE_LIMIT=f"{RATE}/second",
            SCRAPE_PAGES_PER_TASK="2",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(smtp.port),
            MAIL_BATCH_SIZE="3",  # 12 subscribers: a chord of 4 send tasks
        )
        migrate_with(env)
        commands = readme_workers()
        assert [c[c.index("-n") + 1] for c in commands] == ["scrape@%h", "mail@%h"]
        workers = [Proc(command, env) for command in commands]  # as written in the README
        try:
            assert "run 1: ok" in run_scout(["scrape", "--wait"], env)
            add_watchers(database_url, 12, ["App_1003", "App_1006"], min_discount=50)
            store.set_sale(every=3, pct=60)
            store.stats_book.reset()
            assert "run 2: ok" in run_scout(["scrape", "--wait"], env)
            times = store.stats()["times"]
            out = run_scout(["check", "--wait"], env)
            messages = smtp.wait_for(12)
            ran = tasks_by_node(redis.Redis.from_url(redis_url))
        finally:
            for worker in workers:
                worker.stop()
    assert "sent: 24" in out and "failed: 0" in out
    assert len({m.rcpt_tos for m in messages}) == 12
    assert len(times) == 20
    # At most RATE requests in any second, as the store counts their arrivals.
    assert most_in_any_window(times, 1.0) <= RATE
    assert max(times) - min(times) >= (20 - RATE) / RATE
    assert ran == {
        "scrape": {
            "scheduler.tasks.catalogue.scrape_catalogue",
            "scheduler.tasks.catalogue.scrape_pages",
            "scheduler.tasks.catalogue.finish_scrape",
        },
        "mail": {
            "scheduler.tasks.alerts.check_watchlists",
            "scheduler.tasks.alerts.send_digests",
            "scheduler.tasks.alerts.finish_alert_run",
        },
    }
    assert all("Traceback" not in worker.text for worker in workers)
