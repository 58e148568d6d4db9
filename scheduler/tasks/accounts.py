"""Account tasks: send a sign-in link, sweep sign-ups never confirmed.

send_sign_in_link runs twice safely: it answers one request (the newest for that address), and
once the server accepted its email the request is marked sent, so a redelivered task sends
nothing; only a crash between the server's 250 and that mark repeats the email (with a new
link that voids the first).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from models import Session, utcnow
from scheduler.accounts import signin
from scheduler.accounts.email import render_sign_in
from scheduler.alerts import transport as mail
from scheduler.alerts.delivery import backoff
from scheduler.app import celery as app
from scheduler.app import current_config
from scheduler.tasks.outage import DatabaseTask

log = logging.getLogger(__name__)


@app.task(
    bind=True,
    base=DatabaseTask,
    name="scheduler.tasks.accounts.send_sign_in_link",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
)
def send_sign_in_link(self: Any, subscriber_id: int, request_id: str) -> dict[str, Any]:
    """Send the sign-in link of one request; returns whether it went and why not."""
    config = current_config()
    if not config.secret_key:
        log.error("sign-in link for subscriber %s not sent: SECRET_KEY is not set", subscriber_id)
        return {"sent": False, "why": "SECRET_KEY is not set"}
    request = signin.SignInRequest(subscriber_id, request_id)
    with Session.begin() as session:  # a database that is down: DatabaseTask retries
        issued = signin.issue_link(session, request, now=utcnow(), secret_key=config.secret_key)
    if issued is None:
        return {"sent": False, "why": "superseded or already sent"}
    address, token = issued
    email = render_sign_in(
        address,
        token=token,
        public_url=config.public_url,
        message_key=f"{subscriber_id}-{request_id}",
        domain=config.mail_domain,
    )
    try:
        with mail.connect(current_app) as conn:
            mail.send_email(conn, email, config.mail_default_sender)
    except mail.PermanentFailure as exc:
        log.warning("sign-in link for subscriber %s refused: %s", subscriber_id, exc)
        return {"sent": False, "why": str(exc)}
    except (mail.TemporaryFailure, mail.ConnectionFailure) as exc:
        return _retry(self, subscriber_id, str(exc))
    with Session.begin() as session:
        signin.mark_sent(session, request)
    log.info("sign-in link sent to subscriber %s", subscriber_id)
    return {"sent": True}


def _retry(task: Any, subscriber_id: int, reason: str) -> dict[str, Any]:
    config = current_config()
    tries = task.request.retries
    if tries + 1 >= config.alert_max_attempts:
        log.warning(
            "sign-in link for subscriber %s not sent after %s attempts: %s",
            subscriber_id,
            tries + 1,
            reason,
        )
        return {"sent": False, "why": reason}
    countdown = backoff(config.mail_retry_backoff, config.mail_retry_backoff_max, tries)
    log.warning(
        "sign-in link for subscriber %s not sent (%s); retry %s of %s in %.0fs",
        subscriber_id,
        reason,
        tries + 1,
        config.alert_max_attempts - 1,
        countdown,
    )
    raise task.retry(countdown=countdown)


@app.task(
    base=DatabaseTask,
    db_retries=0,  # the next day's run tries again
    name="scheduler.tasks.accounts.sweep_unconfirmed",
    acks_late=True,
    soft_time_limit=120,
    time_limit=180,
)
def sweep_unconfirmed() -> dict[str, int]:
    """Forget sign-ups that never opened their link within a week; returns how many."""
    with Session.begin() as session:
        removed = signin.sweep_unconfirmed(session, now=utcnow())
    if removed:
        log.info("removed %s sign-ups never confirmed", removed)
    return {"removed": removed}
