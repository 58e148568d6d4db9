"""The watched-prices refresh on a real worker, Redis, databases, SMTP and the simulated store."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from models import Game, PriceChange, Session
from scheduler.tasks.prices import refresh_watched_prices
from tests.support.catalogue import add_game
from tests.support.prices import paid_apps, seed_catalogue, watch

REFRESH_INTERVAL = 120  # beat_schedule.py's refresh-watched-prices


def refresh(timeout: float = 60) -> dict[str, Any]:
    """Queue one refresh tick through the broker, as beat does; return its figures."""
    return refresh_watched_prices.delay().get(timeout=timeout)


def game(steam_id: int) -> Game:
    with Session() as session:
        query = select(Game).where(Game.kind == "app", Game.steam_id == steam_id)
        return session.scalars(query).one()


def history_count() -> int:
    with Session() as session:
        return session.scalar(select(func.count()).select_from(PriceChange)) or 0


def test_a_price_drop_on_a_watched_game_reaches_the_mailbox_within_one_interval(
    db, worker, refresh_store, smtp_server
) -> None:
    rows = seed_catalogue(refresh_store)
    target = paid_apps(rows)[0]
    watch("ann@example.com", [target.steam_id], below_cents=target.final_cents * 6 // 10)
    first = refresh()
    assert (first["priced"], first["changed"], first["alerts_new"]) == (1, 0, 0)
    history = history_count()

    refresh_store.sale_on_apps([target.steam_id], pct=50)
    sale_at = time.monotonic()
    figures = refresh()
    [message] = smtp_server.wait_for(1, timeout=REFRESH_INTERVAL)
    assert time.monotonic() - sale_at < REFRESH_INTERVAL
    assert (figures["changed"], figures["alerts_new"]) == (1, 1)
    assert message.rcpt_tos == ("ann@example.com",)
    assert target.title.split()[0] in message.message.get_body(("plain",)).get_content()
    assert game(target.steam_id).final_cents == (target.final_cents * 50 + 50) // 100
    assert history_count() == history + 1  # one row for the one real change
    refresh()
    assert history_count() == history + 1 and len(smtp_server.messages) == 1


def test_unwatched_games_cost_no_appdetails_request(db, worker, refresh_store) -> None:
    rows = seed_catalogue(refresh_store)
    watched = [r.steam_id for r in paid_apps(rows)[:45]]
    watch("bob@example.com", watched)
    refresh_store.control({"reset_stats": True})
    figures = refresh()
    asked = refresh_store.stats()["appdetails"]
    assert set(map(int, asked["by_id"])) == set(watched)
    assert (asked["requests"], figures["requests"]) == (3, 3)  # 45 ids, 20 a request


def test_the_stalest_and_sale_items_go_first_and_a_tick_spends_no_more_than_its_share(
    db, worker, refresh_store, scout_app
) -> None:
    rows = seed_catalogue(refresh_store)
    watched = [r.steam_id for r in paid_apps(rows)[:60]]
    watch("cy@example.com", watched)
    scout_app.update(price_refresh_requests=1)
    seen: list[set[int]] = []
    for _ in range(3):
        refresh_store.control({"reset_stats": True})
        assert refresh()["requests"] == 1
        seen.append(set(map(int, refresh_store.stats()["appdetails"]["by_id"])))
    assert all(len(ids) == 20 for ids in seen)
    assert set().union(*seen) == set(watched)  # three ticks, every app once: stalest first


@pytest.mark.parametrize("fault", ["garbled", "null", "json_error", "500", "cut"])
def test_bad_answers_keep_the_last_good_price_and_are_recorded(
    db, worker, refresh_store, fault
) -> None:
    rows = seed_catalogue(refresh_store)
    paid = paid_apps(rows)[0]
    free = next(r for r in rows if r.kind == "app" and r.is_free)
    with Session.begin() as session:
        add_game(session, 99_999, 1499, title="Delisted Game")  # the store no longer knows it
    watch("dee@example.com", [paid.steam_id, free.steam_id, 99_999])
    before = {i: game(i).final_cents for i in (paid.steam_id, free.steam_id, 99_999)}
    history = history_count()

    times = -1 if fault in ("500", "cut") else 1  # the client retries these: keep them coming
    refresh_store.set_faults({"kind": fault, "times": times, "endpoint": "appdetails"})
    broken = refresh()
    assert (broken["failed"], broken["priced"], broken["changed"]) == (1, 0, 0)
    assert all(game(i).price_refreshed_at is None for i in before)

    refresh_store.set_faults()
    again = refresh()
    assert (again["priced"], again["no_price"], again["unknown"], again["failed"]) == (1, 1, 1, 0)
    assert {i: game(i).final_cents for i in before} == before
    assert game(free.steam_id).is_free
    assert history_count() == history
    assert all(game(i).price_refreshed_at is not None for i in before)


def test_overlapping_ticks_ask_for_each_watched_app_once(sqlite_db, worker, refresh_store) -> None:
    rows = seed_catalogue(refresh_store)
    watched = [r.steam_id for r in paid_apps(rows)[:60]]
    watch("eve@example.com", watched)
    refresh_store.control({"reset_stats": True})
    refresh_store.set_faults({"kind": "slow", "delay": 0.5, "times": -1, "endpoint": "appdetails"})
    ticks = [refresh_watched_prices.delay() for _ in range(3)]
    figures = [tick.get(timeout=60) for tick in ticks]
    asked = refresh_store.stats()["appdetails"]["by_id"]
    assert sorted(map(int, asked)) == sorted(watched)
    assert set(asked.values()) == {1}  # nobody asked twice
    assert sum(f["asked"] for f in figures) == 60
    assert sum(f["claimed_elsewhere"] for f in figures) > 0


def test_a_change_seen_by_both_the_refresh_and_the_scrape_writes_one_history_row(
    db, worker, refresh_store, smtp_server, caplog
) -> None:
    # smtp_server: the sale emails gus; with no server their send would retry 30 s later,
    # into whichever test the shared worker runs by then.
    rows = seed_catalogue(refresh_store)
    first, second = paid_apps(rows)[:2]
    watch("gus@example.com", [first.steam_id, second.steam_id])
    refresh()
    history = history_count()
    refresh_store.sale_on_apps([first.steam_id, second.steam_id], pct=50)
    with caplog.at_level("INFO", logger="scheduler.tasks.prices"):
        caplog.clear()  # the worker logs other ticks' lines too, whatever the level outside
        assert refresh()["changed"] == 2
        lines = [r.getMessage() for r in caplog.records]
    seed_catalogue(refresh_store)  # the nightly scrape sees the same sale prices
    assert history_count() == history + 2
    refresh_store.sale_on_apps([first.steam_id, second.steam_id], pct=0)
    seed_catalogue(refresh_store)  # the scrape sees the sale end first...
    assert refresh()["changed"] == 0  # ...so the refresh finds nothing new
    assert history_count() == history + 4
    [line] = [line for line in lines if line.startswith("price refresh")]
    assert " watched=2 " in line and " changed=2 " in line and " requests=1 " in line


def test_apps_answered_unusably_keep_their_price_and_queue_behind_the_others(
    db, worker, refresh_store, scout_app
) -> None:
    rows = seed_catalogue(refresh_store)
    watched = sorted(r.steam_id for r in paid_apps(rows)[:60])
    watch("hal@example.com", watched)
    before = {i: game(i).final_cents for i in watched}
    # Asked in euros, the store's dollars are the wrong currency for every entry.
    scout_app.update(price_refresh_requests=1, store_currency="EUR")
    refresh_store.control({"reset_stats": True})
    assert refresh()["bad"] == 20
    errored = set(map(int, refresh_store.stats()["appdetails"]["by_id"]))
    assert all(game(i).price_error_at is not None for i in errored)
    assert "currency 'USD', expected EUR" in (game(min(errored)).price_error or "")
    assert {i: game(i).final_cents for i in watched} == before
    assert all(game(i).price_refreshed_at is None for i in errored)  # not confirmed fresh

    scout_app.update(store_currency="USD")
    seen: list[set[int]] = []
    for _ in range(3):
        refresh_store.control({"reset_stats": True})
        refresh()
        seen.append(set(map(int, refresh_store.stats()["appdetails"]["by_id"])))
    assert seen[0] | seen[1] == set(watched) - errored  # the fresh ones first...
    assert seen[2] == errored  # ...then the errored ones, in their turn
    assert all(game(i).price_error is None for i in errored)  # a good answer clears the error
