"""When the emails come: immediate or one daily digest at an hour in a time zone

subscribers.frequency ('immediate' for everyone so far: today's behaviour), digest_hour,
timezone and next_digest_at; alerts.hold_until, the digest hour a daily subscriber's alert
waits for. Nullable columns and one with a constant default: no table rewrite on PostgreSQL 11+.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscribers') as batch_op:
        batch_op.add_column(
            sa.Column(
                'frequency', sa.String(length=10), nullable=False, server_default='immediate'
            )
        )
        batch_op.add_column(sa.Column('digest_hour', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('next_digest_at', models.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('subscribers') as batch_op:
        batch_op.alter_column('frequency', server_default=None, existing_type=sa.String(10))
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.add_column(
            sa.Column('hold_until', models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.drop_column('hold_until')
    with op.batch_alter_table('subscribers') as batch_op:
        batch_op.drop_column('next_digest_at')
        batch_op.drop_column('timezone')
        batch_op.drop_column('digest_hour')
        batch_op.drop_column('frequency')
