"""Page tasks upserting at the same moment: no duplicate history, no lost change, no deadlock.

On SQLite the writers take turns (BEGIN IMMEDIATE); on PostgreSQL they really overlap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from models.base import Session
from models.game import Game, PriceChange
from scheduler.catalogue.parse import Listing
from scheduler.catalogue.persist import UpsertResult, upsert_listings
from tests.support.listings import history, history_count, listing, upsert

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=6)
T2 = T0 + timedelta(hours=12)


def run_in_thread_holding_its_transaction(
    batch: list[Listing], now: datetime, hold: float = 0.5
) -> tuple[threading.Thread, list[UpsertResult]]:
    """Upsert batch in a thread that keeps its transaction open for hold seconds once written."""
    wrote = threading.Event()
    results: list[UpsertResult] = []

    def page_task() -> None:
        with Session.begin() as session:
            results.append(upsert_listings(session, batch, currency="USD", run_id=None, now=now))
            wrote.set()
            time.sleep(hold)

    thread = threading.Thread(target=page_task)
    thread.start()
    assert wrote.wait(10)
    return thread, results


def test_two_overlapping_batches_at_once_record_a_price_change_once(db):
    upsert([listing(1, 100)], T0)
    first, _ = run_in_thread_holding_its_transaction([listing(1, 200)], T1)

    second = upsert([listing(1, 200), listing(2, 300)], T2)
    first.join()

    assert second == UpsertResult(seen=2, new=1, changed=0, bad=0)
    assert [(h.final_cents, h.observed_at) for h in history(1)] == [(100, T0), (200, T1)]


def test_two_batches_bringing_the_same_new_game_at_once_record_its_first_price_once(db):
    first, results = run_in_thread_holding_its_transaction([listing(7, 500)], T1)

    second = upsert([listing(7, 500), listing(8, 800)], T2)
    first.join()

    assert results == [UpsertResult(seen=1, new=1, changed=0, bad=0)]
    assert second == UpsertResult(seen=2, new=1, changed=0, bad=0)
    assert [(h.final_cents, h.observed_at) for h in history(7)] == [(500, T1)]


def test_a_new_game_brought_at_once_at_two_prices_records_both(db):
    first, _ = run_in_thread_holding_its_transaction([listing(7, 500)], T1)

    second = upsert([listing(7, 450)], T2)
    first.join()

    assert second == UpsertResult(seen=1, new=0, changed=1, bad=0)
    assert [(h.final_cents, h.observed_at) for h in history(7)] == [(500, T1), (450, T2)]


def test_batches_repricing_the_same_games_in_opposite_orders_at_once_all_land(db):
    ids = range(1, 1001)
    upsert([listing(steam_id, 1000) for steam_id in ids], T0)
    batches = [
        [listing(steam_id, 900) for steam_id in ids],
        [listing(steam_id, 800) for steam_id in reversed(ids)],
        [listing(steam_id, 700) for steam_id in ids if steam_id % 2],
        [listing(steam_id, 600) for steam_id in reversed(ids) if steam_id % 3],
    ]

    errors = run_at_once(
        [
            lambda batch=batch, hour=hour: upsert(batch, T0 + timedelta(hours=hour))
            for hour, batch in enumerate(batches, start=1)
        ]
    )

    assert errors == []
    # Each batch changed every game it holds: whoever came second saw the first one's price.
    assert history_count() == 1000 + sum(len(batch) for batch in batches)
    # And the price each game ended with is the one its last written history row holds.
    last_written = select(func.max(PriceChange.id)).group_by(PriceChange.game_id)
    with Session() as session:
        ended = session.execute(
            select(Game.final_cents, PriceChange.final_cents)
            .join(PriceChange, PriceChange.game_id == Game.id)
            .where(PriceChange.id.in_(last_written))
        ).all()
    assert len(ended) == 1000
    assert all(game_price == history_price for game_price, history_price in ended)


def run_at_once(calls: list[Callable[[], object]]) -> list[BaseException]:
    """Start every call in its own thread at the same moment; return what they raised."""
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        start.wait()
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors
