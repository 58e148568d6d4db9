"""Alert tasks: find due alerts, send digests in a chord of batches, close the run, sweep.

Every task here runs twice safely: a run is keyed by its task id, a send claims its alerts
with a conditional UPDATE before sending and sends only what it claimed, and the closing
callback recomputes the figures from the alerts themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from celery import chord
from sqlalchemy.exc import InterfaceError, OperationalError

from models import Session, utcnow
from scheduler.alerts import delivery, outbox
from scheduler.alerts import runs as alert_runs
from scheduler.alerts import transport as mail
from scheduler.alerts.watchlist import find_due_alerts, pending_alert_batches
from scheduler.app import celery as app
from scheduler.app import current_config
from scheduler.logs import key_values
from scheduler.tasks.outage import DatabaseTask

log = logging.getLogger(__name__)

# A send's claims look stuck to the sweep only after ALERT_STUCK_AFTER (180 s by default), which
# must outlast a send that is still running: its hard limit. A batch cut short by the soft
# limit releases what it has not sent for its own retry, so a short limit loses nothing.
SEND_SOFT_TIME_LIMIT = 120
SEND_TIME_LIMIT = 150
CHECK_SOFT_TIME_LIMIT = 600


@app.task(
    bind=True,
    base=DatabaseTask,
    name="scheduler.tasks.alerts.check_watchlists",
    acks_late=True,
    soft_time_limit=CHECK_SOFT_TIME_LIMIT,
    time_limit=CHECK_SOFT_TIME_LIMIT + 60,
)
def check_watchlists(self: Any) -> dict[str, Any]:
    """Record due alerts in a run and fan their emails out; returns the run id and batch count."""
    batch_size, now = current_config().mail_batch_size, utcnow()
    with Session.begin() as session:
        run, new = alert_runs.start_run(session, task_id=self.request.id, now=now)
        if run.status != "running":  # re-delivered after its chord already closed the run
            return {"run_id": run.id, "batches": 0}
        if new:
            run.alerts_new = find_due_alerts(session, now=now, alert_run_id=run.id)
        batches = pending_alert_batches(session, batch_size=batch_size, now=now)
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


@app.task(
    bind=True,
    name="scheduler.tasks.alerts.send_digests",
    acks_late=True,
    max_retries=None,
    soft_time_limit=SEND_SOFT_TIME_LIMIT,
    time_limit=SEND_TIME_LIMIT,
)
def send_digests(
    self: Any,
    run_id: int,
    subscriber_ids: list[int],
    unrecorded: list[Any] | None = None,
    db_retries: int = 0,
) -> dict[str, Any]:
    """Send one digest per subscriber over one SMTP connection; returns counts, never raises.

    unrecorded: answers a try could not record (the database was down), recorded first.
    """
    settings = mail.MailSettings.from_config(current_config())
    # Known before sending: alerts released for the retry are stamped with its time.
    countdown = delivery.backoff(
        settings.retry_backoff, settings.retry_backoff_max, self.request.retries
    )
    try:
        outcome = delivery.send_batch(
            subscriber_ids, settings, unrecorded=unrecorded or (), retry_in=countdown
        )
    except delivery.DatabaseUnavailable as exc:
        return _database_down(self, run_id, subscriber_ids, exc, db_retries, settings)
    except Exception as exc:  # a chord header must return, or the run never closes
        log.exception("alert run %s: send of %s failed", run_id, subscriber_ids)
        return {"sent": 0, "failed": 0, "emails": 0, "error": f"{type(exc).__name__}: {exc}"}
    retry_ids = outcome.retry_ids
    if db_retries:  # alerts an earlier try put back for its SMTP retry wait for this task still
        waiting, due_in = _still_waiting(subscriber_ids)
        countdown = max(countdown if retry_ids else 0.0, due_in)
        retry_ids = sorted({*retry_ids, *waiting})
    if retry_ids:
        log.info(
            "alert run %s: retrying %d subscribers in %.1fs: %s",
            run_id,
            len(retry_ids),
            countdown,
            outcome.error,
        )
        raise self.retry(args=(run_id, retry_ids), kwargs={}, countdown=countdown)
    status = outcome.status()
    log.info(
        "alert send %s", key_values({"run_id": run_id, "batch": len(subscriber_ids), **status})
    )
    return status


def _still_waiting(subscriber_ids: list[int]) -> tuple[list[int], float]:
    """Return the subscribers whose alerts wait for a retry, and the seconds until it is due.

    A try that put alerts back for an SMTP retry and then lost the database retried for the
    database instead, sooner: those alerts are this task's still. Should the database fail
    again here, the sweep takes them ALERT_STUCK_AFTER after their retry was due.
    """
    now = utcnow()
    try:
        with Session() as session:
            waiting, due = outbox.waiting_for_retry(session, subscriber_ids, now=now)
    except (OperationalError, InterfaceError) as exc:
        log.warning("cannot look up alerts waiting for a retry: %s", type(exc).__name__)
        return [], 0.0
    return waiting, (due - now).total_seconds() if due is not None else 0.0


def _database_down(
    task: Any,
    run_id: int,
    subscriber_ids: list[int],
    exc: delivery.DatabaseUnavailable,
    db_retries: int,
    settings: mail.MailSettings,
) -> dict[str, Any]:
    """Hand the unrecorded answers to a retry of the task, or give up with a status."""
    owed = [result.to_json() for result in exc.unrecorded]
    if db_retries >= settings.record_retries:
        log.error(
            "alert run %s: giving up on %d subscribers, %d answers unrecorded: %s",
            run_id,
            len(subscriber_ids),
            len(owed),
            exc,
        )
        return {"sent": 0, "failed": 0, "emails": 0, "error": str(exc)}
    countdown = delivery.backoff(settings.record_backoff * 4, 60.0, db_retries)
    log.warning("alert run %s: %s; trying again in %.1fs", run_id, exc, countdown)
    raise task.retry(
        args=(run_id, subscriber_ids),
        kwargs={"unrecorded": owed, "db_retries": db_retries + 1},
        countdown=countdown,
    )


@app.task(
    bind=True,
    name="scheduler.tasks.alerts.finish_alert_run",
    base=DatabaseTask,
    acks_late=True,
    # The run closes only here: ride out a database restart (about 3 min) rather than leave it
    # running for the sweep.
    db_retries=8,
    soft_time_limit=60,
    time_limit=120,
)
def finish_alert_run(self: Any, results: list[Any], run_id: int) -> dict[str, Any]:
    """Close the run with its sent/failed/skipped figures and log one line; returns them."""
    errors = [r["error"] for r in results if isinstance(r, dict) and r.get("error")]
    with Session.begin() as session:
        run = alert_runs.finish_run(session, run_id, now=utcnow(), errors=errors)
        figures = {
            "run_id": run.id,
            "status": run.status,
            "alerts_new": run.alerts_new,
            "subscribers": run.subscribers,
            "sent": run.sent,
            "failed": run.failed,
            "skipped": run.skipped,
        }
        seconds = ((run.finished_at or utcnow()) - run.started_at).total_seconds()
    log.info("alert run %s", key_values({**figures, "seconds": round(seconds, 1)}))
    return figures


@app.task(
    bind=True,
    base=DatabaseTask,
    name="scheduler.tasks.alerts.requeue_stuck_alerts",
    acks_late=True,
    db_retries=0,  # a sweep: the next one, a minute later, is the retry
    soft_time_limit=120,
    time_limit=180,
)
def requeue_stuck_alerts(self: Any) -> dict[str, Any]:
    """Re-queue alerts stuck in sending and send pending ones no live run will; returns counts."""
    config, now = current_config(), utcnow()
    cutoff = now - timedelta(seconds=config.alert_stuck_after)
    with Session.begin() as session:
        requeued = outbox.requeue_stuck(
            session, older_than=cutoff, max_attempts=config.alert_max_attempts
        )
        run, new = alert_runs.start_run(session, task_id=self.request.id, now=now)
        if run.status != "running":  # re-delivered after its chord already closed the run
            return {"requeued": requeued, "subscribers": run.subscribers, "run_id": run.id}
        live = alert_runs.live_run_ids(session, since=cutoff)
        subscriber_ids = outbox.adopt_orphans(
            session, run.id, older_than=cutoff, live_runs=live, now=now
        )
        closed = alert_runs.close_lost_runs(session, now=now, started_before=cutoff)
        run.subscribers = len(subscriber_ids)
        run_id = run.id
        if new and not subscriber_ids:
            session.delete(run)  # nothing to do: keep the run list free of empty sweeps
    size = config.mail_batch_size
    batches = [subscriber_ids[i : i + size] for i in range(0, len(subscriber_ids), size)]
    if batches or not new:
        dispatch(run_id, batches)
    return {
        "requeued": requeued,
        "closed": closed,
        "subscribers": len(subscriber_ids),
        "run_id": run_id if batches or not new else None,
    }
