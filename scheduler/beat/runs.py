"""Beat's record of what it sent: last_run_at written right after each send, kept if it fails."""

from __future__ import annotations

import logging
from datetime import datetime

from scheduler.beat import entries as store

logger = logging.getLogger("scheduler.beat.scheduler")


class RunLog:
    """Writes each run to the database; runs it could not write are retried by flush()."""

    def __init__(self) -> None:
        self.unsaved: dict[str, datetime] = {}

    def save(self, name: str, at: datetime) -> None:
        """Store the run now, or keep it for flush() when the database is unreachable."""
        try:
            store.in_transaction(lambda s: store.record_run(s, name, at))
        except Exception as exc:  # the database is down; the run is kept, not lost
            logger.warning("beat: could not store the run of %s (%s); will retry", name, exc)
            self.unsaved[name] = at

    def flush(self) -> None:
        """Write the kept runs in order, stopping at the first failure."""
        while self.unsaved:
            name, at = next(iter(self.unsaved.items()))
            try:
                store.in_transaction(lambda s, n=name, t=at: store.record_run(s, n, t))
            except Exception:
                return
            del self.unsaved[name]
