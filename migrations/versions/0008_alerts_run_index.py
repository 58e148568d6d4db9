"""alerts.alert_run_id index

The sweep asks which running alert runs claimed an email lately (a long fan-out is alive, not
lost) and every run's close counts its alerts by status: both look alerts up by run. On
PostgreSQL the index is built CONCURRENTLY, so sends keep writing while it builds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:20:00
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                'ix_alerts_alert_run_id',
                'alerts',
                ['alert_run_id'],
                postgresql_concurrently=True,
                if_not_exists=True,
            )
    else:
        op.create_index('ix_alerts_alert_run_id', 'alerts', ['alert_run_id'])


def downgrade() -> None:
    op.drop_index('ix_alerts_alert_run_id', table_name='alerts')
