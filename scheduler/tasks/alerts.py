"""Alert tasks: find due alerts, send digests in a chord of batches, close the run, sweep.

Every task here runs twice safely: a run is keyed by its task id, a send claims its alerts
with a conditional UPDATE before sending and sends only what it claimed, and the closing
callback recomputes the figures from the alerts themselves.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from celery import chord
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import Connection

from models import Session, get_engine, utcnow
from scheduler.alerts import outbox
from scheduler.alerts import transport as mail
from scheduler.alerts.render import Digest, render_digest
from scheduler.alerts.watchlist import find_due_alerts, pending_alert_batches
from scheduler.celery_app import CONFIG, app

log = logging.getLogger(__name__)

SEND_SOFT_TIME_LIMIT = 300
CHECK_SOFT_TIME_LIMIT = 600


@app.task(
    bind=True,
    name="scheduler.tasks.alerts.check_watchlists",
    acks_late=True,
    soft_time_limit=CHECK_SOFT_TIME_LIMIT,
    time_limit=CHECK_SOFT_TIME_LIMIT + 60,
)
def check_watchlists(self: Any) -> dict[str, Any]:
    """Record due alerts in a run and fan their emails out; returns the run id and batch count."""
    now = utcnow()
    with Session.begin() as session:
        run, new = outbox.start_run(session, task_id=self.request.id, now=now)
        if run.status != "running":  # re-delivered after its chord already closed the run
            return {"run_id": run.id, "batches": 0}
        if new:
            run.alerts_new = find_due_alerts(session, now=now, alert_run_id=run.id)
        batches = pending_alert_batches(session, batch_size=CONFIG.mail_batch_size)
        run.subscribers = max(run.subscribers, sum(len(batch) for batch in batches))
        run_id = run.id
    dispatch(run_id, batches)
    return {"run_id": run_id, "batches": len(batches)}


def dispatch(run_id: int, batches: Sequence[Sequence[int]]) -> None:
    """Apply the chord of send batches with finish_alert_run as body, or finish at once."""
    if not batches:
        finish_alert_run([], run_id)
        return
    header = [send_digests.s(run_id, list(batch)) for batch in batches]
    chord(header)(finish_alert_run.s(run_id))


@dataclass
class Outcome:
    """What one send task did: alert counts, and subscribers to try again later."""

    sent: int = 0
    failed: int = 0
    emails: int = 0
    retry_ids: list[int] = field(default_factory=list)
    error: str | None = None

    def status(self) -> dict[str, Any]:
        """Return the tiny JSON status a chord header returns."""
        return {
            "sent": self.sent,
            "failed": self.failed,
            "emails": self.emails,
            "error": self.error,
        }


@app.task(
    bind=True,
    name="scheduler.tasks.alerts.send_digests",
    acks_late=True,
    max_retries=None,
    soft_time_limit=SEND_SOFT_TIME_LIMIT,
    time_limit=SEND_SOFT_TIME_LIMIT + 60,
)
def send_digests(self: Any, run_id: int, subscriber_ids: list[int]) -> dict[str, Any]:
    """Send one digest per subscriber over one SMTP connection; returns counts, never raises."""
    settings = mail.current_settings()
    with Session.begin() as session:
        claimed = outbox.claim_alerts(session, subscriber_ids, now=utcnow())
        digests = outbox.load_digests(session, claimed, store_url=settings.store_url)
    outcome = Outcome()
    if digests:
        deliver(digests, settings, outcome)
    if outcome.retry_ids:
        countdown = backoff(settings, self.request.retries)
        log.info(
            "alert run %s: retrying %d subscribers in %.1fs: %s",
            run_id,
            len(outcome.retry_ids),
            countdown,
            outcome.error,
        )
        raise self.retry(args=(run_id, outcome.retry_ids), countdown=countdown)
    return outcome.status()


def backoff(settings: mail.MailSettings, retries: int) -> float:
    """Return seconds to wait before retry number retries + 1: exponential, capped, jittered."""
    delay = min(settings.retry_backoff * 2**retries, settings.retry_backoff_max)
    return delay * random.uniform(0.8, 1.0)


def deliver(digests: Sequence[Digest], settings: mail.MailSettings, outcome: Outcome) -> None:
    """Send claimed digests on one SMTP connection; each result is committed as soon as known."""
    app_ = mail.create_mail_app(settings)
    writer = OutboxWriter(outcome)
    writer.start()
    try:
        with app_.app_context():
            unsent = deque(digests)
            try:
                with mail.connect(app_) as conn:
                    while unsent:
                        writer.check()
                        send_one(conn, unsent[0], settings, writer)
                        unsent.popleft()
            except (mail.ConnectionFailure, SoftTimeLimitExceeded) as exc:
                for digest in unsent:
                    writer.put("release", digest, str(exc) or "soft time limit reached")
    finally:
        writer.close()


def send_one(
    conn: mail.MailConnection, digest: Digest, settings: mail.MailSettings, writer: OutboxWriter
) -> None:
    """Render and send one digest and hand its result to the writer. ConnectionFailure escapes."""
    try:
        email = render_digest(digest, public_url=settings.public_url, domain=settings.domain)
    except Exception as exc:  # a bug for one subscriber must not stop the batch or the chord
        log.exception("cannot render digest for subscriber %s", digest.subscriber_id)
        writer.put("fail", digest, f"render error: {type(exc).__name__}: {exc}")
        return
    try:
        mail.send_email(conn, email)
    except mail.PermanentFailure as exc:
        writer.put("fail", digest, str(exc))
    except mail.TemporaryFailure as exc:
        writer.put("release", digest, str(exc))
    else:
        writer.put("sent", digest, email.message_id)


class OutboxWriter(threading.Thread):
    """Commits each subscriber's result to the outbox, in order, on its own DB connection.

    It runs beside the SMTP loop so a commit's round trip and fsync overlap the next message;
    the short queue keeps it at most QUEUE_DEPTH results behind what the server accepted.
    """

    QUEUE_DEPTH = 2

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(name="outbox-writer", daemon=True)
        self.outcome = outcome
        self.jobs: queue.Queue[tuple[str, Digest, str] | None] = queue.Queue(self.QUEUE_DEPTH)
        self.error: BaseException | None = None

    def put(self, kind: str, digest: Digest, detail: str) -> None:
        """Queue a result: 'sent' (detail: Message-ID), 'fail' or 'release' (detail: reason)."""
        self.jobs.put((kind, digest, detail))

    def check(self) -> None:
        """Raise the writer's database error, if it had one, so the batch stops sending."""
        if self.error is not None:
            raise RuntimeError(f"outbox writer failed: {self.error}") from self.error

    def close(self) -> None:
        """Wait until every queued result is committed; raises if one could not be."""
        self.jobs.put(None)
        self.join()
        self.check()

    def run(self) -> None:
        # Each result is one UPDATE, so autocommit makes it one round trip (no BEGIN/COMMIT)
        # on PostgreSQL; SQLite still wraps it in BEGIN IMMEDIATE ... COMMIT.
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            while (job := self.jobs.get()) is not None:
                if self.error is not None:
                    continue  # drain, so the sender never blocks; the batch stops at check()
                try:
                    self.record(db, *job)
                    db.commit()
                except Exception as exc:
                    log.exception("cannot record %s for %s", job[0], job[1].alert_ids)
                    db.rollback()
                    self.error = exc

    def record(self, db: Connection, kind: str, digest: Digest, detail: str) -> None:
        """Write one result to the outbox and count it."""
        ids, outcome = digest.alert_ids, self.outcome
        if kind == "sent":
            outbox.mark_sent(db, ids, message_id=detail, now=utcnow())
            outcome.sent, outcome.emails = outcome.sent + len(ids), outcome.emails + 1
            return
        outcome.error = detail
        back = 0
        if kind == "release":
            back = outbox.release(db, ids, reason=detail, max_attempts=CONFIG.alert_max_attempts)
        else:
            outbox.mark_failed(db, ids, reason=detail)
            log.warning("alerts %s to subscriber %s failed: %s", ids, digest.subscriber_id, detail)
        if back:
            outcome.retry_ids.append(digest.subscriber_id)
        outcome.failed += len(ids) - back


