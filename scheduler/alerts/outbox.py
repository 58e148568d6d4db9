"""The alert outbox: claim pending alerts, record what the SMTP server said, sweep stuck ones.

Exactly once rests on one rule: an email is sent only for alerts this worker moved from
'pending' to 'sending' with a conditional UPDATE. Helpers take the session and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Row,
    String,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, Exists

from models import Alert, Game, PriceChange, Subscriber
from models.base import rows_changed
from models.game import item_key
from scheduler.alerts.render import Digest, DigestItem

ALERTS: Table = Alert.__table__  # type: ignore[assignment]
MAX_REASON = 500
Executor = Session | Connection  # the result writers also run on a bare (autocommit) connection


def retry_due(now: datetime) -> ColumnElement[bool]:
    """Return the condition that an alert is not waiting for a send's retry due after now."""
    return or_(ALERTS.c.retry_at.is_(None), ALERTS.c.retry_at <= now)


def not_held(now: datetime) -> ColumnElement[bool]:
    """Return the condition that an alert is not waiting for a daily digest due after now."""
    return or_(ALERTS.c.hold_until.is_(None), ALERTS.c.hold_until <= now)


def claimable(now: datetime) -> ColumnElement[bool]:
    """Return the condition that a pending alert may go now: no retry or digest to wait for."""
    return and_(retry_due(now), not_held(now))


def _unreachable(why: str) -> Exists:
    """Alerts of a subscriber who unsubscribed, or whose address nobody ever confirmed."""
    condition = (
        Subscriber.unsubscribed_at.is_not(None)
        if why == "unsubscribed"
        else Subscriber.confirmed_at.is_(None)
    )
    return exists().where(Subscriber.id == ALERTS.c.subscriber_id, condition)


