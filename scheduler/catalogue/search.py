"""Find games by title: each query word starts a word of the title; case and accents ignored.

The words come from models.words on both sides, and migration 0013 indexes them: an FTS5 table
on SQLite, a GIN index on PostgreSQL. Ranking: titles that start with the query's words first,
then the rest; within each, shorter titles first, then the older game (stable).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, bindparam, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from models.game import Game
from models.words import search_words

# A query with more distinct words finds nothing: no title has that many, and it bounds the work.
MAX_QUERY_WORDS = 32
# FTS5 rowid: length(search_title) << 32 | id (migration 0013), so its order is the ranking.
_ID_MASK = 0xFFFFFFFF
_SQLITE_SEARCH = text(
    """
    SELECT games.* FROM (
        SELECT key, min(grp) AS grp FROM (
            SELECT * FROM (
                SELECT rowid AS key, 0 AS grp FROM games_search
                WHERE games_search MATCH :title_prefix ORDER BY rowid LIMIT :limit
            )
            UNION ALL
            SELECT * FROM (
                SELECT rowid AS key, 1 AS grp FROM games_search
                WHERE games_search MATCH :all_words ORDER BY rowid LIMIT :limit * 2
            )
        ) GROUP BY key
    ) AS ranked
    JOIN games ON games.id = ranked.key & :id_mask
    ORDER BY ranked.grp, ranked.key
    LIMIT :limit
    """
)
# The expression of PostgreSQL's index, word for word: literals, not parameters, so that every
# plan (a prepared statement's generic one too) can use the index.
_PG_WORDS: ColumnElement[Any] = literal_column(
    "array_to_tsvector(array_remove(string_to_array(games.search_title, ' '), ''))"
)


def query_words(query: str) -> list[str]:
    """Return the query's distinct folded words in order; [] when it has none or too many."""
    words = list(dict.fromkeys(search_words(query)))
    return words if len(words) <= MAX_QUERY_WORDS else []


def search_games(session: Session, query: str, *, limit: int = 20) -> list[Game]:
    """Return up to limit games whose title has a word starting with each word of the query.

    Best first (see the module). An empty query, or one of punctuation only, finds nothing.
    Raises ValueError for a limit below 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    words = query_words(query)
    if not words:
        return []
    # The title starts with the query: its words in order, the last one a prefix.
    start = " ".join(search_words(query))
    if session.connection().dialect.name == "postgresql":
        return _search_postgresql(session, words, start, limit)
    return _search_sqlite(session, words, start, limit)


def _fts_string(text: str) -> str:
    """Return text as an FTS5 string: quoted, so no word is ever an operator."""
    return '"' + text.replace('"', '""') + '"'


def _search_sqlite(session: Session, words: list[str], start: str, limit: int) -> list[Game]:
    params = {
        "title_prefix": f"^{_fts_string(start)}*",
        "all_words": " AND ".join(f"{_fts_string(word)}*" for word in words),
        "limit": limit,
        "id_mask": _ID_MASK,
    }
    return list(session.scalars(select(Game).from_statement(_SQLITE_SEARCH), params))


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _tsquery(words: list[str]) -> str:
    """Return tsquery input asking for a lexeme starting with each word (quoted, escaped)."""
    quoted = ("'" + word.replace("\\", "\\\\").replace("'", "''") + "':*" for word in words)
    return " & ".join(quoted)


def _search_postgresql(session: Session, words: list[str], start: str, limit: int) -> list[Game]:
    matches: ColumnElement[Any] = _PG_WORDS.op("@@", return_type=Boolean)(
        bindparam("words", _tsquery(words), type_=TSQUERY)
    )
    starts = Game.search_title.like(bindparam("start", _like_prefix(start)), escape="\\")
    query = (
        select(Game)
        .where(matches)
        .order_by(starts.desc(), func.length(Game.search_title), Game.id)
        .limit(limit)
    )
    return list(session.scalars(query))
