"""The delivery loop: claim a batch's alerts, send each digest, record each answer at once.

Exactly once rests on two rules. A digest is sent only for alerts this call claimed, and the
server's answer for it is committed (one UPDATE, one commit, in the sending thread) before the
next digest goes out, so a killed process repeats at most the one message in flight, with the
same Message-ID. While the database cannot take an answer nothing more is sent: the record is
retried with backoff, then handed back to the task (DatabaseUnavailable) to retry later.
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from models import Session, get_engine, utcnow
from scheduler.alerts import outbox
from scheduler.alerts import transport as mail
from scheduler.alerts.render import Digest, render_digest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """The server's answer for one digest: 'sent' (detail: Message-ID), 'fail' or 'release'."""

    kind: str
    alert_ids: tuple[int, ...]
    subscriber_id: int
    detail: str

    def to_json(self) -> list[Any]:
        """Return the result as a JSON-able list, to hand back to a retried task."""
        return [self.kind, list(self.alert_ids), self.subscriber_id, self.detail]

    @classmethod
    def from_json(cls, value: Sequence[Any]) -> Result:
        """Return the result that to_json gave; raises ValueError for anything else."""
        kind, ids, subscriber_id, detail = value
        if kind not in ("sent", "fail", "release"):
            raise ValueError(f"not a delivery result kind: {kind!r}")
        return cls(str(kind), tuple(int(i) for i in ids), int(subscriber_id), str(detail))


@dataclass
class Outcome:
    """What one send did: alert counts, and subscribers to try again later."""

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


class DatabaseUnavailable(Exception):
    """The database cannot record results; `unrecorded` must be recorded by the retried task."""

    def __init__(self, reason: str, unrecorded: Sequence[Result] = ()) -> None:
        super().__init__(reason)
        self.unrecorded = list(unrecorded)


_UNREACHABLE = (OperationalError, InterfaceError)


def is_unreachable(exc: BaseException) -> bool:
    """Return True for a database error that a retry may cure (down, restarting, locked)."""
    return isinstance(exc, _UNREACHABLE) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def backoff(base: float, cap: float, retries: int) -> float:
    """Return seconds to wait before retry number retries + 1: exponential, capped, jittered."""
    return min(base * 2**retries, cap) * random.uniform(0.8, 1.0)


class Recorder:
    """Commits each answer on its own autocommit connection, retrying while the DB is down."""

    def __init__(
        self, settings: mail.MailSettings, outcome: Outcome, retry_in: float | None = None
    ) -> None:
        self.settings, self.outcome = settings, outcome
        self.retry_in = retry_in  # seconds until the task's retry: released alerts wait for it
        self.db: Connection | None = None
        self.sending: Digest | None = None  # sent to the server, answer not yet known
        self.pending: Result | None = None  # answer known, not yet committed

    def record(self, result: Result, *, replay: bool = False) -> None:
        """Commit result and count it; raises DatabaseUnavailable when out of retries.

        replay: an answer handed back by an earlier try; released alerts it puts back are
        claimed again by this try, so they are not counted as failures nor retried later.
        """
        self.pending = result
        for attempt in range(self.settings.record_retries + 1):
            try:
                back = self._write(result, None if replay else self.retry_in)
                break
            except DBAPIError as exc:
                if not is_unreachable(exc):
                    raise
                self.close()
                if attempt == self.settings.record_retries:
                    raise DatabaseUnavailable(f"cannot record results: {exc.orig!r}") from exc
                wait = backoff(self.settings.record_backoff, 30.0, attempt)
                log.warning(
                    "cannot record %s for %s; retrying in %.1fs",
                    result.kind,
                    result.alert_ids,
                    wait,
                )
                time.sleep(wait)
        self.pending = self.sending = None
        if not (replay and result.kind == "release"):
            self._count(result, back)

    def flush(self) -> None:
        """Commit the answer that was being recorded when the task was interrupted, if any."""
        if self.pending is not None:
            self.close()  # a connection interrupted mid-statement is not to be trusted
            self.record(self.pending)

    def _write(self, result: Result, retry_in: float | None) -> int:
        # Autocommit: each answer is one UPDATE and its commit, one round trip on PostgreSQL.
        if self.db is None:
            self.db = get_engine().connect().execution_options(isolation_level="AUTOCOMMIT")
        ids, back = list(result.alert_ids), 0
        if result.kind == "sent":
            outbox.mark_sent(self.db, ids, message_id=result.detail, now=utcnow())
        elif result.kind == "fail":
            outbox.mark_failed(self.db, ids, reason=result.detail)
        else:
            retry_at = None if retry_in is None else utcnow() + timedelta(seconds=retry_in)
            back = outbox.release(
                self.db,
                ids,
                reason=result.detail,
                max_attempts=self.settings.max_attempts,
                retry_at=retry_at,
            )
        self.db.commit()
        return back

    def _count(self, result: Result, back: int) -> None:
        outcome, count = self.outcome, len(result.alert_ids)
        if result.kind == "sent":
            outcome.sent, outcome.emails = outcome.sent + count, outcome.emails + 1
            return
        outcome.error = result.detail
        if result.kind == "fail":
            log.warning(
                "alerts %s to subscriber %s failed: %s",
                result.alert_ids,
                result.subscriber_id,
                result.detail,
            )
        if back:
            outcome.retry_ids.append(result.subscriber_id)
        outcome.failed += count - back

    def close(self) -> None:
        """Give the connection back (a broken one is discarded)."""
        if self.db is not None:
            try:
                self.db.close()
            except DBAPIError:
                pass
            self.db = None