def claim_alerts(
    session: Session, subscriber_ids: Sequence[int], *, now: datetime
) -> dict[int, list[int]]:
    """Move these subscribers' pending alerts to 'sending'; return the claimed ids by subscriber.

    Alerts of unsubscribed or unconfirmed subscribers become 'skipped' instead. Only rows
    still pending are touched, so a second claimer (a re-delivered task) gets nothing; alerts
    waiting for a send's retry (retry_at after now) are left to that retry, and alerts held
    for a daily digest (hold_until after now) to that digest.
    """
    mine = (ALERTS.c.subscriber_id.in_(list(subscriber_ids)), ALERTS.c.status == "pending")
    due = claimable(now)
    for why in ("unsubscribed", "unconfirmed"):
        session.execute(
            update(ALERTS).where(*mine, _unreachable(why)).values(status="skipped", last_error=why)
        )
    rows = session.execute(
        update(ALERTS)
        .where(*mine, due)
        .values(status="sending", claimed_at=now, attempts=ALERTS.c.attempts + 1, retry_at=None)
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
    return {game_id: cents for game_id, cents in rows if cents is not None}


def _old_price(row: Row[*tuple[Any, ...]]) -> int | None:
    if row.previous_cents is not None:
        return row.previous_cents
    if row.original_cents is not None and row.original_cents > row.trigger_cents:
        return row.original_cents
    return None


# Plain columns, not ORM objects: building three entities a row took 60% of a load's CPU.
_DIGEST_COLUMNS = (
    Alert.id,
    Alert.subscriber_id,
    Alert.trigger_cents,
    Alert.previous_cents,
    Alert.currency,
    Game.id.label("game_id"),
    Game.kind,
    Game.steam_id,
    Game.title,
    Game.original_cents,
    Subscriber.email,
    Subscriber.unsubscribe_token,
)


def load_digests(
    session: Session, claimed: dict[int, list[int]], *, store_url: str
) -> list[Digest]:
    """Return one digest per subscriber with the claimed alerts, in subscriber order.

    A game with several claimed alerts (it dropped twice before a daily digest went out) is
    one item at its lowest price, "was" the highest price it came from; the item carries every
    one of those alerts, so all are marked sent with the email.
    """
    alert_ids = [alert_id for ids in claimed.values() for alert_id in ids]
    rows = session.execute(
        select(*_DIGEST_COLUMNS)
        .join(Game, Game.id == Alert.game_id)
        .join(Subscriber, Subscriber.id == Alert.subscriber_id)
        .where(Alert.id.in_(alert_ids))
        .order_by(Alert.subscriber_id, Game.title, Alert.id)
    ).all()
    lowest = _lowest_before(session, {row.game_id for row in rows})
    groups: dict[tuple[int, int], list[Row[*tuple[Any, ...]]]] = defaultdict(list)
    people: dict[int, Row[*tuple[Any, ...]]] = {}
    for row in rows:
        people[row.subscriber_id] = row
        groups[(row.subscriber_id, row.game_id)].append(row)
    items: dict[int, list[DigestItem]] = defaultdict(list)
    for (subscriber_id, game_id), group in groups.items():
        row = min(group, key=lambda r: (r.trigger_cents, r.id))
        olds = [old for old in map(_old_price, group) if old is not None]
        items[subscriber_id].append(
            DigestItem(
                alert_id=row.id,
                title=row.title,
                new_cents=row.trigger_cents,
                old_cents=max(olds) if olds else None,
                currency=row.currency,
                lowest_before_cents=lowest.get(game_id),
                store_url=f"{store_url}/{row.kind}/{row.steam_id}/",  # as Game.store_path
                itemkey=item_key(row.kind, row.steam_id),
                also_alert_ids=tuple(sorted(r.id for r in group if r.id != row.id)),
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


# The statements that record a failed or deferred SMTP answer are built once, with the alert ids
# as an expanding parameter, and only their parameters change.
_CLAIMED = (ALERTS.c.id.in_(bindparam("ids", expanding=True)), ALERTS.c.status == "sending")
_TRIED_ENOUGH = ALERTS.c.attempts >= bindparam("max_attempts", type_=Integer)
_MARK_FAILED = (
    update(ALERTS)
    .where(*_CLAIMED)
    .values(status="failed", last_error=bindparam("reason", type_=String))
)
_RELEASE = (
    update(ALERTS)
    .where(*_CLAIMED)
    .values(
        status=case((_TRIED_ENOUGH, "failed"), else_="pending"),
        last_error=case(
            (_TRIED_ENOUGH, bindparam("gave_up", type_=String)),
            else_=bindparam("reason", type_=String),
        ),
        retry_at=case(
            (_TRIED_ENOUGH, None), else_=bindparam("retry_at", type_=ALERTS.c.retry_at.type)
        ),
    )
    .returning(ALERTS.c.status)
)


@lru_cache(maxsize=32)
def _mark_sent_sql(paramstyle: str, count: int) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"  # sqlite3 / psycopg, both positional
    return (
        f"UPDATE {ALERTS.name} SET status = 'sent', sent_at = {mark}, message_id = {mark}, "
        f"last_error = NULL WHERE id IN ({', '.join([mark] * count)}) AND status = 'sending'"
    )


@lru_cache(maxsize=4)
def _sent_at_value(dialect: Dialect) -> Callable[[datetime], Any]:
    """Return the function that turns a datetime into what the driver stores for sent_at."""
    process = ALERTS.c.sent_at.type.bind_processor(dialect)
    return process if process is not None else (lambda value: value)


def mark_sent(db: Connection, alert_ids: Sequence[int], *, message_id: str, now: datetime) -> int:
    """Record that the server accepted the email carrying these alerts; return rows changed.

    This runs once per email, between the server's 250 and the next message, so it is one
    UPDATE by primary key in the driver's own SQL (exec_driver_sql, which the driver keeps
    prepared): SQLAlchemy's statement path (an expanding IN compiled each time, a result
    object) took three times as much CPU. The caller commits, as for the other writers.
    """
    dialect = db.dialect
    sql = _mark_sent_sql(dialect.paramstyle, len(alert_ids))
    params = (_sent_at_value(dialect)(now), message_id, *alert_ids)
    return rows_changed(db.exec_driver_sql(sql, params))


def mark_failed(session: Executor, alert_ids: Sequence[int], *, reason: str) -> int:
    """Record that these alerts will never be sent, and why; return rows changed."""
    params = {"ids": list(alert_ids), "reason": reason[:MAX_REASON]}
    return rows_changed(session.execute(_MARK_FAILED, params))


def release(
    session: Executor,
    alert_ids: Sequence[int],
    *,
    reason: str,
    max_attempts: int,
    retry_at: datetime | None = None,
) -> int:
    """Put claimed alerts back to pending for a retry, or fail those out of attempts.

    retry_at: when the releasing task retries; until then no one else claims or adopts them.
    One statement, so atomic on an autocommit connection too; returns how many went back.
    """
    params = {
        "ids": list(alert_ids),
        "max_attempts": max_attempts,
        "retry_at": retry_at,
        "reason": reason[:MAX_REASON],
        "gave_up": f"gave up after {max_attempts} attempts: {reason}"[:MAX_REASON],
    }
    statuses = session.execute(_RELEASE, params).scalars().all()
    return sum(status == "pending" for status in statuses)


def waiting_for_retry(
    session: Session, subscriber_ids: Sequence[int], *, now: datetime
) -> tuple[list[int], datetime | None]:
    """Return which of these subscribers have alerts waiting for a retry due after now, and when
    the last of those retries is due (None when there are none)."""
    rows = session.execute(
        select(ALERTS.c.subscriber_id, func.max(ALERTS.c.retry_at))
        .where(
            ALERTS.c.subscriber_id.in_(list(subscriber_ids)),
            ALERTS.c.status == "pending",
            ALERTS.c.retry_at > now,
        )
        .group_by(ALERTS.c.subscriber_id)
    ).all()
    return sorted(sid for sid, _ in rows), max((at for _, at in rows), default=None)


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
    return rows_changed(result)


def adopt_orphans(
    session: Session,
    run_id: int,
    *,
    older_than: datetime,
    live_runs: Collection[int],
    now: datetime,
) -> list[int]:
    """Give pending alerts of no live run (runs.live_run_ids) to run_id.

    An alert waiting for its send's retry is that task's until its retry_at is older_than too:
    only then was the retry lost (Redis restarted empty). An alert held for a daily digest is
    left alone until its hour, then this is what sends it. Returns the ids of the subscribers
    they belong to, ascending.
    """
    others = sorted(set(live_runs) - {run_id})
    no_live_run = or_(ALERTS.c.alert_run_id.is_(None), ALERTS.c.alert_run_id.not_in(others))
    not_waiting = or_(ALERTS.c.retry_at.is_(None), ALERTS.c.retry_at < older_than)
    rows = session.execute(
        update(ALERTS)
        .where(ALERTS.c.status == "pending", no_live_run, not_waiting, not_held(now))
        .values(alert_run_id=run_id)
        .returning(ALERTS.c.subscriber_id)
    ).all()
    return sorted({subscriber_id for (subscriber_id,) in rows})
