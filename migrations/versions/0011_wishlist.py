"""Steam wishlist imports, and where each watch came from

wishlist_imports: one row per import a subscriber asked for (the profile given, the rule for
every watch it adds, its status and its report as JSON), deleted with the subscriber.
watch_entries.source: "wishlist" for a watch an import added; NULL for every watch before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wishlist_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('profile', sa.String(length=80), nullable=False),
    sa.Column('steamid', sa.BigInteger(), nullable=True),
    sa.Column('rule', sa.String(length=10), nullable=False),
    sa.Column('target_cents', sa.BigInteger(), nullable=True),
    sa.Column('min_discount_pct', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('requested_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('task_id', sa.String(length=64), nullable=True),
    sa.Column('finished_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('report', sa.Text(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_wishlist_imports_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wishlist_imports'))
    )
    with op.batch_alter_table('wishlist_imports') as batch_op:
        batch_op.create_index(
            'ix_wishlist_imports_subscriber_id_requested_at',
            ['subscriber_id', 'requested_at'],
            unique=False,
        )
        batch_op.create_index('ix_wishlist_imports_status', ['status'], unique=False)
    with op.batch_alter_table('watch_entries') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('watch_entries') as batch_op:
        batch_op.drop_column('source')
    with op.batch_alter_table('wishlist_imports') as batch_op:
        batch_op.drop_index('ix_wishlist_imports_status')
        batch_op.drop_index('ix_wishlist_imports_subscriber_id_requested_at')
    op.drop_table('wishlist_imports')
