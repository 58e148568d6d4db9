"""Sign-in by email link: confirmed addresses, sign-in nonces, session keys; paused watches

Subscribers who already exist were added by an admin (`scout subscribe`), who vouched for them:
they count as confirmed from when they were added. Every subscriber gets a random session key.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscribers') as batch_op:
        batch_op.add_column(
            sa.Column('confirmed_at', models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('session_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sign_in_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('sign_in_expires_at', models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('sign_in_request', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('sign_in_sent', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(
            'uq_subscribers_sign_in_hash', ['sign_in_hash']
        )
    random_key = (
        "md5(random()::text || clock_timestamp()::text || id::text)"
        if op.get_bind().dialect.name == "postgresql"
        else "lower(hex(randomblob(16)))"
    )
    op.execute(f"UPDATE subscribers SET confirmed_at = created_at, session_key = {random_key}")
    with op.batch_alter_table('subscribers') as batch_op:
        batch_op.alter_column('session_key', existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table('watch_entries') as batch_op:
        batch_op.add_column(
            sa.Column('paused_at', models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('watch_entries') as batch_op:
        batch_op.drop_column('paused_at')
    with op.batch_alter_table('subscribers') as batch_op:
        batch_op.drop_constraint('uq_subscribers_sign_in_hash', type_='unique')
        batch_op.drop_column('sign_in_sent')
        batch_op.drop_column('sign_in_request')
        batch_op.drop_column('sign_in_expires_at')
        batch_op.drop_column('sign_in_hash')
        batch_op.drop_column('session_key')
        batch_op.drop_column('confirmed_at')
