"""admin_actions; schedule_entries.last_task_id

The admin console's audit of actions on subscribers (unsubscribe, delete), naming the subscriber
by id only, so a deleted subscriber leaves nothing about them behind. And the id of the task
beat last sent for each entry, so the console shows how the last run ended.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_actions")),
    )
    op.create_index("ix_admin_actions_subscriber_id", "admin_actions", ["subscriber_id"])
    with op.batch_alter_table("schedule_entries") as batch_op:
        batch_op.add_column(sa.Column("last_task_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schedule_entries") as batch_op:
        batch_op.drop_column("last_task_id")
    op.drop_index("ix_admin_actions_subscriber_id", table_name="admin_actions")
    op.drop_table("admin_actions")
