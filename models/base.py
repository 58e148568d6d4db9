"""Declarative base, the engine and the session factory shared by workers, beat, web and CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    Engine,
    MetaData,
    Result,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

from models.errors import MissingDatabaseFile

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def rows_changed(result: Result[Any]) -> int:
    """Return how many rows an UPDATE or DELETE changed (0 when the driver cannot tell)."""
    return max(result.rowcount, 0) if isinstance(result, CursorResult) else 0


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


Session = sessionmaker(expire_on_commit=False)
# Sessions that only read (the web's pages, `scout status`): on SQLite they BEGIN deferred, so a
# page reads the last commit beside a running writer (WAL) instead of queueing for the write
# lock behind a scrape; on PostgreSQL they are the same as Session.
ReadSession = sessionmaker(expire_on_commit=False)
_engine: Engine | None = None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transactions into our own hands so that every one starts with BEGIN IMMEDIATE:
    # a deferred transaction that reads and then writes fails at once with "database is
    # locked" when another process committed in between, whatever the busy timeout.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: a big upsert keeps its B-trees in memory
    cursor.execute("PRAGMA temp_store=MEMORY")  # the price staging table never touches the disk
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN IMMEDIATE (see above), or a deferred BEGIN on ReadSession's read-only connections."""
    read_only = conn.get_execution_options().get("read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _open_existing(path: str) -> Any:
    """Return a do_connect listener that opens the SQLite file at path only if it exists."""
    uri = f"file:{quote(path)}?mode=rw"  # mode=rw: SQLite itself never creates the file

    def connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        if not Path(path).is_file():
            raise MissingDatabaseFile(
                f"no database file at {path}: `alembic upgrade head` (or `scout migrate`) "
                "creates it"
            )
        cargs[0], cparams["uri"] = uri, True

    return connect


def make_engine(url: str, *, create: bool = False) -> Engine:
    """Return a new Engine for url, with SQLite set up for several processes writing.

    create: a SQLite file (and its folder) that does not exist is made on first connect; only
    the migrations ask for that. Every other process, a health check above all, finds a
    missing file an error (MissingDatabaseFile) and leaves nothing behind.
    """
    if url.startswith("sqlite"):
        database = make_url(url).database
        engine = create_engine(url, pool_pre_ping=True, connect_args={"timeout": 30})
        if database and database != ":memory:" and not database.startswith("file:"):
            if create:
                Path(database).parent.mkdir(parents=True, exist_ok=True)  # the default instance/
            else:
                event.listen(engine, "do_connect", _open_existing(database))
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # A database that does not answer must fail a query in seconds, not hang a task or a check.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={"connect_timeout": 5},
    )


def configure_engine(url: str) -> Engine:
    """Bind Session to a new engine for url (disposing the old one) and return it."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = make_engine(url)
    Session.configure(bind=_engine)
    ReadSession.configure(bind=_engine.execution_options(read_only=True))
    return _engine


def get_engine() -> Engine:
    """Return the engine Session is bound to; raises RuntimeError if none is configured."""
    if _engine is None:
        raise RuntimeError("no database configured: call models.base.configure_engine first")
    return _engine
