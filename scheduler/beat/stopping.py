"""SIGTERM and SIGINT for beat: stop between calls, never in the middle of one.

Celery's own beat handler closes the scheduler inside the signal handler and raises
SystemExit wherever the main thread happens to be: in the middle of a Redis reply (after
`SET NX` took the lock but before beat noted it held it, so the lock was left to expire), or
of a database write that the handler's own close then tries to repeat on the same session.
Here the handler only records the request. Beat stops at its next safe point: at once when it
is idle (waiting for the next due time, a nudge, or its turn as standby), otherwise as soon as
the call in progress returns. A second signal stops it at once, wherever it is.
`celery beat` uses StoppableBeat (scheduler.app's Celery app names it as its Beat class).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from celery import platforms
from celery.apps.beat import Beat


class StopRequest:
    """Records a stop signal; raises SystemExit only at points where nothing is in flight."""

    def __init__(self) -> None:
        self.requested = False
        self._idle = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: stop now if idle or asked twice, otherwise at the next check()."""
        if self._idle or self.requested:
            raise SystemExit()
        self.requested = True

    def check(self) -> None:
        """Raise SystemExit if a stop was requested."""
        if self.requested:
            raise SystemExit()

    @contextmanager
    def idle(self) -> Iterator[None]:
        """Mark a wait that a stop may cut short (it holds no half-done call worth finishing)."""
        self.check()
        self._idle = True
        try:
            yield
        finally:
            self._idle = False
        self.check()


class StoppableBeat(Beat):
    """`celery beat` whose SIGTERM/SIGINT go to the scheduler's StopRequest when it has one."""

    def install_sync_handler(self, service: Any) -> None:
        stop = getattr(service.scheduler, "stop", None)  # builds the scheduler if not yet built
        if isinstance(stop, StopRequest):
            platforms.signals.update(SIGTERM=stop.handle, SIGINT=stop.handle)
        else:
            super().install_sync_handler(service)
