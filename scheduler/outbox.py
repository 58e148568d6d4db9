"""The alert outbox: claim pending alerts, record what the SMTP server said, sweep stuck ones.

Exactly once rests on one rule: an email is sent only for alerts this worker moved from
'pending' to 'sending' with a conditional UPDATE. Helpers take the session and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Table, exists, func, or_, select, update
from sqlalchemy.orm import Session

from models import Alert, AlertRun, Game, PriceChange, Subscriber
from scheduler.email_render import Digest, DigestItem

ALERTS: Table = Alert.__table__  # type: ignore[assignment]
MAX_REASON = 500


def start_run(session: Session, *, task_id: str, now: datetime) -> tuple[AlertRun, bool]:
    """Return the run for task_id and whether it is new (a re-delivered task reuses its run)."""
    run = session.scalars(select(AlertRun).where(AlertRun.task_id == task_id)).first()
    if run is not None:
        return run, False
    run = AlertRun(task_id=task_id, started_at=now, status="running")
    session.add(run)
    session.flush()
    return run, True


def _unsubscribed() -> object:
    return exists().where(
        Subscriber.id == ALERTS.c.subscriber_id, Subscriber.unsubscribed_at.is_not(None)
    )


def claim_alerts(
    session: Session, subscriber_ids: Sequence[int], *, now: datetime
) -> dict[int, list[int]]:
    """Move these subscribers' pending alerts to 'sending'; return the claimed ids by subscriber.

    Alerts of unsubscribed subscribers become 'skipped' instead. Only rows still pending are
    touched, so a second claimer (a re-delivered task) gets nothing.
    """
    mine = (ALERTS.c.subscriber_id.in_(list(subscriber_ids)), ALERTS.c.status == "pending")
    session.execute(
        update(ALERTS)
        .where(*mine, _unsubscribed())
        .values(status="skipped", last_error="unsubscribed")
    )
    rows = session.execute(
        update(ALERTS)
        .where(*mine)
        .values(status="sending", claimed_at=now, attempts=ALERTS.c.attempts + 1)
        .returning(ALERTS.c.id, ALERTS.c.subscriber_id)
    ).all()
    claimed: dict[int, list[int]] = defaultdict(list)
    for alert_id, subscriber_id in rows:
        claimed[subscriber_id].append(alert_id)
    return {sid: sorted(ids) for sid, ids in claimed.items()}


def _lowest_before(session: Session, game_ids: Iterable[int]) -> dict[int, int]:
    """Return each game's lowest paid price recorded before its current price took effect."""
    rows = session.execute(
        select(PriceChange.game_id, func.min(PriceChange.final_cents))
        .join(Game, Game.id == PriceChange.game_id)
        .where(
            PriceChange.game_id.in_(list(game_ids)),
            PriceChange.final_cents.is_not(None),
            PriceChange.is_free.is_(False),
            or_(Game.price_changed_at.is_(None), PriceChange.observed_at < Game.price_changed_at),
        )
        .group_by(PriceChange.game_id)
    ).all()
    return {game_id: cents for game_id, cents in rows}


def _old_price(alert: Alert, game: Game) -> int | None:
    if alert.previous_cents is not None:
        return alert.previous_cents
    if game.original_cents is not None and game.original_cents > alert.trigger_cents:
        return game.original_cents
    return None


def load_digests(
    session: Session, claimed: dict[int, list[int]], *, store_url: str
) -> list[Digest]:
    """Return one digest per subscriber with the claimed alerts, in subscriber order."""
    alert_ids = [alert_id for ids in claimed.values() for alert_id in ids]
    rows = session.execute(
        select(Alert, Game, Subscriber)
        .join(Game, Game.id == Alert.game_id)
        .join(Subscriber, Subscriber.id == Alert.subscriber_id)
        .where(Alert.id.in_(alert_ids))
        .order_by(Alert.subscriber_id, Game.title, Alert.id)
    ).all()
    lowest = _lowest_before(session, {game.id for _, game, _ in rows})
    items: dict[int, list[DigestItem]] = defaultdict(list)
    people: dict[int, Subscriber] = {}
    for alert, game, subscriber in rows:
        people[subscriber.id] = subscriber
        items[subscriber.id].append(
            DigestItem(
                alert_id=alert.id,
                title=game.title,
                new_cents=alert.trigger_cents,
                old_cents=_old_price(alert, game),
                currency=alert.currency,
                lowest_before_cents=lowest.get(game.id),
                store_url=f"{store_url}{game.store_path}",
            )
        )
    return [
        Digest(
            subscriber_id=sid,
            email=people[sid].email,
            unsubscribe_token=people[sid].unsubscribe_token,
            items=items[sid],
        )
        for sid in sorted(items)
    ]


