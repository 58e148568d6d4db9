"""Persist scraped listings: set-based upserts of games and their price history.

Every listing updates its game's title and last_seen; the price columns change, and a
price_history row is written, only for a new game or a changed price. A listing whose price
could not be read (price_ok False) keeps the stored price and writes no history.

A batch travels to the database as one JSON parameter per statement and is read there as a table
(json_each on SQLite, json_to_recordset on PostgreSQL), so a chunk of any size costs at most four
statements (compare, two upserts, history) and no bound-parameter limit applies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    FromClause,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    cast,
    column,
    func,
    null,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from models.base import UTCDateTime
from models.game import Game, PriceChange
from scheduler.parse import Listing

GAMES: Table = Game.__table__  # type: ignore[assignment]
HISTORY: Table = PriceChange.__table__  # type: ignore[assignment]
PRICE_COLUMNS = ("final_cents", "original_cents", "discount_pct", "is_free", "currency")
# The fields of a batch row, in order: Listing attributes, with their SQL types.
FIELDS = {
    "kind": String(6),
    "steam_id": BigInteger(),
    "title": String(500),
    "final_cents": BigInteger(),
    "original_cents": BigInteger(),
    "discount_pct": Integer(),
    "is_free": Boolean(),
}
_as_row = attrgetter(*FIELDS)
# Rows per round of statements: bounds memory and how long a transaction holds row locks.
CHUNK_SIZE = 20_000

Key = tuple[str, int]
Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """Counts of one upsert: distinct items, new, repriced, and without a readable price."""

    seen: int = 0
    new: int = 0
    changed: int = 0
    bad: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def upsert_listings(
    session: Session,
    listings: Sequence[Listing],
    *,
    currency: str,
    run_id: int | None,
    now: datetime,
) -> UpsertResult:
    """Upsert listings' games and write history for new and repriced ones; returns the counts."""
    latest = {(item.kind, item.steam_id): item for item in listings}
    # Sorted keys make concurrent batches take row locks in one order, so they cannot deadlock.
    unique = [latest[key] for key in sorted(latest)]
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # psycopg prepares repeated statements; a generic plan made while games was small would
        # keep scanning the whole table as it grows, until the next ANALYZE.
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    result = UpsertResult()
    for start in range(0, len(unique), CHUNK_SIZE):
        chunk = unique[start : start + CHUNK_SIZE]
        result += _upsert_chunk(conn, chunk, currency=currency, run_id=run_id, now=now)
    return result


def _upsert_chunk(
    conn: Connection, chunk: list[Listing], *, currency: str, run_id: int | None, now: datetime
) -> UpsertResult:
    dialect = conn.dialect.name
    rows = [_as_row(item) for item in chunk]
    repriced = _compare_prices(conn, rows, currency)
    priced: list[Row] = []
    plain: list[Row] = []
    new = changed = bad = 0
    for item, row in zip(chunk, rows, strict=True):
        is_new = (item.kind, item.steam_id) not in repriced
        new += is_new
        bad += not item.price_ok
        if item.price_ok and (is_new or repriced[(item.kind, item.steam_id)]):
            changed += not is_new
            priced.append(row)
        else:
            plain.append(row[:3])
    params = {"currency": currency, "now": now, "run_id": run_id}
    if plain:
        conn.execute(
            _upsert_statement(dialect, with_price=False),
            {"rows": _payload(dialect, plain), **params},
        )
    if priced:
        payload = _payload(dialect, priced)
        conn.execute(_upsert_statement(dialect, with_price=True), {"rows": payload, **params})
        conn.execute(_history_statement(dialect), {"rows": payload, **params})
    return UpsertResult(len(chunk), new, changed, bad)


def _compare_prices(conn: Connection, rows: list[Row], currency: str) -> dict[Key, bool]:
    """Return, for each stored game of rows, whether its price differs from the row's."""
    params = {"rows": _payload(conn.dialect.name, rows), "currency": currency}
    result = conn.execute(_compare_statement(conn.dialect.name), params)
    return {(kind, steam_id): bool(differs) for kind, steam_id, differs in result}


def _payload(dialect: str, rows: list[Row]) -> str:
    """Return rows as the JSON the batch table reads: objects on PostgreSQL, arrays on SQLite."""
    if dialect == "postgresql":
        return json.dumps(
            [dict(zip(FIELDS, row, strict=False)) for row in rows], separators=(",", ":")
        )
    return json.dumps(rows, separators=(",", ":"))


