"""games.price_error_at and games.price_error

When appdetails last answered for the game with an entry the refresh could not use (malformed,
or in another currency), and why. The price stays; the refresh queues the app behind the
fresher ones instead of asking for it first in every tick. Nullable, no default: instant.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('games') as batch_op:
        batch_op.add_column(
            sa.Column('price_error_at', models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('price_error', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('games') as batch_op:
        batch_op.drop_column('price_error')
        batch_op.drop_column('price_error_at')
