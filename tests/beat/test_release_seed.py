"""The release step (alembic upgrade head) seeds the default schedule, so an admin can list and
run it before any beat has started; it never brings back what an admin changed or removed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from beat_schedule import DEFAULT_SCHEDULE
from models.base import utcnow
from scheduler.beat import entries as store
from scheduler.beat.timing import parse_timing
from tests.support import services
from tests.support.faults import RedisServer
from tests.support.processes import migrate_with, run_scout, scout_env


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new database, no tables; yields its URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    services.require_postgres()
    with services.fresh_postgres_database() as url:
        yield url


@pytest.fixture
def broker() -> Iterator[RedisServer]:
    """A redis-server of this test's own: what `schedule run` sends stays out of other tests."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


def entry_names(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.scalars(text("SELECT name FROM schedule_entries")))
    finally:
        engine.dispose()


def test_after_the_release_step_an_admin_lists_and_runs_the_defaults_before_any_beat(
    fresh_database, broker
):
    env = scout_env(DATABASE_URL=fresh_database, REDIS_URL=broker.url)
    migrate_with(env)  # the Procfile's release: alembic upgrade head

    listed = json.loads(run_scout(["schedule", "list", "--json"], env))
    assert sorted(row["name"] for row in listed) == sorted(DEFAULT_SCHEDULE)
    assert all(row["problem"] is None and row["next_run"] for row in listed)
    out = run_scout(["schedule", "run", "refresh-watched-prices"], env)
    assert "scheduler.tasks.prices.refresh_watched_prices sent now" in out
    assert redis.Redis.from_url(broker.url).llen("celery") == 1


def test_a_later_release_keeps_an_edit_and_a_removal_and_adds_only_new_defaults(
    fresh_database, scout_app, monkeypatch
):
    cfg = services.alembic_config(fresh_database)
    command.upgrade(cfg, "head")
    scout_app.update(database_url=fresh_database)
    every_5m = parse_timing({"every": 300})
    store.in_transaction(
        lambda s: store.edit_entry(s, "check-watchlists", "ann", utcnow(), every_5m)
    )
    store.in_transaction(lambda s: store.remove_entry(s, "scrape-catalogue", "ann", utcnow()))
    new_default = {**DEFAULT_SCHEDULE["close-stalled-scrapes"], "schedule": {"every": 600}}
    monkeypatch.setitem(DEFAULT_SCHEDULE, "new-default", new_default)

    command.upgrade(cfg, "head")  # the next deploy's release step, with one more default

    expected = sorted({*DEFAULT_SCHEDULE} - {"scrape-catalogue"})
    assert entry_names(fresh_database) == expected
    with store.Session() as session:
        assert store.get_entry(session, "check-watchlists").interval_seconds == 300


def test_only_an_upgrade_to_the_newest_revision_seeds(fresh_database):
    cfg = services.alembic_config(fresh_database)
    script = ScriptDirectory.from_config(cfg)
    older = script.get_revision(script.get_current_head()).down_revision
    command.upgrade(cfg, str(older))
    assert entry_names(fresh_database) == []  # the models fit only the newest schema

    command.upgrade(cfg, "head")
    engine = create_engine(fresh_database)
    with engine.begin() as conn:  # as if an admin removed every entry and its history
        conn.execute(text("DELETE FROM schedule_entries"))
        conn.execute(text("DELETE FROM schedule_edits"))
    engine.dispose()
    command.current(cfg)  # read-only commands run env.py too: they must not write
    command.stamp(cfg, "head")
    assert entry_names(fresh_database) == []
