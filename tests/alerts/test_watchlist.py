"""Alert selection: one set-based pass over the watchlist, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import event, func, insert, select

from models.alert import Alert, AlertRun, Subscriber, WatchEntry
from models.base import Session, get_engine
from models.game import Game
from scheduler.alerts.watchlist import add_watch, find_due_alerts, pending_alert_batches, subscribe
from tests.support.catalogue import add_game, at, set_price

ANN = "ann@example.com"
BOB = "bob@example.com"


def setup_game(steam_id: int, price: int | None, **options: object) -> int:
    """Add a game with its first price and return its id."""
    with Session.begin() as session:
        return add_game(session, steam_id, price, **options).id  # type: ignore[arg-type]


def reprice(game_id: int, price: int | None, when: datetime, **options: object) -> None:
    """Record a new price for the game as the scraper would."""
    with Session.begin() as session:
        set_price(session, session.get_one(Game, game_id), price, when, **options)  # type: ignore[arg-type]


def watch(email: str, item: str, **rule: object) -> None:
    """Subscribe email (if needed) and watch item with rule."""
    with Session.begin() as session:
        subscribe(session, email)
        add_watch(session, email, item, **rule)  # type: ignore[arg-type]


def check(when: datetime, run_id: int | None = None) -> int:
    """Run one due-alerts pass in its own transaction; return how many alerts it inserted."""
    with Session.begin() as session:
        return find_due_alerts(session, now=when, alert_run_id=run_id)


def alerts() -> list[tuple[str, int, int, int | None]]:
    """Return every alert as (email, generation, trigger_cents, previous_cents), oldest first."""
    with Session() as session:
        rows = session.execute(
            select(Subscriber.email, Alert.generation, Alert.trigger_cents, Alert.previous_cents)
            .join(Subscriber, Subscriber.id == Alert.subscriber_id)
            .order_by(Alert.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def entry_state(email: str = ANN) -> tuple[int | None, int]:
    """Return (last_alert_cents, generation) of the subscriber's only watch entry."""
    with Session() as session:
        entry = session.scalars(
            select(WatchEntry).join(Subscriber).where(Subscriber.email == email)
        ).one()
        return entry.last_alert_cents, entry.generation


def test_it_alerts_once_when_the_price_first_meets_the_below_target(db: str) -> None:
    game = setup_game(440, 2999)
    watch(ANN, "App_440", below_cents=2000)
    assert check(at(1)) == 0
    reprice(game, 1999, at(2), discount=33)
    assert check(at(3)) == 1
    assert alerts() == [(ANN, 0, 1999, 2999)]
    assert entry_state() == (1999, 0)


def test_it_inserts_nothing_when_run_again_at_the_same_price(db: str) -> None:
    setup_game(440, 1500)
    watch(ANN, "440", below_cents=2000)
    assert check(at(1)) == 1
    assert check(at(2)) == 0
    assert check(at(3)) == 0
    assert len(alerts()) == 1


def test_it_alerts_again_when_the_price_falls_further_below_the_last_alert(db: str) -> None:
    game = setup_game(440, 1500)
    watch(ANN, "440", below_cents=2000)
    check(at(1))
    reprice(game, 999, at(2))
    assert check(at(3)) == 1
    assert [a[2] for a in alerts()] == [1500, 999]
    assert entry_state() == (999, 0)


def test_it_stays_quiet_when_the_price_bounces_within_the_target(db: str) -> None:
    game = setup_game(440, 1500)
    watch(ANN, "440", below_cents=2000)
    check(at(1))
    reprice(game, 1800, at(2))
    assert check(at(3)) == 0
    reprice(game, 1500, at(4))
    assert check(at(5)) == 0
    assert entry_state() == (1500, 0)


def test_it_re_arms_after_the_price_rises_above_the_target_and_alerts_at_the_same_price(
    db: str,
) -> None:
    game = setup_game(440, 1500)
    watch(ANN, "440", below_cents=2000)
    check(at(1))
    reprice(game, 2999, at(2))
    assert check(at(3)) == 0
    assert entry_state() == (None, 1)
    reprice(game, 1500, at(4))
    assert check(at(5)) == 1
    assert alerts() == [(ANN, 0, 1500, None), (ANN, 1, 1500, 2999)]
    assert entry_state() == (1500, 1)


