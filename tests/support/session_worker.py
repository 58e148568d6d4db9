"""The in-process Celery worker the tests share, and the drain that keeps each test's tasks its own.

One worker (threads pool) serves the whole session while the tests rebind the database and the
mail settings between them (tests/support/app.py), and every test's tables start empty with
their ids back at 1. A task a test leaves behind would run in a later test, with that test's
database and settings: a send's retry held for its countdown claimed a later test's alerts by
their reused subscriber ids and sent them to that test's mail server. So around every test
`drain` revokes what the worker holds, waits for what it runs to end and empties its queues.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from celery import Celery
from celery.worker import state as worker_state

QUEUES = ("celery", "scrape", "mail")
# A send's hard time limit is 150 s, which a threads pool does not enforce: a task still
# running this long after its test is stuck, and the test that left it fails loudly.
DRAIN_TIMEOUT = 180.0


def _snapshot(requests: Iterable[Any]) -> list[Any]:
    """Return a list of a WeakSet of requests that the worker's threads change as we read."""
    while True:
        try:
            return list(requests)
        except RuntimeError:  # "set changed size during iteration": read it again
            continue


class SessionWorker:
    """The session's in-process worker, once started, and what it still holds of a test."""

    def __init__(self, app: Celery, broker_url: str) -> None:
        self.app = app
        self.broker_url = broker_url  # the worker's, whatever a test sets the app's to
        self.running = False
        self.revoked: set[str] = set()  # ids this drain revoked, until no request carries them

    def held(self) -> list[Any]:
        """Return the requests the worker holds: waiting for a countdown, queued or running."""
        if not self.running:
            return []
        found = {
            id(request): request
            for requests in (
                worker_state.scheduled_requests,
                worker_state.reserved_requests,
                worker_state.active_requests,
            )
            for request in _snapshot(requests)
        }
        return list(found.values())

    def drain(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Revoke every task the worker holds, wait for those running, purge; fails after timeout.

        A revoked task waiting for its countdown is dropped when it comes due, and so is any
        retry it sent: a retry keeps its task's id. Tasks that were running finish first.
        """
        if not self.running:
            return
        deadline = time.monotonic() + timeout
        while True:
            held = self.held()
            self._revoke(request.id for request in held)
            purged = self.purge()
            # Revoked requests waiting for their countdown are dropped when due; the rest run.
            waiting = set(_snapshot(worker_state.scheduled_requests))
            busy = [request for request in held if request not in waiting]
            if not busy and not purged:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"running {timeout:.0f} s after its test: {_names(busy)}")
            time.sleep(0.05)
        self._forget({request.id for request in self.held()})

    def _revoke(self, task_ids: Iterable[str]) -> None:
        # The worker runs in this process: its own revoked set, read by its consumer thread for
        # every request, takes effect at once, unlike a broadcast a busy consumer answers late.
        fresh = set(task_ids) - self.revoked
        if fresh:
            worker_state.revoked.update(fresh)
            self.revoked |= fresh

    def _forget(self, still_held: set[str]) -> None:
        # Nothing runs or waits in a queue any more, so no message with these ids can come: a
        # later test may reuse one (apply_async(task_id=...)) and must not find it revoked.
        for task_id in self.revoked - still_held:
            worker_state.revoked.discard(task_id)
        self.revoked &= still_held

    def purge(self) -> int:
        """Delete the messages waiting in the worker's queues; return how many there were."""
        with self.app.connection_for_write(url=self.broker_url) as conn:
            return sum(conn.default_channel.queue_purge(queue) or 0 for queue in QUEUES)


def _names(requests: Sequence[Any]) -> str:
    return ", ".join(f"{r.name}{r.argsrepr}" for r in requests) or "none"
