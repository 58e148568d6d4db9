"""Persist scraped listings: set-based upserts of games and their price history.

Every listing updates its game's title and last_seen; the price columns change, and a
price_history row is written, only for a new game or a changed price. A listing whose price
could not be read (price_ok False) keeps the stored price and writes no history.

A chunk travels to the database as one JSON parameter, built once, and is read there as a table
(json_each on SQLite, json_to_recordset on PostgreSQL), so a chunk of any size costs at most four
statements (compare, two upserts, history; on PostgreSQL the history rides on the priced upsert)
and no bound-parameter limit applies. The compare answers with one string, not a row per game.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from models.game import PriceChange
from scheduler.parse import Listing
from scheduler.prices_sql import FIELDS, compare_statement, priced_statements, upsert_statement

_as_row = attrgetter(*FIELDS)
# Rows per round of statements: bounds memory and how long a transaction holds row locks.
CHUNK_SIZE = 20_000

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
    payload = _payload(dialect, rows)
    stored = _compare_prices(conn, payload, currency, len(rows))
    priced: list[Row] = []
    plain: list[Row] = []
    new = changed = bad = 0
    for item, row, differs in zip(chunk, rows, stored, strict=True):
        is_new = differs is None
        new += is_new
        bad += not item.price_ok
        if item.price_ok and (is_new or differs):
            changed += not is_new
            priced.append(row)
        else:
            plain.append(row)
    params = {"currency": currency, "now": now, "run_id": run_id}
    # The whole chunk's payload serves a statement that takes every row, the common case.
    if plain:
        rows_of = payload if not priced else _payload(dialect, plain)
        conn.execute(upsert_statement(dialect, with_price=False), {"rows": rows_of, **params})
    if priced:
        rows_of = payload if not plain else _payload(dialect, priced)
        for statement in priced_statements(dialect):
            conn.execute(statement, {"rows": rows_of, **params})
    return UpsertResult(len(chunk), new, changed, bad)


def _compare_prices(conn: Connection, payload: str, currency: str, size: int) -> list[int | None]:
    """Return, for each row of the payload, whether its stored price differs (1, 0; None: new)."""
    params = {"rows": payload, "currency": currency}
    codes = conn.execute(compare_statement(conn.dialect.name), params).scalar()
    stored: list[int | None] = [None] * size
    for code in map(int, codes.split(",") if codes else ()):
        stored[code >> 1] = code & 1
    return stored


def _payload(dialect: str, rows: list[Row]) -> str:
    """Return rows as the JSON the batch table reads: objects on PostgreSQL, arrays on SQLite."""
    if dialect == "postgresql":
        objects = [dict(zip(FIELDS, row, strict=False), idx=i) for i, row in enumerate(rows)]
        return json.dumps(objects, separators=(",", ":"))
    return json.dumps(rows, separators=(",", ":"))


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
