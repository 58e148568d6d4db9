"""The SQL of the price upsert: a staging table for one batch, and the statements that apply it.

A batch is bulk-loaded into a temporary table (executemany on SQLite, COPY on PostgreSQL) and
applied with a few set-based statements, whatever its size. Each row carries its title's search
text (models.words.search_text), which games.search_title takes with the title.

SQLite has one writer at a time (every transaction is BEGIN IMMEDIATE), so it classifies first:
  classify  UPDATE staging FROM games: each known row gets its game's id and stays priced only
            if its price changed (a new row stays priced if its price could be read).
  count     new, changed and retitled rows, from the staging table alone.
  upsert    INSERT ... SELECT FROM staging ON CONFLICT DO UPDATE: new games in; title and
            last_seen of known ones; the price only where priced.
  history   one row per priced game.
  retitle   search_title of the known games whose search text changed, in a statement of its
            own: the search index's trigger (migration 0013) fires for a SET of search_title,
            and costs every unchanged row of a scrape when the upsert sets it.

PostgreSQL runs page tasks side by side, so each step decides under the row locks it holds:
  insert    INSERT ... ON CONFLICT DO NOTHING RETURNING: exactly the new games, and their history.
  touch     INSERT ... ON CONFLICT DO UPDATE of title, search_title and last_seen where the
            price stays (an unchanged search_title leaves the update HOT: no index entry). It
            locks every known game of the batch in key order, so overlapping batches cannot
            deadlock and nobody changes a price between the compare and the write.
  change    UPDATE ... FROM staging WHERE the price differs RETURNING: new prices, and history.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from models.base import UTCDateTime
from models.game import Game, PriceChange

GAMES: Table = Game.__table__  # type: ignore[assignment]
HISTORY: Table = PriceChange.__table__  # type: ignore[assignment]
PRICE_COLUMNS = ("final_cents", "original_cents", "discount_pct", "is_free", "currency")
# The Listing attributes a batch row holds, in the order of the staging table's columns.
FIELDS = (
    "kind",
    "steam_id",
    "title",
    "final_cents",
    "original_cents",
    "discount_pct",
    "is_free",
    "price_ok",
)
# A staged row: the FIELDS, then the title's search text (models.words.search_text).
LOADED = (*FIELDS, "search_title")

# Per connection; its own MetaData keeps it out of the models and of Alembic.
STAGING = Table(
    "scout_price_batch",
    MetaData(),
    Column("kind", Text, nullable=False),
    Column("steam_id", BigInteger, nullable=False),
    Column("title", Text, nullable=False),
    Column("final_cents", BigInteger),
    Column("original_cents", BigInteger),
    Column("discount_pct", Integer, nullable=False),
    Column("is_free", Boolean, nullable=False),
    # Loaded as the listing's price_ok: whether its price is to be written. SQLite's classify
    # narrows it to the known games whose price changed; PostgreSQL compares as it writes.
    Column("priced", Boolean, nullable=False),
    Column("search_title", Text, nullable=False),
    Column("game_id", Integer),  # SQLite: set by classify for a known game
    Column("retitled", Boolean),  # SQLite: set by classify, the known game's search text changes
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)
_S = STAGING.c
# The store's titles have no length limit and games.title has one. PostgreSQL rejects the whole
# statement for one overlong value while SQLite keeps it whole: cut to the column, on both.
TITLE_LENGTH: int = GAMES.c.title.type.length  # type: ignore[attr-defined]
_TITLE = func.substr(_S.title, 1, TITLE_LENGTH)
_NOW = bindparam("now", type_=UTCDateTime())
_CURRENCY = bindparam("currency", type_=Text())
_RUN_ID = bindparam("run_id", type_=Integer())
_HISTORY_COLUMNS = ["game_id", "observed_at", *PRICE_COLUMNS, "scrape_run_id"]
# A known game's columns when the staged row's price is written.
_NEW_PRICE = {
    **{name: _S[name] for name in PRICE_COLUMNS[:4]},
    "currency": _CURRENCY,
    "price_changed_at": _NOW,
}


@cache
def staging_ddl(dialect_name: str) -> str:
    """Return CREATE TEMPORARY TABLE IF NOT EXISTS for the staging table, in dialect's SQL."""
    dialect = postgresql.dialect() if dialect_name == "postgresql" else sqlite.dialect()
    return str(CreateTable(STAGING, if_not_exists=True).compile(dialect=dialect))


@cache
def staging_insert(dialect_name: str) -> str:
    """Return the driver SQL that loads LOADED rows: executemany INSERT, or COPY on PostgreSQL."""
    columns = ", ".join(column.name for column in list(STAGING.columns)[: len(LOADED)])
    if dialect_name == "postgresql":
        return f"COPY {STAGING.name} ({columns}) FROM STDIN"
    return f"INSERT INTO {STAGING.name} ({columns}) VALUES ({', '.join('?' * len(LOADED))})"


def _same_game() -> Any:
    return and_(GAMES.c.kind == _S.kind, GAMES.c.steam_id == _S.steam_id)