def test_it_re_arms_only_once_however_often_it_runs_above_the_target(db: str) -> None:
    game = setup_game(440, 1500)
    watch(ANN, "440", below_cents=2000)
    check(at(1))
    reprice(game, 2999, at(2))
    for hour in (3, 4, 5):
        check(at(hour))
    assert entry_state() == (None, 1)


def test_it_never_alerts_below_for_free_or_unpriced_games(db: str) -> None:
    setup_game(10, None)
    setup_game(20, 0, free=True)
    setup_game(30, 0)
    for item in ("10", "20", "30"):
        watch(ANN, item, below_cents=500)
    assert check(at(1)) == 0
    assert alerts() == []


def test_a_price_that_disappears_and_returns_does_not_repeat_the_alert(db: str) -> None:
    game = setup_game(440, 1500)
    watch(ANN, "440", below_cents=2000)
    check(at(1))
    reprice(game, None, at(2))
    check(at(3))
    reprice(game, 0, at(4), free=True)
    check(at(5))
    reprice(game, 1500, at(6))
    assert check(at(7)) == 0
    assert entry_state() == (1500, 0)


def test_the_discount_rule_alerts_at_the_minimum_discount_and_again_next_sale(db: str) -> None:
    game = setup_game(440, 2000)
    watch(ANN, "440", min_discount=50)
    reprice(game, 1200, at(1), discount=40)
    assert check(at(2)) == 0
    reprice(game, 1000, at(3), discount=50)
    assert check(at(4)) == 1
    reprice(game, 500, at(5), discount=75)
    assert check(at(6)) == 1
    reprice(game, 2000, at(7), discount=0)
    assert check(at(8)) == 0
    reprice(game, 1000, at(9), discount=50)
    assert check(at(10)) == 1
    assert alerts() == [(ANN, 0, 1000, 1200), (ANN, 0, 500, 1000), (ANN, 1, 1000, 2000)]


def test_new_low_does_not_alert_on_a_game_seen_only_once(db: str) -> None:
    setup_game(440, 999)
    watch(ANN, "440", new_low=True)
    assert check(at(1)) == 0


def test_new_low_alerts_when_the_price_is_strictly_below_every_earlier_price(db: str) -> None:
    game = setup_game(440, 1999)
    watch(ANN, "440", new_low=True)
    reprice(game, 2499, at(1))
    assert check(at(2)) == 0
    reprice(game, 1999, at(3))
    assert check(at(4)) == 0, "equal to an earlier price is not a new low"
    reprice(game, 1499, at(5))
    assert check(at(6)) == 1
    assert check(at(7)) == 0
    assert alerts() == [(ANN, 0, 1499, 1999)]


def test_new_low_does_not_alert_again_when_the_price_returns_to_the_same_low(db: str) -> None:
    game = setup_game(440, 1999)
    watch(ANN, "440", new_low=True)
    reprice(game, 1499, at(1))
    check(at(2))
    reprice(game, 1999, at(3))
    check(at(4))
    reprice(game, 1499, at(5))
    assert check(at(6)) == 0
    reprice(game, 1299, at(7))
    assert check(at(8)) == 1
    assert [(a[1], a[2]) for a in alerts()] == [(0, 1499), (1, 1299)]


def test_new_low_ignores_free_weekends_in_the_history(db: str) -> None:
    game = setup_game(440, 1999)
    watch(ANN, "440", new_low=True)
    reprice(game, 0, at(1), free=True)
    reprice(game, 1799, at(2))
    assert check(at(3)) == 1
    assert alerts() == [(ANN, 0, 1799, 1999)], "a free price is no 'was': the list price is"


def test_an_unsubscribed_subscriber_gets_no_alerts(db: str) -> None:
    setup_game(440, 1500)
    watch(ANN, "440", below_cents=2000)
    watch(BOB, "440", below_cents=2000)
    with Session.begin() as session:
        session.scalars(
            select(Subscriber).where(Subscriber.email == BOB)
        ).one().unsubscribed_at = at(0)
    assert check(at(1)) == 1
    assert [a[0] for a in alerts()] == [ANN]


