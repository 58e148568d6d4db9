"""One subscriber's own watchlist: every read and change here is scoped to a subscriber id.

A watch id from a form is only ever looked up together with the subscriber it must belong to,
so a guessed id of somebody else's watch finds nothing (NotYours), exactly like an id that does
not exist. Helpers take the session as first argument and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.alert import Alert, WatchEntry
from models.base import utcnow
from models.game import Game, item_key
from scheduler.alerts.inputs import UnknownItemError, WatchError, parse_item
from scheduler.alerts.render import format_money
from scheduler.catalogue.history import lowest_prices

Rule = tuple[str, int | None, int | None]  # (rule, target_cents, min_discount_pct)


class NotYours(WatchError):
    """No watch with this id belongs to this subscriber."""


@dataclass(frozen=True)
class WatchRow:
    """One watch as the watchlist page shows it; prices in minor units of currency."""

    id: int
    item: str
    title: str
    rule: str
    target_cents: int | None
    min_discount_pct: int | None
    currency: str
    final_cents: int | None
    discount_pct: int
    is_free: bool
    paused: bool
    lowest_cents: int | None
    lowest_at: datetime | None
    last_alert_cents: int | None
    last_alert_at: datetime | None


def find_game(session: Session, item: str) -> Game:
    """Return the catalogue's game for item; raises UnknownItemError when it is not there."""
    kind, steam_id = parse_item(item)
    game = session.scalars(select(Game).where(Game.kind == kind, Game.steam_id == steam_id)).first()
    if game is None:
        raise UnknownItemError(
            f"{item_key(kind, steam_id)} is not in the catalogue "
            "(check the id, or scrape the store first)"
        )
    return game


def set_rule(entry: WatchEntry, rule: Rule) -> None:
    """Give entry this rule; a changed rule re-arms it, so the next drop is a new one."""
    name, target, discount = rule
    if (entry.rule, entry.target_cents, entry.min_discount_pct) == (name, target, discount):
        return
    entry.rule, entry.target_cents, entry.min_discount_pct = name, target, discount
    entry.last_alert_cents = None
    entry.generation = WatchEntry.generation + 1


def watch_game(session: Session, subscriber_id: int, game: Game, rule: Rule) -> WatchEntry:
    """Watch game for the subscriber with rule; a watch it already has gets the new rule."""
    entry = session.scalars(
        select(WatchEntry).where(
            WatchEntry.subscriber_id == subscriber_id, WatchEntry.game_id == game.id
        )
    ).first()
    if entry is None:
        name, target, discount = rule
        entry = WatchEntry(
            subscriber_id=subscriber_id,
            game_id=game.id,
            rule=name,
            target_cents=target,
            min_discount_pct=discount,
            generation=0,
            created_at=utcnow(),
        )
        session.add(entry)
    else:
        set_rule(entry, rule)
    session.flush()
    return entry


def watch_games(
    session: Session, subscriber_id: int, game_ids: list[int], rule: Rule, source: str
) -> set[int]:
    """Watch every game of game_ids the subscriber does not watch yet, with rule, in one
    statement; return the ids of the games watched now. A watch the subscriber has keeps its
    rule, even one added between our read and this write (ON CONFLICT DO NOTHING)."""
    if not game_ids:
        return set()
    name, target, discount = rule
    dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    now = utcnow()
    rows = [
        {
            "subscriber_id": subscriber_id,
            "game_id": game_id,
            "rule": name,
            "target_cents": target,
            "min_discount_pct": discount,
            "generation": 0,
            "created_at": now,
            "source": source,
        }
        for game_id in game_ids
    ]
    statement = (
        dialect.insert(WatchEntry)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[WatchEntry.subscriber_id, WatchEntry.game_id])
        .returning(WatchEntry.game_id)
    )
    return set(session.scalars(statement))


def _own(session: Session, subscriber_id: int, watch_id: int) -> WatchEntry:
    entry = session.scalars(
        select(WatchEntry)
        .where(WatchEntry.id == watch_id, WatchEntry.subscriber_id == subscriber_id)
        .with_for_update()
    ).first()
    if entry is None:
        raise NotYours("there is no such watch on your list")
    return entry