@app.task(
    bind=True,
    name="scheduler.tasks.alerts.finish_alert_run",
    acks_late=True,
    soft_time_limit=60,
    time_limit=120,
)
def finish_alert_run(self: Any, results: list[Any], run_id: int) -> dict[str, Any]:
    """Close the run with its sent/failed/skipped figures and log one line; returns them."""
    errors = [r["error"] for r in results if isinstance(r, dict) and r.get("error")]
    with Session.begin() as session:
        run = outbox.finish_run(session, run_id, now=utcnow(), errors=errors)
        figures = {
            "run_id": run.id,
            "status": run.status,
            "alerts_new": run.alerts_new,
            "subscribers": run.subscribers,
            "sent": run.sent,
            "failed": run.failed,
            "skipped": run.skipped,
        }
        seconds = (run.finished_at - run.started_at).total_seconds()
    log.info(
        "alert run %(run_id)s %(status)s: %(alerts_new)s new, %(sent)s sent, "
        "%(failed)s failed, %(skipped)s skipped for %(subscribers)s subscribers in "
        "%(seconds).1fs",
        {**figures, "seconds": seconds},
    )
    return figures


@app.task(
    bind=True,
    name="scheduler.tasks.alerts.requeue_stuck_alerts",
    acks_late=True,
    soft_time_limit=120,
    time_limit=180,
)
def requeue_stuck_alerts(self: Any) -> dict[str, Any]:
    """Re-queue alerts stuck in sending and send pending ones no live run will; returns counts."""
    now = utcnow()
    cutoff = now - timedelta(seconds=CONFIG.alert_stuck_after)
    with Session.begin() as session:
        requeued = outbox.requeue_stuck(
            session, older_than=cutoff, max_attempts=CONFIG.alert_max_attempts
        )
        run, new = outbox.start_run(session, task_id=self.request.id, now=now)
        if run.status != "running":  # re-delivered after its chord already closed the run
            return {"requeued": requeued, "subscribers": run.subscribers, "run_id": run.id}
        subscriber_ids = outbox.adopt_orphans(session, run.id, older_than=cutoff)
        closed = outbox.close_lost_runs(session, now=now, started_before=cutoff)
        run.subscribers = len(subscriber_ids)
        run_id = run.id
        if new and not subscriber_ids:
            session.delete(run)  # nothing to do: keep the run list free of empty sweeps
    size = CONFIG.mail_batch_size
    batches = [subscriber_ids[i : i + size] for i in range(0, len(subscriber_ids), size)]
    if batches or not new:
        dispatch(run_id, batches)
    return {
        "requeued": requeued,
        "closed": closed,
        "subscribers": len(subscriber_ids),
        "run_id": run_id if batches or not new else None,
    }
