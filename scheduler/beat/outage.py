"""Beat without its database: one line when it goes, one per retry as they back off, one when back.

Beat keeps running (and keeps its Redis lock) while the database is out of reach; it asks
again 1, 2, 4, ... s later, at most RETRY_MAX apart, rather than every tick, so a long outage
costs a line a RETRY_MAX, never a traceback or a line a second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from models import errors

logger = logging.getLogger("scheduler.beat.scheduler")
RETRY_BASE, RETRY_MAX = 1.0, 30.0


def reason(exc: BaseException) -> str:
    """Return what went wrong in one line: the database's state, or the error's type and text."""
    if errors.expected(exc):
        return errors.describe(exc)
    return f"{type(exc).__name__}: {errors.one_line(exc)}"


class Outage:
    """When beat may ask the database again, and the lines that say how it is going.

    clock: seconds, beat's own clock (so tests can freeze it).
    """

    def __init__(
        self, clock: Callable[[], float], base: float = RETRY_BASE, cap: float = RETRY_MAX
    ) -> None:
        self.clock, self.base, self.cap = clock, base, cap
        self.since: float | None = None  # when the first failed try of this outage was
        self.failures = 0
        self.next_try = 0.0

    def attempt(self, doing: str, work: Callable[[], object]) -> bool:
        """Run work unless a failed try's backoff is still running; return True if it ran.

        Any error counts as the database's (one line, no traceback): beat must keep running.
        """
        if self.since is not None and self.clock() < self.next_try:
            return False
        try:
            work()
        except Exception as exc:
            self.failed(doing, exc)
            return False
        self.recovered()
        return True

    def failed(self, doing: str, exc: BaseException) -> None:
        """Note a failed try and log one line saying when the next one is."""
        now = self.clock()
        wait = min(self.cap, self.base * 2**self.failures)
        self.failures += 1
        self.next_try = now + wait
        if self.since is None:
            self.since = now
            logger.warning("beat: could not %s: %s; trying again in %gs", doing, reason(exc), wait)
        else:
            logger.warning(
                "beat: could not %s (try %d, %.0fs into the outage): %s; trying again in %gs",
                doing,
                self.failures,
                now - self.since,
                reason(exc),
                wait,
            )

    def recovered(self) -> None:
        """Note a successful try; log one line if it ends an outage."""
        if self.since is None:
            return
        logger.warning(
            "beat: the database answers again after %.0fs and %d failed tries; firing resumes",
            self.clock() - self.since,
            self.failures,
        )
        self.since, self.failures = None, 0
