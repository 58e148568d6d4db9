"""Search and game pages: find a game by title, see its price history, watch it from there.

Everything comes from our own catalogue and price_history (scheduler.catalogue.search, history),
never from the store: a page view costs the store nothing. The chart is drawn on the server
(scheduler.web.chart) and the rule form posts to the watchlist's own view.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from models import ReadSession, WatchEntry, utcnow
from scheduler.alerts.inputs import UnknownItemError
from scheduler.alerts.personal import find_game
from scheduler.catalogue.history import game_prices, lowest_prices
from scheduler.catalogue.search import search_games
from scheduler.context import current_config
from scheduler.web.chart import change_rows, price_chart
from scheduler.web.forms import WatchForm

bp = Blueprint("games", __name__)
RESULTS = 50
MAX_QUERY = 200  # characters of a query kept; longer ones are cut, never refused
GOOD_DEAL = 1.05  # within 5% of the lowest price ever seen (camelcamelcamel's "good deal")


@bp.get("/search")
def search() -> str:
    """Games whose title has a word starting with each word typed; best first."""
    query = " ".join(request.args.get("q", "")[:MAX_QUERY].split())
    games, lows = [], {}
    if query:
        with ReadSession() as db:
            games = search_games(db, query, limit=RESULTS)
            lows = lowest_prices(db, [game.id for game in games])
    return render_template(
        "search.html", query=query, games=games, lows=lows, more=len(games) == RESULTS
    )


@bp.get("/games/<itemkey>")
def show(itemkey: str) -> str:
    """A game's price, discount, lowest price and when, its chart, and the person's rule."""
    try:
        with ReadSession() as db:
            game = find_game(db, itemkey[:40])
            prices = game_prices(db, game)
            watch = _watch_of(db, game.id)
    except UnknownItemError:
        abort(404)
    if itemkey != game.itemkey:  # App_440, app/440, 440 ... one address per game
        abort(404)
    form = WatchForm(item=game.itemkey, next=url_for("games.show", itemkey=game.itemkey))
    if watch is not None:
        form.rule.data = watch.rule
    low = prices.lowest
    good = (
        low is not None
        and prices.final_cents is not None
        and not prices.is_free
        and prices.final_cents <= low.cents * GOOD_DEAL
    )
    chart = price_chart(
        prices.changes, currency=prices.currency, now=utcnow(), title=game.title, lowest=low
    )
    return render_template(
        "game.html",
        game=game,
        prices=prices,
        good_deal=good,
        chart=Markup(chart),  # noqa: S704  price_chart escapes every string it writes
        rows=change_rows(prices.changes, prices.currency),
        watch=watch,
        form=form,
        store_url=f"{current_config().store_url}{game.store_path}",
    )


def _watch_of(db: OrmSession, game_id: int) -> WatchEntry | None:
    """The signed-in person's watch on this game, or None (signed out, or not watched)."""
    if g.account is None:
        return None
    return db.scalars(
        select(WatchEntry).where(
            WatchEntry.subscriber_id == g.account.id, WatchEntry.game_id == game_id
        )
    ).first()