def _price_differs(source: Any, currency: Any) -> Any:
    """Return whether games' price differs from source's (a staged or excluded row)."""
    return or_(
        GAMES.c.currency.is_distinct_from(currency),
        *(GAMES.c[name].is_distinct_from(source[name]) for name in PRICE_COLUMNS[:4]),
    )


def _game_values() -> dict[str, Any]:
    """Return a staged row as a games row; its price (and price_changed_at) only where priced."""
    priced = _S.priced
    return {
        "kind": _S.kind,
        "steam_id": _S.steam_id,
        "title": _TITLE,
        "search_title": _S.search_title,
        "final_cents": case((priced, _S.final_cents)),
        "original_cents": case((priced, _S.original_cents)),
        "discount_pct": case((priced, _S.discount_pct), else_=0),
        "is_free": and_(priced, _S.is_free),
        "currency": _CURRENCY,
        "first_seen": _NOW,
        "last_seen": _NOW,
        "price_changed_at": case((priced, _NOW)),
    }


def _insert_from_staging(insert: Any) -> Any:
    values = _game_values()
    source = select(*(value.label(name) for name, value in values.items()))
    # SQLite needs a WHERE on INSERT ... SELECT ... ON CONFLICT to parse it. Key order, so
    # that concurrent batches take their row locks in the same order.
    source = source.where(true()).order_by(_S.kind, _S.steam_id)
    return insert(GAMES).from_select(list(values), source)


def _history_from(source: Any, where: Any = None) -> Any:
    query = select(source.c.id, _NOW, *(source.c[name] for name in PRICE_COLUMNS), _RUN_ID)
    if where is not None:
        query = query.where(where)
    return HISTORY.insert().from_select(_HISTORY_COLUMNS, query)


@cache
def sqlite_statements() -> dict[str, Any]:
    """Return SQLite's classify, count (new, changed, retitled), upsert, history and retitle."""
    known = _S.game_id.is_not(None)
    written = select(GAMES).join_from(STAGING, GAMES, _same_game()).where(_S.priced).subquery()
    return {
        "classify": update(STAGING)
        .values(
            game_id=GAMES.c.id,
            priced=and_(_S.priced, _price_differs(_S, _CURRENCY)),
            retitled=GAMES.c.search_title != _S.search_title,
        )
        .where(_same_game()),
        "count": select(
            func.count() - func.count(_S.game_id),
            func.count().filter(and_(known, _S.priced)),
            func.count().filter(_S.retitled),
        ),
        "upsert": _sqlite_upsert(),
        "history": _history_from(written),
        "retitle": update(GAMES)
        .values(search_title=_S.search_title)
        .where(GAMES.c.id == _S.game_id, _S.retitled),
    }


def _sqlite_upsert() -> Any:
    """Return the upsert of every staged row; a known game keeps its price unless priced."""
    upsert = _insert_from_staging(sqlite.insert)
    keep = upsert.excluded.price_changed_at.is_(None)
    return upsert.on_conflict_do_update(
        index_elements=[GAMES.c.kind, GAMES.c.steam_id],
        set_={
            "title": upsert.excluded.title,
            "last_seen": upsert.excluded.last_seen,
            **{
                name: case((keep, GAMES.c[name]), else_=upsert.excluded[name])
                for name in (*PRICE_COLUMNS, "price_changed_at")
            },
        },
    )


@cache
def postgresql_statements() -> tuple[Any, Any, Any]:
    """Return PostgreSQL's insert, touch and change; insert and change answer with their count."""
    inserted = (
        _insert_from_staging(postgresql.insert)
        .on_conflict_do_nothing(index_elements=[GAMES.c.kind, GAMES.c.steam_id])
        .returning(GAMES.c.id, *(GAMES.c[name] for name in PRICE_COLUMNS), GAMES.c.price_changed_at)
        .cte("inserted")
    )
    insert = _counted(inserted, _history_from(inserted, inserted.c.price_changed_at.is_not(None)))

    touch = _insert_from_staging(postgresql.insert)
    new = touch.excluded
    changing = and_(new.price_changed_at.is_not(None), _price_differs(new, new.currency))
    same_as_now = and_(GAMES.c.last_seen == new.last_seen, GAMES.c.title == new.title)
    touch = touch.on_conflict_do_update(
        index_elements=[GAMES.c.kind, GAMES.c.steam_id],
        set_={"title": new.title, "search_title": new.search_title, "last_seen": new.last_seen},
        where=not_(or_(changing, same_as_now)),
    )

    changed = (
        update(GAMES)
        .values(
            title=_TITLE,
            search_title=_S.search_title,
            last_seen=_NOW,
            **_NEW_PRICE,
        )
        .where(_same_game(), _S.priced, _price_differs(_S, _CURRENCY))
        .returning(GAMES.c.id, *(GAMES.c[name] for name in PRICE_COLUMNS))
        .cte("changed")
    )
    return insert, touch, _counted(changed, _history_from(changed))


def _counted(written: Any, history: Any) -> Any:
    """Return SELECT count(*) FROM written, running history (built on written) along with it."""
    return select(func.count()).select_from(written).add_cte(history.cte("history"))