def claim(subscriber_ids: Sequence[int], settings: mail.MailSettings) -> list[Digest]:
    """Claim these subscribers' pending alerts; return their digests. DatabaseUnavailable."""
    try:
        with Session.begin() as session:
            claimed = outbox.claim_alerts(session, subscriber_ids, now=utcnow())
            return outbox.load_digests(session, claimed, store_url=settings.store_url)
    except DBAPIError as exc:
        if not is_unreachable(exc):
            raise
        raise DatabaseUnavailable(f"cannot claim alerts: {exc.orig!r}") from exc


def send_one(
    conn: mail.MailConnection, digest: Digest, settings: mail.MailSettings, recorder: Recorder
) -> Result:
    """Render and send one digest; return the server's answer. ConnectionFailure escapes."""
    ids, sid = tuple(digest.alert_ids), digest.subscriber_id
    try:
        email = render_digest(digest, public_url=settings.public_url, domain=settings.domain)
    except Exception as exc:  # a bug for one subscriber must not stop the batch or the chord
        log.exception("cannot render digest for subscriber %s", sid)
        return Result("fail", ids, sid, f"render error: {type(exc).__name__}: {exc}")
    accepted = Result("sent", ids, sid, email.message_id)
    try:
        mail.send_email(conn, email, settings.default_sender)
        # No call between the server's 250 and this store, so a soft time limit (a signal)
        # cannot land in between: once accepted, the answer is always committed.
        recorder.pending = accepted
    except mail.PermanentFailure as exc:
        return Result("fail", ids, sid, str(exc))
    except mail.TemporaryFailure as exc:
        return Result("release", ids, sid, str(exc))
    return accepted


def deliver(unsent: deque[Digest], settings: mail.MailSettings, recorder: Recorder) -> None:
    """Send digests on one SMTP connection, committing each answer before the next send.

    Takes digests off the left of unsent as they go, so what is left was never sent.
    """
    try:
        with mail.connect(current_app) as conn:  # the Flask app the task runs in
            while unsent:
                recorder.sending = unsent.popleft()
                recorder.record(send_one(conn, recorder.sending, settings, recorder))
    except SoftTimeLimitExceeded:
        recorder.flush()
        if recorder.sending is not None:  # the server may have it: leave it to the sweep
            ids = recorder.sending.alert_ids
            log.warning("soft time limit mid-send: alerts %s left for the sweep", ids)
        release(unsent, "soft time limit reached", recorder)
    except mail.ConnectionFailure as exc:
        recorder.flush()
        if recorder.sending is not None:
            unsent.appendleft(recorder.sending)
        release(unsent, str(exc), recorder)


def release(unsent: deque[Digest], reason: str, recorder: Recorder) -> None:
    """Put unsent digests' alerts back to pending (or failed when out of attempts)."""
    while unsent:
        digest = unsent[0]
        recorder.sending = None
        recorder.record(Result("release", tuple(digest.alert_ids), digest.subscriber_id, reason))
        unsent.popleft()


def _owed(pending: Result | None, unsent: Iterable[Digest]) -> list[Result]:
    owed = [pending] if pending is not None else []
    done = {pending.alert_ids} if pending is not None else set()
    reason = "released unsent: the database was unreachable"
    for digest in unsent:
        if tuple(digest.alert_ids) not in done:
            owed.append(Result("release", tuple(digest.alert_ids), digest.subscriber_id, reason))
    return owed


def send_batch(
    subscriber_ids: Sequence[int],
    settings: mail.MailSettings,
    *,
    unrecorded: Sequence[Any] = (),
    retry_in: float | None = None,
) -> Outcome:
    """Record answers a failed try handed back, then claim and send; returns the outcome.

    retry_in: seconds until the caller retries what it releases (outcome.retry_ids); those
    alerts wait that long for it. Raises DatabaseUnavailable, carrying every answer still to
    record, when the database stays unreachable; nothing is sent after an answer that could
    not be recorded.
    """
    outcome = Outcome()
    recorder = Recorder(settings, outcome, retry_in)
    owed = deque(Result.from_json(item) for item in unrecorded)
    unsent: deque[Digest] = deque()
    try:
        while owed:
            recorder.record(owed[0], replay=True)
            owed.popleft()
        unsent.extend(claim(subscriber_ids, settings))
        if unsent:
            deliver(unsent, settings, recorder)
    except DatabaseUnavailable as exc:
        exc.unrecorded = list(owed) or _owed(recorder.pending, unsent)
        raise
    finally:
        recorder.close()
    return outcome
