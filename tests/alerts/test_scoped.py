"""The due-alerts pass for chosen games: what the price refresh runs for the games it changed."""

from __future__ import annotations

from sqlalchemy import select

from models import Alert, Session, WatchEntry
from scheduler.alerts.scoped import find_due_alerts_for
from scheduler.alerts.watchlist import add_watch, find_due_alerts, subscribe
from tests.support.catalogue import add_game, at, set_price


def test_only_the_given_games_are_judged_and_a_second_pass_adds_nothing(db) -> None:
    with Session.begin() as session:
        games = [add_game(session, steam_id, 1999) for steam_id in (10, 20)]
        subscribe(session, "ann@example.com")
        for game in games:
            add_watch(session, "ann@example.com", f"App_{game.steam_id}", below_cents=1500)
        for game in games:
            set_price(session, game, 999, at(1), original=1999, discount=50)
        assert find_due_alerts_for(session, [games[0].id], now=at(1), alert_run_id=None) == 1
        assert find_due_alerts_for(session, [games[0].id], now=at(1), alert_run_id=None) == 0
        assert find_due_alerts_for(session, [], now=at(1), alert_run_id=None) == 0
        alerted = session.scalars(select(Alert.game_id)).all()
        assert alerted == [games[0].id]
        rows = session.execute(select(WatchEntry.game_id, WatchEntry.last_alert_cents)).all()
        remembered = {game_id: cents for game_id, cents in rows}
        assert remembered == {games[0].id: 999, games[1].id: None}
        # The hourly global pass still finds the other game, and nothing twice.
        assert find_due_alerts(session, now=at(2), alert_run_id=None) == 1


def test_a_game_back_above_its_target_re_arms_only_when_given(db) -> None:
    with Session.begin() as session:
        game = add_game(session, 30, 999)
        subscribe(session, "bob@example.com")
        add_watch(session, "bob@example.com", "App_30", below_cents=1500)
        assert find_due_alerts_for(session, [game.id], now=at(1), alert_run_id=None) == 1
        set_price(session, game, 1999, at(2))
        set_price(session, game, 999, at(3), original=1999, discount=50)
        assert find_due_alerts_for(session, [game.id], now=at(3), alert_run_id=None) == 0
        set_price(session, game, 1999, at(4))
        find_due_alerts_for(session, [game.id], now=at(4), alert_run_id=None)
        set_price(session, game, 999, at(5), original=1999, discount=50)
        assert find_due_alerts_for(session, [game.id], now=at(5), alert_run_id=None) == 1
