"""games fillfactor

Every scrape rewrites every row of games (last_seen, at least). On PostgreSQL, leaving half of
each page free lets those updates stay on the page as HOT updates, which write no index entries
and leave no index bloat. Rows already stored move to roomier pages with the next VACUUM FULL
(or pg_repack); until then the setting applies to pages written from now on. SQLite has no such
setting.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 09:40:00
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE games SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE games RESET (fillfactor)")
