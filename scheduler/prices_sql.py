"""The SQL of scheduler.prices: a JSON batch read as a table, and the statements that use it."""

from __future__ import annotations

from functools import cache
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
    case,
    cast,
    column,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite

from models.base import UTCDateTime
from models.game import Game, PriceChange

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


def batch_table(dialect: str) -> FromClause:
    """Return the :rows JSON parameter as a table with the columns of FIELDS (missing is NULL)."""
    rows = bindparam("rows", type_=String())
    if dialect == "postgresql":
        return (
            func.json_to_recordset(cast(rows, postgresql.JSON))
            .table_valued(
                *(column(name, type_) for name, type_ in FIELDS.items()), column("idx", Integer())
            )
            .render_derived(name="batch", with_types=True)
        )
    each = func.json_each(rows).table_valued("key", "value").alias("each_row")
    return select(
        *(
            type_coerce(func.json_extract(each.c.value, f"$[{i}]"), type_).label(name)
            for i, (name, type_) in enumerate(FIELDS.items())
        ),
        type_coerce(each.c.key, Integer()).label("idx"),
    ).subquery("batch")


def _same_game(batch: FromClause) -> Any:
    return and_(GAMES.c.kind == batch.c.kind, GAMES.c.steam_id == batch.c.steam_id)


@cache
def compare_statement(dialect: str) -> Any:
    """Return one string: 2 * idx + price-differs of each of the batch's stored games, joined."""
    batch = batch_table(dialect)
    differs = or_(
        GAMES.c.currency.is_distinct_from(bindparam("currency", type_=String())),
        *(GAMES.c[name].is_distinct_from(batch.c[name]) for name in PRICE_COLUMNS[:4]),
    )
    code = batch.c.idx * 2 + case((differs, 1), else_=0)
    query = select(code.label("code")).join_from(batch, GAMES, _same_game(batch))
    if dialect == "postgresql":
        # Lock the rows, in one order, so a concurrent batch cannot change a price in between.
        query = query.order_by(GAMES.c.id).with_for_update(of=GAMES)
    codes = query.subquery("stored")
    return select(func.aggregate_strings(cast(codes.c.code, String()), ","))


@cache
def upsert_statement(dialect: str, *, with_price: bool) -> Any:
    """Return INSERT ... SELECT FROM the batch ON CONFLICT DO UPDATE, prices set only with_price."""
    batch = batch_table(dialect)
    now = bindparam("now", type_=UTCDateTime())
    values = {
        "kind": batch.c.kind,
        "steam_id": batch.c.steam_id,
        "title": batch.c.title,
        # A new game upserted without its price is one whose price could not be read.
        "final_cents": batch.c.final_cents if with_price else null(),
        "original_cents": batch.c.original_cents if with_price else null(),
        "discount_pct": func.coalesce(batch.c.discount_pct, 0) if with_price else literal(0),
        "is_free": func.coalesce(batch.c.is_free, False) if with_price else false(),
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
def priced_statements(dialect: str) -> tuple[Any, ...]:
    """Return the statements that upsert the batch with its prices and write its history."""
    upsert = upsert_statement(dialect, with_price=True)
    columns = ["game_id", "observed_at", *PRICE_COLUMNS, "scrape_run_id"]
    now = bindparam("now", type_=UTCDateTime())
    run_id = cast(bindparam("run_id", type_=Integer()), Integer())
    if dialect == "postgresql":
        # One statement: the history rows come from the upsert's RETURNING, not a second join.
        written = upsert.returning(GAMES.c.id, *(GAMES.c[name] for name in PRICE_COLUMNS))
        written = written.cte("written")
        source = select(written.c.id, now, *(written.c[name] for name in PRICE_COLUMNS), run_id)
        return (HISTORY.insert().from_select(columns, source),)
    batch = batch_table(dialect)
    source = select(GAMES.c.id, now, *(GAMES.c[name] for name in PRICE_COLUMNS), run_id).join_from(
        batch, GAMES, _same_game(batch)
    )
    return upsert, HISTORY.insert().from_select(columns, source)
