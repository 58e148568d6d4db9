"""schedule

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 06:04:03.704705
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('schedule_edits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=120), nullable=False),
    sa.Column('entry_name', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_edits')),
    sa.UniqueConstraint('version', name=op.f('uq_schedule_edits_version'))
    )
    with op.batch_alter_table('schedule_edits', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_edits_entry_name', ['entry_name'], unique=False)

    op.create_table('schedule_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('task', sa.String(length=200), nullable=False),
    sa.Column('cron_minute', sa.String(length=64), nullable=True),
    sa.Column('cron_hour', sa.String(length=64), nullable=True),
    sa.Column('cron_day_of_month', sa.String(length=64), nullable=True),
    sa.Column('cron_month_of_year', sa.String(length=64), nullable=True),
    sa.Column('cron_day_of_week', sa.String(length=64), nullable=True),
    sa.Column('interval_seconds', sa.Integer(), nullable=True),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('kwargs', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('last_run_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('run_count', sa.Integer(), nullable=False),
    sa.Column('anchored_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(interval_seconds IS NULL) <> (cron_minute IS NULL)', name=op.f('ck_schedule_entries_one_schedule')),
    sa.CheckConstraint('interval_seconds IS NULL OR interval_seconds > 0', name=op.f('ck_schedule_entries_positive_interval')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_entries')),
    sa.UniqueConstraint('name', name=op.f('uq_schedule_entries_name'))
    )


def downgrade() -> None:
    op.drop_table('schedule_entries')
    with op.batch_alter_table('schedule_edits', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_edits_entry_name')

    op.drop_table('schedule_edits')
