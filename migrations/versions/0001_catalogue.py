"""catalogue

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 05:59:53.813369
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('games',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=6), nullable=False),
    sa.Column('steam_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('final_cents', sa.BigInteger(), nullable=True),
    sa.Column('original_cents', sa.BigInteger(), nullable=True),
    sa.Column('discount_pct', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('is_free', sa.Boolean(), nullable=False),
    sa.Column('first_seen', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('price_changed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_games')),
    sa.UniqueConstraint('kind', 'steam_id', name=op.f('uq_games_kind_steam_id'))
    )
    op.create_table('scrape_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=True),
    sa.Column('started_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total_count', sa.Integer(), nullable=True),
    sa.Column('pages_total', sa.Integer(), nullable=False),
    sa.Column('pages_ok', sa.Integer(), nullable=False),
    sa.Column('pages_failed', sa.Integer(), nullable=False),
    sa.Column('rows_seen', sa.Integer(), nullable=False),
    sa.Column('rows_new', sa.Integer(), nullable=False),
    sa.Column('rows_changed', sa.Integer(), nullable=False),
    sa.Column('rows_bad', sa.Integer(), nullable=False),
    sa.Column('error_summary', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scrape_runs')),
    sa.UniqueConstraint('task_id', name=op.f('uq_scrape_runs_task_id'))
    )
    op.create_table('price_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('game_id', sa.Integer(), nullable=False),
    sa.Column('observed_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('final_cents', sa.BigInteger(), nullable=True),
    sa.Column('original_cents', sa.BigInteger(), nullable=True),
    sa.Column('discount_pct', sa.Integer(), nullable=False),
    sa.Column('is_free', sa.Boolean(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('scrape_run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['game_id'], ['games.id'], name=op.f('fk_price_history_game_id_games'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scrape_run_id'], ['scrape_runs.id'], name=op.f('fk_price_history_scrape_run_id_scrape_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_history'))
    )
    with op.batch_alter_table('price_history', schema=None) as batch_op:
        batch_op.create_index('ix_price_history_game_price', ['game_id', 'final_cents'], unique=False)
        batch_op.create_index('ix_price_history_game_time', ['game_id', 'observed_at'], unique=False)

    op.create_table('scrape_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rows_seen', sa.Integer(), nullable=False),
    sa.Column('rows_new', sa.Integer(), nullable=False),
    sa.Column('rows_changed', sa.Integer(), nullable=False),
    sa.Column('rows_bad', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('finished_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['scrape_runs.id'], name=op.f('fk_scrape_pages_run_id_scrape_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scrape_pages')),
    sa.UniqueConstraint('run_id', 'start', name=op.f('uq_scrape_pages_run_id_start'))
    )


def downgrade() -> None:
    op.drop_table('scrape_pages')
    with op.batch_alter_table('price_history', schema=None) as batch_op:
        batch_op.drop_index('ix_price_history_game_time')
        batch_op.drop_index('ix_price_history_game_price')

    op.drop_table('price_history')
    op.drop_table('scrape_runs')
    op.drop_table('games')