def _sending(alert_ids: Sequence[int]) -> tuple[object, object]:
    return ALERTS.c.id.in_(list(alert_ids)), ALERTS.c.status == "sending"


def mark_sent(session: Session, alert_ids: Sequence[int], *, message_id: str, now: datetime) -> int:
    """Record that the server accepted the email carrying these alerts; return rows changed."""
    result = session.execute(
        update(ALERTS)
        .where(*_sending(alert_ids))
        .values(status="sent", sent_at=now, message_id=message_id, last_error=None)
    )
    return result.rowcount or 0


def mark_failed(session: Session, alert_ids: Sequence[int], *, reason: str) -> int:
    """Record that these alerts will never be sent, and why; return rows changed."""
    result = session.execute(
        update(ALERTS)
        .where(*_sending(alert_ids))
        .values(status="failed", last_error=reason[:MAX_REASON])
    )
    return result.rowcount or 0


def release(session: Session, alert_ids: Sequence[int], *, reason: str, max_attempts: int) -> int:
    """Put claimed alerts back to pending for a retry, or fail those out of attempts.

    Returns how many went back to pending.
    """
    tried_enough = ALERTS.c.attempts >= max_attempts
    session.execute(
        update(ALERTS)
        .where(*_sending(alert_ids), tried_enough)
        .values(
            status="failed",
            last_error=f"gave up after {max_attempts} attempts: {reason}"[:MAX_REASON],
        )
    )
    result = session.execute(
        update(ALERTS)
        .where(*_sending(alert_ids), ~tried_enough)
        .values(status="pending", last_error=reason[:MAX_REASON])
    )
    return result.rowcount or 0


def requeue_stuck(session: Session, *, older_than: datetime, max_attempts: int = 0) -> int:
    """Put alerts claimed before older_than and still 'sending' back to pending; return how many.

    A worker killed between claim and mark leaves them so. With max_attempts, those already
    tried that often fail instead, so a message that kills workers cannot loop for ever.
    """
    stuck = (ALERTS.c.status == "sending", ALERTS.c.claimed_at < older_than)
    if max_attempts:
        session.execute(
            update(ALERTS)
            .where(*stuck, ALERTS.c.attempts >= max_attempts)
            .values(status="failed", last_error="stuck in sending; out of attempts")
        )
    result = session.execute(
        update(ALERTS)
        .where(*stuck)
        .values(status="pending", last_error="requeued: stuck in sending")
    )
    return result.rowcount or 0


def adopt_orphans(session: Session, run_id: int, *, older_than: datetime) -> list[int]:
    """Give pending alerts whose run is over (or stalled since older_than) to run_id.

    Returns the ids of the subscribers they belong to, ascending.
    """
    live_run = exists().where(
        AlertRun.id == ALERTS.c.alert_run_id,
        AlertRun.id != run_id,
        AlertRun.status == "running",
        AlertRun.started_at >= older_than,
    )
    rows = session.execute(
        update(ALERTS)
        .where(ALERTS.c.status == "pending", ~live_run)
        .values(alert_run_id=run_id)
        .returning(ALERTS.c.subscriber_id)
    ).all()
    return sorted({subscriber_id for (subscriber_id,) in rows})


def run_figures(session: Session, run_id: int) -> dict[str, int]:
    """Return how many of the run's alerts are in each status."""
    rows = session.execute(
        select(ALERTS.c.status, func.count())
        .where(ALERTS.c.alert_run_id == run_id)
        .group_by(ALERTS.c.status)
    ).all()
    return {status: count for status, count in rows}


def finish_run(
    session: Session, run_id: int, *, now: datetime, errors: Sequence[str] = ()
) -> AlertRun:
    """Write the run's sent/failed/skipped figures and close it; returns the run."""
    run = session.get_one(AlertRun, run_id)
    figures = run_figures(session, run_id)
    run.sent, run.failed = figures.get("sent", 0), figures.get("failed", 0)
    run.skipped = figures.get("skipped", 0)
    unfinished = figures.get("pending", 0) + figures.get("sending", 0)
    run.status = "failed" if errors and not run.sent else "done"
    summary = list(errors[:5]) + ([f"{unfinished} alerts left for the sweep"] if unfinished else [])
    run.error_summary = "; ".join(summary)[:2000] or None
    run.finished_at = now
    return run
