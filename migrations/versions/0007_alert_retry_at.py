"""alerts.retry_at

When the send that released an alert (SMTP down, a 4xx) will try it again. Until then the sweep
does not hand it to another run and no other send claims it, so a long outage spends its
attempts on the one retrying task's schedule. Nullable, no default: instant.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.add_column(
            sa.Column('retry_at', models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.drop_column('retry_at')
