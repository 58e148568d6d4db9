"""Persist scraped listings: set-based upserts of games and their price history.

Every listing updates its game's title and last_seen; the price columns change, and a
price_history row is written, only for a new game or a changed price. A listing whose price
could not be read (price_ok False) keeps the stored price and writes no history.

A chunk is bulk-loaded into a temporary staging table and applied there by a few set-based
statements (scheduler.catalogue.statements), so a chunk of any size costs the same few statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from models.words import search_text
from scheduler.catalogue.parse import Listing
from scheduler.catalogue.statements import (
    FIELDS,
    STAGING,
    TITLE_LENGTH,
    postgresql_statements,
    sqlite_statements,
    staging_ddl,
    staging_insert,
)

_as_row = attrgetter(*FIELDS)
_price_ok = itemgetter(FIELDS.index("price_ok"))
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
    if not listings:
        return UpsertResult()
    # The last listing of an item wins. Rows start with their key (kind, steam_id), so sorting
    # puts them in key order: concurrent batches lock rows in one order, B-trees fill in order.
    rows = sorted({(item.kind, item.steam_id): _staged(item) for item in listings}.values())
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        # A generic plan made for a batch of 100 would be kept for one of 20,000, and the other
        # way round; a custom plan per execution costs a fraction of a millisecond.
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    conn.exec_driver_sql(staging_ddl(conn.dialect.name))
    apply = _apply_postgresql if postgres else _apply_sqlite
    params = {"currency": currency, "now": now, "run_id": run_id}
    result = UpsertResult()
    for start in range(0, len(rows), CHUNK_SIZE):
        chunk = rows[start : start + CHUNK_SIZE]
        conn.execute(STAGING.delete())  # what an earlier chunk or call in this transaction left
        new, changed = apply(conn, chunk, params)
        bad = len(chunk) - sum(map(_price_ok, chunk))
        result += UpsertResult(len(chunk), new, changed, bad)
    return result


def _staged(item: Listing) -> Row:
    """Return the staging row of a listing: its FIELDS, then the search text of what is stored."""
    return (*_as_row(item), search_text(item.title[:TITLE_LENGTH]))


def _apply_sqlite(conn: Connection, rows: list[Row], params: dict) -> tuple[int, int]:
    """Stage rows and apply them on SQLite; return (new, changed)."""
    statements = sqlite_statements()
    conn.exec_driver_sql(staging_insert("sqlite"), rows)
    conn.execute(statements["classify"], params)
    new, changed, retitled = conn.execute(statements["count"]).one()
    conn.execute(statements["upsert"], params)
    if new or changed:
        conn.execute(statements["history"], params)
    if retitled:
        conn.execute(statements["retitle"])
    return new, changed


def _apply_postgresql(conn: Connection, rows: list[Row], params: dict) -> tuple[int, int]:
    """Stage rows with COPY and apply them on PostgreSQL; return (new, changed)."""
    insert, touch, change = postgresql_statements()
    driver = conn.connection.driver_connection
    assert driver is not None  # a checked-out connection always has its DBAPI connection
    with driver.cursor() as cursor:
        with cursor.copy(staging_insert("postgresql")) as copy:
            for row in rows:
                copy.write_row(row)
    # Fresh statistics make the planner join a page of 100 and a chunk of 20,000 each its way.
    conn.exec_driver_sql(f"ANALYZE {STAGING.name}")
    new = conn.execute(insert, params).scalar_one()
    if new == len(rows):
        return new, 0
    conn.execute(touch, params)
    return new, conn.execute(change, params).scalar_one()
