"""Database errors in words: is the database out of reach, or is its schema not migrated?

Every process meets an unreachable or unmigrated database as an expected failure and says so in
one line (never a traceback, never the SQL or its parameters): these helpers tell the two apart
and give that line.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# PostgreSQL's undefined_table and undefined_column.
MISSING_SCHEMA_STATES = frozenset({"42P01", "42703"})
SQLITE_MISSING_SCHEMA = ("no such table", "no such column", "has no column named")
LINE_LIMIT = 200


class MissingDatabaseFile(sqlite3.OperationalError):
    """A SQLite database file that does not exist, opened by a process that must not create it."""


def schema_missing(exc: BaseException) -> bool:
    """Return True when exc says a table or column is missing: the schema is not migrated."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) in MISSING_SCHEMA_STATES:
        return True
    text = str(orig)
    return isinstance(orig, sqlite3.Error) and any(part in text for part in SQLITE_MISSING_SCHEMA)


def database_missing(exc: BaseException) -> bool:
    """Return True when exc says the SQLite database file does not exist (nothing migrated it)."""
    return isinstance(getattr(exc, "orig", None) or exc, MissingDatabaseFile)


def unreachable(exc: BaseException) -> bool:
    """Return True for an error a later try may cure: the database down, restarting or locked."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def expected(exc: BaseException) -> bool:
    """Return True for a database error worth one line, not a traceback: out of reach or
    not migrated (a bug in a statement is neither)."""
    return isinstance(exc, SQLAlchemyError) and (unreachable(exc) or schema_missing(exc))


def one_line(exc: BaseException) -> str:
    """Return the driver's message as one short line, without the SQL and its parameters."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    return text if len(text) <= LINE_LIMIT else text[: LINE_LIMIT - 3] + "..."


def describe(exc: BaseException) -> str:
    """Return 'database unavailable (...)' or 'database not migrated (...)' for exc."""
    state = "not migrated" if schema_missing(exc) or database_missing(exc) else "unavailable"
    return f"database {state} ({one_line(exc)})"