def _batch(dialect: str) -> FromClause:
    """Return the :rows JSON parameter as a table with the columns of FIELDS (missing is NULL)."""
    rows = bindparam("rows", type_=String())
    if dialect == "postgresql":
        return (
            func.json_to_recordset(cast(rows, postgresql.JSON))
            .table_valued(*(column(name, type_) for name, type_ in FIELDS.items()))
            .render_derived(name="batch", with_types=True)
        )
    each = func.json_each(rows).table_valued("value").alias("each_row")
    return select(
        *(
            type_coerce(func.json_extract(each.c.value, f"$[{i}]"), type_).label(name)
            for i, (name, type_) in enumerate(FIELDS.items())
        )
    ).subquery("batch")


def _same_game(batch: FromClause) -> Any:
    return and_(GAMES.c.kind == batch.c.kind, GAMES.c.steam_id == batch.c.steam_id)


@cache
def _compare_statement(dialect: str) -> Any:
    """Return SELECT kind, steam_id, price-differs of the batch's stored games."""
    batch = _batch(dialect)
    differs = or_(
        GAMES.c.currency.is_distinct_from(bindparam("currency", type_=String())),
        *(GAMES.c[name].is_distinct_from(batch.c[name]) for name in PRICE_COLUMNS[:4]),
    )
    query = select(GAMES.c.kind, GAMES.c.steam_id, differs).join_from(
        batch, GAMES, _same_game(batch)
    )
    if dialect == "postgresql":
        # Lock the rows, in one order, so a concurrent batch cannot change a price in between.
        query = query.order_by(GAMES.c.id).with_for_update(of=GAMES)
    return query


@cache
def _upsert_statement(dialect: str, *, with_price: bool) -> Any:
    """Return INSERT ... SELECT FROM the batch ON CONFLICT DO UPDATE, prices set only with_price."""
    batch = _batch(dialect)
    now = bindparam("now", type_=UTCDateTime())
    values = {
        "kind": batch.c.kind,
        "steam_id": batch.c.steam_id,
        "title": batch.c.title,
        "final_cents": batch.c.final_cents,
        "original_cents": batch.c.original_cents,
        "discount_pct": func.coalesce(batch.c.discount_pct, 0),
        "is_free": func.coalesce(batch.c.is_free, False),
        "currency": bindparam("currency", type_=String()),
        "first_seen": now,
        "last_seen": now,
        "price_changed_at": now if with_price else cast(null(), UTCDateTime()),
    }
    # SQLite needs a WHERE on INSERT ... SELECT ... ON CONFLICT to parse it.
    source = select(*(value.label(name) for name, value in values.items())).where(true())
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(GAMES).from_select(list(values), source)
    updated = ["title", "last_seen"] + ([*PRICE_COLUMNS, "price_changed_at"] if with_price else [])
    return stmt.on_conflict_do_update(
        index_elements=[GAMES.c.kind, GAMES.c.steam_id],
        set_={name: stmt.excluded[name] for name in updated},
    )


@cache
def _history_statement(dialect: str) -> Any:
    """Return INSERT INTO price_history of the batch's games at their just-written price."""
    batch = _batch(dialect)
    source = select(
        GAMES.c.id,
        bindparam("now", type_=UTCDateTime()),
        *(GAMES.c[name] for name in PRICE_COLUMNS),
        cast(bindparam("run_id", type_=Integer()), Integer()),
    ).join_from(batch, GAMES, _same_game(batch))
    return HISTORY.insert().from_select(
        ["game_id", "observed_at", *PRICE_COLUMNS, "scrape_run_id"], source
    )


def lowest_price(session: Session, game_id: int) -> tuple[int, datetime] | None:
    """Return the lowest paid price ever seen for a game and when it was first at it, or None."""
    row = session.execute(
        select(PriceChange.final_cents, PriceChange.observed_at)
        .where(
            PriceChange.game_id == game_id,
            PriceChange.final_cents.is_not(None),
            PriceChange.is_free.is_(False),
        )
        .order_by(PriceChange.final_cents, PriceChange.observed_at)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def price_history_for(session: Session, game_id: int) -> list[PriceChange]:
    """Return a game's recorded prices, oldest first."""
    return list(
        session.scalars(
            select(PriceChange)
            .where(PriceChange.game_id == game_id)
            .order_by(PriceChange.observed_at, PriceChange.id)
        )
    )
