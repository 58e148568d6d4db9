"""The due-alerts pass for chosen games only: what a price refresh runs for the games it changed.

A separate addition beside watchlist.find_due_alerts: the same three statements of rules.py,
narrowed to the given games, so a refresh judges exactly the prices it changed and no rule is
written twice.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scheduler.alerts import rules
from scheduler.alerts.digests import advance_due


def find_due_alerts_for(
    session: Session, game_ids: Collection[int], *, now: datetime, alert_run_id: int | None
) -> int:
    """Re-arm, insert due alerts and remember prices for entries on game_ids; returns new count."""
    if not game_ids:
        return 0
    only = rules.WATCHES.c.game_id.in_(sorted(set(game_ids)))
    advance_due(session, now=now)  # a drop found after today's digest waits for tomorrow's
    conn = session.connection()
    conn.execute(rules.rearm_statement().where(only))
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = (
        dialect.insert(rules.ALERTS)
        .from_select(list(rules.ALERT_COLUMNS), rules._due_rows(now, alert_run_id).where(only))
        .on_conflict_do_nothing(
            index_elements=[
                rules.ALERTS.c.watch_entry_id,
                rules.ALERTS.c.generation,
                rules.ALERTS.c.trigger_cents,
            ]
        )
        .returning(rules.ALERTS.c.id)
    )
    count = len(conn.execute(insert).all())
    conn.execute(rules.remember_statement().where(only))
    return count
