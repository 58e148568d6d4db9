"""games.search_title and the catalogue's search index

Search finds games by word prefixes, case, accents and punctuation ignored. The title's folded
words (models.words.search_text, the same Python function on both backends) are stored in
games.search_title, written with the title by the scrape's upsert; this fills it for the games
already stored and indexes it:

- SQLite: an FTS5 table (tokenizer `ascii`, since the text is already folded; prefix indexes
  for one and two characters) whose rowid is the game's rank, length(search_title) << 32 | id,
  so a search reads matches shortest first and stops at its limit. Triggers keep it in step and
  fire only when search_title changes, so a scrape that rewrites every row pays nothing for
  unchanged titles.
- PostgreSQL: a GIN index over the words as a tsvector (array_to_tsvector, no text-search
  parser, so its lexemes are exactly the words), built CONCURRENTLY so scrapes go on writing.
  An unchanged search_title leaves the scrape's updates HOT. No extension is needed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.words import search_text

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BATCH = 5_000
# The FTS5 rowid of a game: shortest search text first, then the lowest id (scheduler.catalogue
# .search reads it back with rowid & 0xFFFFFFFF).
_KEY = "(length({row}.search_title) << 32) | {row}.id"
_SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE games_search USING fts5("
    "words, tokenize = 'ascii', prefix = '1 2', columnsize = 0)",
    f"INSERT INTO games_search(rowid, words) SELECT {_KEY.format(row='games')}, search_title "
    "FROM games",
    "CREATE TRIGGER games_search_insert AFTER INSERT ON games BEGIN "
    f"INSERT INTO games_search(rowid, words) VALUES ({_KEY.format(row='new')}, new.search_title); "
    "END",
    "CREATE TRIGGER games_search_update AFTER UPDATE OF id, search_title ON games "
    "WHEN old.search_title IS NOT new.search_title OR old.id IS NOT new.id BEGIN "
    f"DELETE FROM games_search WHERE rowid = {_KEY.format(row='old')}; "
    f"INSERT INTO games_search(rowid, words) VALUES ({_KEY.format(row='new')}, new.search_title); "
    "END",
    "CREATE TRIGGER games_search_delete AFTER DELETE ON games BEGIN "
    f"DELETE FROM games_search WHERE rowid = {_KEY.format(row='old')}; "
    "END",
)
_POSTGRESQL_WORDS = "array_to_tsvector(array_remove(string_to_array(search_title, ' '), ''))"


def upgrade() -> None:
    op.add_column('games', sa.Column('search_title', sa.Text(), server_default='', nullable=False))
    _fill_search_titles()
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                'ix_games_search_title',
                'games',
                [sa.text(_POSTGRESQL_WORDS)],
                postgresql_using='gin',
                postgresql_concurrently=True,
                if_not_exists=True,
            )
    else:
        for statement in _SQLITE_INDEX:
            op.execute(statement)


def _fill_search_titles() -> None:
    """Write every stored game's search text, a batch of ids at a time."""
    conn = op.get_bind()
    games = sa.table('games', sa.column('id'), sa.column('title'), sa.column('search_title'))
    update = (
        games.update()
        .where(games.c.id == sa.bindparam('game_id'))
        .values(search_title=sa.bindparam('text'))
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(games.c.id, games.c.title)
            .where(games.c.id > last)
            .order_by(games.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        conn.execute(update, [{"game_id": id_, "text": search_text(title)} for id_, title in rows])
        last = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_games_search_title', table_name='games')
    else:
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS games_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS games_search")
    op.drop_column('games', 'search_title')