def test_alerts_carry_the_run_currency_status_and_time(db: str) -> None:
    setup_game(440, 1500, currency="EUR", original=3000, discount=50)
    watch(ANN, "440", below_cents=2000)
    with Session.begin() as session:
        run = AlertRun(task_id="t-1", started_at=at(1))
        session.add(run)
        session.flush()
        run_id = run.id
    check(at(1), run_id)
    with Session() as session:
        alert = session.scalars(select(Alert)).one()
    assert (alert.currency, alert.status, alert.attempts) == ("EUR", "pending", 0)
    assert (alert.created_at, alert.alert_run_id, alert.previous_cents) == (at(1), run_id, 3000)


def test_two_watches_of_one_subscriber_alert_both_in_one_batch(db: str) -> None:
    setup_game(1, 500)
    setup_game(2, 700)
    setup_game(3, 900)
    watch(ANN, "1", below_cents=1000)
    watch(ANN, "2", below_cents=1000)
    watch(BOB, "3", below_cents=1000)
    watch("cy@example.com", "3", below_cents=100)
    assert check(at(1)) == 3
    with Session() as session:
        ids = dict(session.execute(select(Subscriber.email, Subscriber.id)).all())
        assert pending_alert_batches(session, batch_size=1, now=at(1)) == [[ids[ANN]], [ids[BOB]]]
        assert pending_alert_batches(session, batch_size=10, now=at(1)) == [[ids[ANN], ids[BOB]]]


def test_pending_batches_leave_out_sent_alerts_and_unsubscribed_people(db: str) -> None:
    setup_game(1, 500)
    watch(ANN, "1", below_cents=1000)
    watch(BOB, "1", below_cents=1000)
    watch("cy@example.com", "1", below_cents=1000)
    check(at(1))
    with Session.begin() as session:
        ids = dict(session.execute(select(Subscriber.email, Subscriber.id)).all())
        session.get_one(Subscriber, ids[BOB]).unsubscribed_at = at(2)
        for alert in session.scalars(select(Alert).where(Alert.subscriber_id == ids[ANN])):
            alert.status = "sent"
    with Session() as session:
        assert pending_alert_batches(session, batch_size=5, now=at(2)) == [[ids["cy@example.com"]]]
        with pytest.raises(ValueError):
            pending_alert_batches(session, batch_size=0, now=at(2))


def test_pending_batches_leave_out_alerts_waiting_for_a_sends_retry_until_it_is_due(
    db: str,
) -> None:
    setup_game(1, 500)
    watch(ANN, "1", below_cents=1000)
    watch(BOB, "1", below_cents=1000)
    check(at(1))
    with Session.begin() as session:
        ids = dict(session.execute(select(Subscriber.email, Subscriber.id)).all())
        for alert in session.scalars(select(Alert).where(Alert.subscriber_id == ids[ANN])):
            alert.retry_at = at(3)
    with Session() as session:
        assert pending_alert_batches(session, batch_size=5, now=at(2)) == [[ids[BOB]]]
        due = pending_alert_batches(session, batch_size=5, now=at(3))
        assert due == [sorted([ids[ANN], ids[BOB]])]


def test_a_changed_rule_re_arms_the_watch_and_the_same_rule_does_not(db: str) -> None:
    setup_game(440, 1500)
    watch(ANN, "440", below_cents=2000)
    check(at(1))
    watch(ANN, "440", below_cents=2000)
    assert check(at(2)) == 0
    watch(ANN, "440", below_cents=1600)
    assert entry_state() == (None, 1)
    assert check(at(3)) == 1
    assert [(a[1], a[2]) for a in alerts()] == [(0, 1500), (1, 1500)]


def test_a_removed_watch_stops_alerting(db: str) -> None:
    from scheduler.alerts.watchlist import remove_watch

    game = setup_game(440, 1500)
    watch(ANN, "440", below_cents=2000)
    with Session.begin() as session:
        assert remove_watch(session, ANN, "App_440") is True
        assert remove_watch(session, ANN, "App_440") is False
    reprice(game, 900, at(1))
    assert check(at(2)) == 0


def test_counts_only_alerts_inserted_by_this_pass(db: str) -> None:
    for steam_id in range(1, 6):
        setup_game(steam_id, 100 * steam_id)
        watch(ANN, str(steam_id), below_cents=300)
    assert check(at(1)) == 3
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 3


def _armed_pair() -> tuple[int, int]:
    """Two watched games already alerted at 15.00: return their ids."""
    first, second = setup_game(1, 1500), setup_game(2, 1500)
    watch(ANN, "1", below_cents=2000)
    watch(ANN, "2", below_cents=2000)
    check(at(1))
    return first, second


