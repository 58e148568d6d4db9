"""The refresh rides out a database restart: a private PostgreSQL server stopped mid tick."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import select

from models import Game, Session
from models.base import get_engine
from scheduler.catalogue.claims import PREFIX
from scheduler.tasks.prices import refresh_watched_prices
from tests.support import services
from tests.support.postgres import PrivatePostgres, private_postgres
from tests.support.prices import paid_apps, seed_catalogue, watch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def restartable_server() -> Iterator[PrivatePostgres]:
    """A migrated private PostgreSQL server that tests may stop and start."""
    with private_postgres() as server:
        services.migrate(server.url)
        yield server


@pytest.fixture
def restartable_db(restartable_server: PrivatePostgres, scout_app) -> Iterator[PrivatePostgres]:
    """The app on the private server, with empty tables; the server is up again afterwards."""
    scout_app.update(database_url=restartable_server.url)
    services.empty_all_tables(get_engine())
    yield restartable_server
    try:
        restartable_server.start()
    except Exception:
        pass  # still running


def refreshed() -> dict[int, bool]:
    with Session() as session:
        rows = session.execute(select(Game.steam_id, Game.price_refreshed_at))
        return {steam_id: at is not None for steam_id, at in rows}


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


def test_a_restart_mid_tick_is_retried_and_no_app_is_asked_twice(
    restartable_db, worker, refresh_store, caplog
) -> None:
    rows = seed_catalogue(refresh_store)
    watched = sorted(r.steam_id for r in paid_apps(rows)[:45])
    watch("ivy@example.com", watched)
    refresh_store.control({"reset_stats": True})
    # Each answer takes 1.5 s: the database goes down while the first one is on its way.
    refresh_store.set_faults({"kind": "slow", "delay": 1.5, "times": -1, "endpoint": "appdetails"})
    with caplog.at_level(logging.INFO):
        result = refresh_watched_prices.delay()
        deadline = time.monotonic() + 30
        while refresh_store.stats()["appdetails"]["requests"] < 1 < deadline - time.monotonic():
            time.sleep(0.05)
        restartable_db.stop()
        time.sleep(2.5)
        restartable_db.start()
        figures = result.get(timeout=90)
    asked = refresh_store.stats()["appdetails"]["by_id"]
    assert sorted(map(int, asked)) == watched
    assert set(asked.values()) == {1}  # the answer that could not be stored was not asked again
    assert figures["db_retries"] >= 1
    assert (figures["priced"], figures["requests"], figures["asked"]) == (45, 3, 45)
    assert all(refreshed()[i] for i in watched)
    assert tracebacks(caplog) == []
    lines = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(lines) == figures["db_retries"] and "retry 1 of 5 in 1s" in lines[0]


def test_a_database_down_for_good_gives_up_in_one_line_and_holds_no_claim(
    restartable_db, worker, refresh_store, redis_url, caplog, scout_app
) -> None:
    rows = seed_catalogue(refresh_store)
    watched = sorted(r.steam_id for r in paid_apps(rows)[:45])
    watch("jo@example.com", watched)
    scout_app.update(price_refresh_db_retries=1)
    refresh_store.control({"reset_stats": True})
    restartable_db.stop()
    with caplog.at_level(logging.INFO):
        figures = refresh_watched_prices.delay().get(timeout=60)
    assert (figures["db_retries"], figures["requests"]) == (1, 0)
    assert redis.Redis.from_url(redis_url).keys(f"{PREFIX}*") == []
    assert tracebacks(caplog) == []
    [line] = [r.getMessage() for r in caplog.records if "after 1 retries" in r.getMessage()]
    assert "next tick asks again" in line and "password" not in line

    restartable_db.start()
    assert refresh_watched_prices.delay().get(timeout=60)["priced"] == 45
    assert set(refresh_store.stats()["appdetails"]["by_id"].values()) == {1}
