"""A game's prices from price_history: the current one, the low and when, the changes; many lows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from models.base import Session, get_engine
from models.game import Game, PriceChange
from scheduler.catalogue.history import LowestPrice, PricePoint, game_prices, lowest_prices
from tests.support.catalogue import add_game, at, set_price


def prices(game_id: int, **options: int):
    with Session() as session:
        return game_prices(session, session.get_one(Game, game_id), **options)


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(get_engine(), "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(get_engine(), "before_cursor_execute", record)


def test_a_game_page_shows_the_current_price_the_low_most_recently_reached_and_every_change(db):
    with Session.begin() as session:
        game = add_game(session, 440, 1000, title="Team <Fortress>", when=at(0))
        set_price(session, game, 500, at(1), original=1000, discount=50)
        set_price(session, game, 1000, at(2))
        set_price(session, game, 500, at(3), original=1000, discount=50)
        set_price(session, game, 700, at(4), original=1000, discount=30)
        game_id = game.id

    page = prices(game_id)

    assert (page.itemkey, page.title, page.currency) == ("App_440", "Team <Fortress>", "USD")
    assert (page.final_cents, page.original_cents, page.discount_pct) == (700, 1000, 30)
    assert page.lowest == LowestPrice(500, "USD", at(3))
    assert [(p.at, p.final_cents, p.discount_pct) for p in page.changes] == [
        (at(0), 1000, 0),
        (at(1), 500, 50),
        (at(2), 1000, 0),
        (at(3), 500, 50),
        (at(4), 700, 30),
    ]
    assert page.changes_left_out == 0


def test_free_and_unpriced_rows_are_never_a_low(db):
    with Session.begin() as session:
        game = add_game(session, 1, 1500, when=at(0))
        set_price(session, game, 0, at(1), free=True)
        set_price(session, game, None, at(2))
        set_price(session, game, 1200, at(3))
        never_paid = add_game(session, 2, 0, free=True, when=at(0))
        set_price(session, never_paid, None, at(1))
        ids = game.id, never_paid.id

    assert prices(ids[0]).lowest == LowestPrice(1200, "USD", at(3))
    assert prices(ids[0]).changes[1] == PricePoint(at(1), 0, 1500, 0, True)
    assert prices(ids[1]).lowest is None
    with Session() as session:
        assert lowest_prices(session, ids) == {ids[0]: LowestPrice(1200, "USD", at(3))}


def test_prices_in_another_currency_are_left_out_of_the_low_and_the_changes(db):
    with Session.begin() as session:
        game = add_game(session, 1, 1999, currency="EUR", when=at(0))
        session.add(
            PriceChange(
                game_id=game.id, observed_at=at(1), final_cents=1, original_cents=1,
                discount_pct=0, is_free=False, currency="USD",
            )
        )  # fmt: skip
        game_id = game.id

    page = prices(game_id)

    assert page.lowest == LowestPrice(1999, "EUR", at(0))
    assert [p.at for p in page.changes] == [at(0)]


def test_a_page_reads_the_latest_changes_and_says_how_many_older_ones_it_left_out(db):
    with Session.begin() as session:
        game = add_game(session, 1, 100, when=at(0))
        for hour in range(1, 10):
            set_price(session, game, 100 + hour, at(hour))
        game_id = game.id

    page = prices(game_id, max_changes=4)

    assert [p.final_cents for p in page.changes] == [106, 107, 108, 109]
    assert page.changes_left_out == 6
    assert page.lowest == LowestPrice(100, "USD", at(0))  # the low of all the history


def test_the_lows_of_a_500_game_watchlist_take_one_query(db):
    expected, first_ten = {}, {}
    with Session.begin() as session:
        for steam_id in range(1, 501):
            game = add_game(session, steam_id, 2000 + steam_id, when=at(0))
            low = 1000 + steam_id % 7
            set_price(session, game, low, at(1 + steam_id % 3))
            set_price(session, game, 3000, at(5))
            set_price(session, game, low, at(6 + steam_id % 2))
            expected[game.id] = LowestPrice(low, "USD", at(6 + steam_id % 2))
            if steam_id <= 10:
                first_ten[game.id] = expected[game.id]
        unpriced = add_game(session, 999, None).id

    with Session() as session, counted_queries() as statements:
        lows = lowest_prices(session, [*expected, unpriced])

    assert lows == expected
    assert [s.split()[0] for s in statements if s != "BEGIN IMMEDIATE"] == ["SELECT"]
    with Session() as session:  # a SELECT of ids works as well, e.g. a subscriber's watches
        assert lowest_prices(session, select(Game.id).where(Game.steam_id <= 10)) == first_ten