def change_rule(session: Session, subscriber_id: int, watch_id: int, rule: Rule) -> WatchEntry:
    """Give one of the subscriber's watches a new rule; raises NotYours."""
    entry = _own(session, subscriber_id, watch_id)
    set_rule(entry, rule)
    session.flush()
    return entry


def set_paused(session: Session, subscriber_id: int, watch_id: int, paused: bool) -> WatchEntry:
    """Pause (its alerts not yet sent are skipped) or resume a watch; raises NotYours."""
    entry = _own(session, subscriber_id, watch_id)
    if paused and entry.paused_at is None:
        entry.paused_at = utcnow()
        session.execute(
            update(Alert)
            .where(Alert.watch_entry_id == entry.id, Alert.status == "pending")
            .values(status="skipped", last_error="paused")
        )
    elif not paused:
        entry.paused_at = None
    session.flush()
    return entry


def remove(session: Session, subscriber_id: int, watch_id: int) -> str:
    """Stop one of the subscriber's watches (its alerts go too); return its title. NotYours."""
    entry = _own(session, subscriber_id, watch_id)
    title = session.get_one(Game, entry.game_id).title
    session.execute(
        delete(WatchEntry).where(
            WatchEntry.id == watch_id, WatchEntry.subscriber_id == subscriber_id
        )
    )
    return title


def last_alerts(session: Session, watch_ids: list[int]) -> dict[int, tuple[int, datetime]]:
    """Return the price and time of the last alert sent for each of these watches."""
    if not watch_ids:
        return {}
    rows = session.execute(
        select(Alert.watch_entry_id, Alert.trigger_cents, Alert.sent_at)
        .where(Alert.watch_entry_id.in_(watch_ids), Alert.status == "sent")
        .order_by(Alert.watch_entry_id, Alert.sent_at)
    ).all()
    return {watch_id: (cents, at) for watch_id, cents, at in rows if at is not None}


def watch_rows(session: Session, subscriber_id: int) -> list[WatchRow]:
    """Return the subscriber's watches with prices, lows and last alerts, by title."""
    # Columns, not (WatchEntry, Game) objects: 500 watches would build 1,000 ORM objects.
    rows = session.execute(
        select(
            WatchEntry.id,
            WatchEntry.game_id,
            Game.kind,
            Game.steam_id,
            Game.title,
            WatchEntry.rule,
            WatchEntry.target_cents,
            WatchEntry.min_discount_pct,
            Game.currency,
            Game.final_cents,
            Game.discount_pct,
            Game.is_free,
            WatchEntry.paused_at,
        )
        .join(Game, Game.id == WatchEntry.game_id)
        .where(WatchEntry.subscriber_id == subscriber_id)
        .order_by(func.lower(Game.title), Game.id)
    ).all()
    watched = select(WatchEntry.game_id).where(WatchEntry.subscriber_id == subscriber_id)
    lows = lowest_prices(session, watched)  # one query, not one a game
    alerted = last_alerts(session, [row.id for row in rows])
    watches = []
    for row in rows:
        low = lows.get(row.game_id)
        last_cents, last_at = alerted.get(row.id, (None, None))
        watches.append(
            WatchRow(
                id=row.id,
                item=item_key(row.kind, row.steam_id),
                title=row.title,
                rule=row.rule,
                target_cents=row.target_cents,
                min_discount_pct=row.min_discount_pct,
                currency=row.currency,
                final_cents=row.final_cents,
                discount_pct=row.discount_pct,
                is_free=row.is_free,
                paused=row.paused_at is not None,
                lowest_cents=low.cents if low else None,
                lowest_at=low.at if low else None,
                last_alert_cents=last_cents,
                last_alert_at=last_at,
            )
        )
    return watches


def target_warning(session: Session, game: Game, rule: Rule) -> str | None:
    """Return a warning when a target price is below every price the game was ever seen at."""
    name, target, _ = rule
    if name != "below" or target is None:
        return None
    low = lowest_prices(session, [game.id]).get(game.id)
    if low is None or target >= low.cents:
        return None
    return (
        f"{format_money(target, game.currency)} is below the lowest price {game.title} was ever "
        f"seen at ({format_money(low.cents, game.currency)} on {low.at:%Y-%m-%d}): "
        "it may never be met"
    )


def game_of(session: Session, entry: WatchEntry) -> Game:
    """Return the game a watch is on."""
    return session.get_one(Game, entry.game_id)
