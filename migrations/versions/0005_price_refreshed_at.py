"""games.price_refreshed_at

When the watched-prices refresh last had an answer from appdetails for the game (priced, free
or unknown). The refresh asks for the stalest first; NULL means never, which sorts first.
Adding a nullable column without a default is instant on PostgreSQL and SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('games') as batch_op:
        batch_op.add_column(
            sa.Column(
                'price_refreshed_at', models.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('games') as batch_op:
        batch_op.drop_column('price_refreshed_at')
