"""Persistence of scraped prices, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select

from models.base import Session, get_engine
from models.game import Game
from models.scrape import ScrapeRun
from scheduler.catalogue.persist import UpsertResult, upsert_listings
from tests.support.listings import game, history, history_count, listing, lowest_price, upsert

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=6)
T2 = T0 + timedelta(hours=12)
T3 = T0 + timedelta(hours=18)
# Statements an upsert may take: per call (BEGIN, plan setting, staging table) and per chunk.
PER_CALL, PER_CHUNK = 3, 7


def lowest(steam_id: int) -> tuple[int, datetime] | None:
    with Session() as session:
        return lowest_price(session, game(steam_id).id)


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_new_games_are_stored_with_one_history_row_each(db):
    result = upsert(
        [
            listing(440, 0, free=True),
            listing(570, 1999, original=3999, discount=50),
            listing(54029, 4999, kind="sub"),
        ],
        T0,
    )

    assert result == UpsertResult(seen=3, new=3, changed=0, bad=0)
    dota = game(570)
    assert (dota.title, dota.final_cents, dota.original_cents, dota.discount_pct) == (
        "Game 570",
        1999,
        3999,
        50,
    )
    assert (dota.currency, dota.is_free) == ("USD", False)
    assert dota.first_seen == dota.last_seen == dota.price_changed_at == T0
    assert [
        (h.final_cents, h.original_cents, h.discount_pct, h.observed_at) for h in history(570)
    ] == [(1999, 3999, 50, T0)]
    assert len(history(54029, "sub")) == 1
    assert history_count() == 3


def test_a_second_run_with_the_same_prices_writes_no_history_and_counts_nothing_new(db):
    batch = [listing(steam_id, 999 + steam_id) for steam_id in range(1, 51)]
    upsert(batch, T0)

    again = upsert(batch, T1)

    assert again == UpsertResult(seen=50, new=0, changed=0, bad=0)
    assert history_count() == 50
    stored = game(7)
    assert (stored.first_seen, stored.last_seen, stored.price_changed_at) == (T0, T1, T0)


def test_running_the_same_batch_twice_at_the_same_moment_changes_nothing(db):
    batch = [listing(1, 500), listing(2, None), listing(3, 700, ok=False)]
    assert upsert(batch, T0) == UpsertResult(seen=3, new=3, changed=0, bad=1)

    assert upsert(batch, T0) == UpsertResult(seen=3, new=0, changed=0, bad=1)
    assert history_count() == 2


def test_a_price_change_writes_one_history_row_and_sets_price_changed_at(db):
    upsert([listing(570, 1999), listing(730, 1499)], T0)

    result = upsert([listing(570, 999, original=1999, discount=50), listing(730, 1499)], T1)

    assert result == UpsertResult(seen=2, new=0, changed=1, bad=0)
    dota = game(570)
    assert (dota.final_cents, dota.discount_pct, dota.price_changed_at) == (999, 50, T1)
    assert [(h.final_cents, h.observed_at) for h in history(570)] == [(1999, T0), (999, T1)]
    assert game(730).price_changed_at == T0
    assert len(history(730)) == 1


def test_a_change_of_discount_freeness_or_currency_alone_is_a_price_change(db):
    upsert([listing(1, 1000), listing(2, 1000), listing(3, 1000)], T0)

    changed = upsert([listing(1, 1000, discount=1), listing(2, 1000, free=True)], T1)
    in_euros = upsert([listing(3, 1000)], T2, currency="EUR")

    assert (changed.changed, in_euros.changed) == (2, 1)
    assert [h.currency for h in history(3)] == ["USD", "EUR"]
    assert game(3).currency == "EUR"
    assert history_count() == 6


def test_an_unreadable_price_keeps_the_old_price_and_writes_no_history(db):
    upsert([listing(570, 1999, title="Dota")], T0)

    result = upsert([listing(570, 5, title="Dota 2", ok=False)], T1)

    assert result == UpsertResult(seen=1, new=0, changed=0, bad=1)
    dota = game(570)
    assert (dota.title, dota.last_seen) == ("Dota 2", T1)
    assert (dota.final_cents, dota.price_changed_at) == (1999, T0)
    assert len(history(570)) == 1


def test_a_new_game_with_an_unreadable_price_is_stored_without_price_or_history(db):
    result = upsert([listing(99, 1234, ok=False)], T0)

    assert result == UpsertResult(seen=1, new=1, changed=0, bad=1)
    stored = game(99)
    assert (stored.final_cents, stored.original_cents, stored.price_changed_at) == (
        None,
        None,
        None,
    )
    assert (stored.currency, stored.first_seen) == ("USD", T0)
    assert history(99) == []

    later = upsert([listing(99, 1234)], T1)

    assert later == UpsertResult(seen=1, new=0, changed=1, bad=0)
    assert [(h.final_cents, h.observed_at) for h in history(99)] == [(1234, T1)]


def test_the_last_of_duplicate_listings_in_one_batch_wins_and_counts_once(db):
    batch = [
        listing(570, 1999, title="old"),
        listing(570, 999, title="new"),
        listing(730, 500),
        listing(730, 400, ok=False),
    ]

    result = upsert(batch, T0)

    assert result == UpsertResult(seen=2, new=2, changed=0, bad=1)
    assert (game(570).title, game(570).final_cents) == ("new", 999)
    assert [h.final_cents for h in history(570)] == [999]
    assert game(730).final_cents is None
    assert history(730) == []


def test_titles_with_quotes_backslashes_and_any_script_are_stored_exactly(db):
    title = 'Pok\u00e9mon "Ultra" \\ 東方 \U0001f3ae\ttab'
    upsert([listing(2**40, 100, title=title, ok=False), listing(7, 100, title=title)], T0)

    assert game(2**40).title == title
    assert game(7).title == title


def test_an_app_and_a_package_with_the_same_number_are_different_games(db):
    result = upsert(
        [listing(440, 100), listing(440, 200, kind="sub"), listing(440, 300, kind="bundle")], T0
    )

    assert result.new == 3
    assert [game(440, kind).final_cents for kind in ("app", "sub", "bundle")] == [100, 200, 300]
    assert upsert([listing(440, 100), listing(440, 250, kind="sub")], T1).changed == 1


def test_history_rows_name_the_scrape_run_that_saw_the_price(db):
    with Session.begin() as session:
        run = ScrapeRun(started_at=T0)
        session.add(run)
        session.flush()
        run_id = run.id

    upsert([listing(1, 100)], T0, run_id=run_id)
    upsert([listing(1, 90)], T1)

    assert [h.scrape_run_id for h in history(1)] == [run_id, None]


def test_a_batch_bigger_than_the_bound_parameter_limits_is_stored_in_a_few_statements(db):
    batch = [listing(steam_id, 100 + steam_id % 900) for steam_id in range(1, 40_001)]

    with counted_statements() as statements:
        first = upsert(batch, T0)

    assert first == UpsertResult(seen=40_000, new=40_000, changed=0, bad=0)
    assert len(statements) <= PER_CALL + 2 * PER_CHUNK  # two chunks of 20,000
    repriced = [
        listing(item.steam_id, item.final_cents + (item.steam_id % 10 == 0)) for item in batch
    ]
    assert upsert(repriced, T1) == UpsertResult(seen=40_000, new=0, changed=4000, bad=0)
    assert upsert(repriced, T2) == UpsertResult(seen=40_000, new=0, changed=0, bad=0)
    assert history_count() == 44_000
    assert game(40_000).final_cents == 100 + 40_000 % 900 + 1


def test_a_batch_takes_the_same_few_statements_whether_it_has_ten_rows_or_ten_thousand(db):
    upsert([listing(steam_id) for steam_id in range(1, 40_000, 2)], T0)
    counts = []
    for size, first in ((10, 1), (10_000, 20_001)):
        ids = range(first, first + size)
        page = [listing(steam_id, 1999 + steam_id % 4) for steam_id in ids]
        page[-1] = listing(ids[-1], ok=False)
        with counted_statements() as statements:
            result = upsert(page, T1)
        assert (result.new, result.bad) == (size // 2, 1)
        counts.append(len(statements))

    assert counts[0] == counts[1] <= PER_CALL + PER_CHUNK


def test_nothing_is_stored_when_the_callers_transaction_rolls_back(db):
    with Session() as session, session.begin():
        upsert_listings(session, [listing(1)], currency="USD", run_id=None, now=T0)
        session.rollback()

    with Session() as session:
        assert session.scalar(select(func.count()).select_from(Game)) == 0
    assert history_count() == 0


def test_two_upserts_in_one_transaction_each_count_only_their_own_batch(db):
    upsert([listing(1, 100)], T0)

    with Session.begin() as session:
        first = upsert_listings(
            session, [listing(1, 90), listing(2, 200)], currency="USD", run_id=None, now=T1
        )
        second = upsert_listings(session, [listing(3, 300)], currency="USD", run_id=None, now=T1)

    assert first == UpsertResult(seen=2, new=1, changed=1, bad=0)
    assert second == UpsertResult(seen=1, new=1, changed=0, bad=0)
    assert [game(steam_id).final_cents for steam_id in (1, 2, 3)] == [90, 200, 300]
    assert history_count() == 4


def test_a_batch_after_a_rolled_back_one_stores_only_itself(db):
    with Session() as session, session.begin():
        upsert_listings(session, [listing(1), listing(2)], currency="USD", run_id=None, now=T0)
        session.rollback()

    assert upsert([listing(3, 300)], T1) == UpsertResult(seen=1, new=1, changed=0, bad=0)
    with Session() as session:
        assert session.scalars(select(Game.steam_id)).all() == [3]
    assert history_count() == 1


def test_an_empty_batch_does_nothing(db):
    assert upsert([], T0) == UpsertResult(seen=0, new=0, changed=0, bad=0)


def test_the_lowest_price_is_the_cheapest_paid_price_and_when_it_was_first_seen(db):
    for when, cents in [(T0, 1999), (T1, 999), (T2, 1499), (T3, 999)]:
        upsert([listing(570, cents)], when)

    assert lowest(570) == (999, T1)


def test_free_and_unpriced_items_are_recorded_but_never_the_lowest_price(db):
    upsert([listing(1, 0, free=True), listing(2, None), listing(3, 1500)], T0)
    upsert([listing(1, 0, free=True), listing(2, None), listing(3, 0, free=True)], T1)

    assert [(h.final_cents, h.is_free) for h in history(1)] == [(0, True)]
    assert [h.final_cents for h in history(2)] == [None]
    assert game(3).is_free is True
    assert lowest(1) is None
    assert lowest(2) is None
    assert lowest(3) == (1500, T0)


def test_price_history_of_a_game_without_rows_is_empty(db):
    upsert([listing(1, 100, ok=False)], T0)

    assert history(1) == []
    assert lowest(1) is None


def test_a_title_longer_than_the_column_is_cut_to_it_and_the_batch_lands_on_both_backends(db):
    limit = Game.__table__.c.title.type.length
    long_ascii, long_wide = "A" * (limit + 100), "日本" * limit  # characters, not bytes, count
    result = upsert([listing(1, title=long_ascii), listing(2, title=long_wide), listing(3)], T0)
    assert result.new == 3
    assert (game(1).title, game(2).title, game(3).title) == (
        long_ascii[:limit],
        long_wide[:limit],
        "Game 3",
    )
    # Known games: a title-only change (the touch) and a price change take the same rule.
    upsert([listing(1, title="B" * (limit + 1)), listing(2, 999, title="C" * (limit + 1))], T1)
    assert (game(1).title, game(2).title) == ("B" * limit, "C" * limit)
    assert game(2).final_cents == 999