def _pass_while_another_is_open(when: datetime) -> tuple[int, int]:
    """Run a pass, and a second one while the first is uncommitted; return both counts."""
    first = Session()
    first.begin()
    counted = find_due_alerts(first, now=when, alert_run_id=None)
    second: dict[str, int] = {}
    thread = threading.Thread(target=lambda: second.update(n=check(when)))
    thread.start()
    thread.join(0.5)
    waited = thread.is_alive()
    first.commit()
    first.close()
    thread.join(60)
    assert waited, "the second pass should wait for the first one's transaction"
    return counted, second["n"]


def test_a_concurrent_pass_inserts_no_duplicate_of_an_uncommitted_drop(db: str) -> None:
    first, _ = _armed_pair()
    reprice(first, 999, at(2))
    assert _pass_while_another_is_open(at(3)) == (1, 0)
    assert [a[2] for a in alerts()] == [1500, 1500, 999]


def test_a_concurrent_pass_does_not_bump_the_generation_twice(db: str) -> None:
    first, second = _armed_pair()
    reprice(second, 2999, at(2))
    reprice(first, 999, at(2))
    assert _pass_while_another_is_open(at(3)) == (1, 0)
    with Session() as session:
        generations = session.scalars(select(WatchEntry.generation).order_by(WatchEntry.id))
        assert list(generations) == [0, 1]


def _bulk_watchlist(games: int, people: int, price: int = 1500) -> None:
    """Every one of `people` subscribers watches every one of `games` games ("below 20.00")."""
    with Session.begin() as session:
        for steam_id in range(1, games + 1):
            add_game(session, steam_id, 2999)
        session.execute(
            insert(Subscriber),
            [
                {
                    "email": f"p{n}@example.com",
                    "unsubscribe_token": f"token-{n}",
                    "created_at": at(0),
                    "confirmed_at": at(0),
                }
                for n in range(people)
            ],
        )
        game_ids = session.scalars(select(Game.id)).all()
        people_ids = session.scalars(select(Subscriber.id)).all()
        rules = [("below", 2000, None), ("discount", None, 40), ("new_low", None, None)]
        session.execute(
            insert(WatchEntry),
            [
                {
                    "subscriber_id": p,
                    "game_id": g,
                    "rule": rules[(p + g) % 3][0],
                    "target_cents": rules[(p + g) % 3][1],
                    "min_discount_pct": rules[(p + g) % 3][2],
                    "generation": 0,
                    "created_at": at(0),
                    "confirmed_at": at(0),
                }
                for p in people_ids
                for g in game_ids
            ],
        )
        for game in session.scalars(select(Game)):
            set_price(session, game, price, at(1), discount=50)


def _race(when: datetime) -> list[int]:
    """Run two passes at once in two threads; return their counts."""
    start = threading.Barrier(2)
    counts: list[int] = []

    def one_pass() -> None:
        start.wait()
        counts.append(check(when))

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return counts


def test_two_passes_racing_create_each_alert_once_and_re_arm_once(db: str) -> None:
    _bulk_watchlist(games=100, people=40)
    assert sum(_race(at(2))) == 4000
    with Session.begin() as session:
        for game in session.scalars(select(Game)):
            odd = game.steam_id % 2
            set_price(session, game, 2999 if odd else 1000, at(3), discount=0 if odd else 66)
    assert sum(_race(at(4))) == 20 * 100
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 6000
        generations = session.execute(
            select(WatchEntry.generation, func.count()).group_by(WatchEntry.generation)
        )
        assert sorted(generations.all()) == [(0, 2000), (1, 2000)]


def test_a_large_watchlist_takes_a_fixed_number_of_statements(db: str) -> None:
    _bulk_watchlist(games=100, people=200)
    statements: list[str] = []

    def count(conn: object, cursor: object, sql: str, *args: object) -> None:
        statements.append(sql)

    with Session.begin() as session:
        session.connection()
        event.listen(get_engine(), "before_cursor_execute", count)
        try:
            first = find_due_alerts(session, now=at(2), alert_run_id=None)
        finally:
            event.remove(get_engine(), "before_cursor_execute", count)
    assert first == 20_000
    assert len(statements) == 4  # daily digests due (none here), re-arm, insert, remember
    with Session.begin() as session:
        assert find_due_alerts(session, now=at(3), alert_run_id=None) == 0
