"""Beat's record of what it sent: last_run_at written right after each send, kept if it fails."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from scheduler.beat import entries as store

logger = logging.getLogger("scheduler.beat.scheduler")


class RunLog:
    """Writes each run to the database; runs it could not write are retried by flush()."""

    def __init__(self) -> None:
        self.unsaved: dict[str, tuple[datetime, str | None]] = {}

    def save(self, name: str, at: datetime, task_id: str | None = None) -> None:
        """Store the run (and the id of the task sent) now, or keep it for flush() when the
        database is unreachable."""
        try:
            store.in_transaction(lambda s: store.record_run(s, name, at, task_id))
        except Exception as exc:  # the database is down; the run is kept, not lost
            logger.warning("beat: could not store the run of %s (%s); will retry", name, exc)
            self.unsaved[name] = (at, task_id)

    def flush(self) -> None:
        """Write the kept runs in order, stopping at the first failure."""
        while self.unsaved:
            name, (at, task_id) = next(iter(self.unsaved.items()))
            try:
                store.in_transaction(partial(store.record_run, name=name, at=at, task_id=task_id))
            except Exception:
                return
            del self.unsaved[name]
