"""What a task does when the database is out of reach: one log line, then a retry or the next run.

Celery logs a task that raises as "raised unexpected" with its traceback, some 130 lines for
one refused connection, so the line that matters drowns. A task built on DatabaseTask meets an
unreachable or unmigrated database (models.errors.expected) with one line naming it, and
either retries with backoff (1, 2, 4, ... s, at most DB_BACKOFF_MAX) or, for a periodic
sweep whose next run is the retry, returns. Every task is idempotent, so a retry redoes
only what the failed try rolled back.
"""

from __future__ import annotations

import logging
from typing import Any

from models import errors
from scheduler.app import FlaskTask

log = logging.getLogger(__name__)

DB_BACKOFF_BASE, DB_BACKOFF_MAX = 1, 60


def db_backoff(retries: int) -> int:
    """Return the seconds before retry number retries + 1: doubling from 1 s, capped."""
    return int(min(DB_BACKOFF_MAX, DB_BACKOFF_BASE * 2**retries))


class DatabaseTask(FlaskTask):
    """A task that logs one line for an unreachable database and retries (db_retries times).

    db_retries: 0 for a periodic sweep (the next run tries again). A task that gives up
    returns {"error": ...}, so a chord's callback still runs.
    """

    db_retries = 5
    max_retries = None  # database retries are counted against db_retries, here

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            # Called in-process by another task, that task's own handler speaks for both.
            if not errors.expected(exc) or self.request.called_directly:
                raise
            return self.database_down(exc)

    def database_down(self, exc: BaseException) -> dict[str, str]:
        """Log one line, then raise Retry with backoff or return the give-up status."""
        reason, tries = errors.describe(exc), self.request.retries
        name = f"{short_name(self.name)}[{self.request.id}]"
        if tries < self.db_retries:
            countdown = db_backoff(tries)
            log.warning(
                "%s: %s; retry %d of %d in %ds", name, reason, tries + 1, self.db_retries, countdown
            )
            raise self.retry(countdown=countdown)
        if self.db_retries:
            log.error("%s: %s; gave up after %d retries", name, reason, self.db_retries)
        else:
            log.warning("%s: %s; the next run tries again", name, reason)
        return {"error": reason}


def short_name(task_name: str) -> str:
    """Return a task's name without its package, e.g. alerts.check_watchlists."""
    return task_name.removeprefix("scheduler.tasks.")
