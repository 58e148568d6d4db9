"""Time limits and the sweep's patience: what the sweep takes for stuck must really be stuck."""

from __future__ import annotations

from config import load_config
from scheduler.tasks.alerts import send_digests


def test_a_send_still_running_is_never_taken_for_stuck_with_the_defaults() -> None:
    # The sweep re-queues claims older than ALERT_STUCK_AFTER; a send may hold its claims
    # until its hard time limit, so a shorter wait would send its emails a second time.
    stuck_after = load_config({}).alert_stuck_after
    assert send_digests.soft_time_limit < send_digests.time_limit < stuck_after
