"""Workers stopped mid fan-out the ways dynos stop: SIGKILL at several points, SIGTERM mid batch."""

from __future__ import annotations

import pytest

from tests.reliability.fanout import assert_within, fan_out, seed_subscribers, statuses
from tests.support.faults import record_figures

EMAILS = 1000
# SIGKILL of a dyno kills the worker and its two pool processes, each perhaps mid send: each
# may repeat the one message the server accepted and the database had not yet recorded.
KILLED_SENDERS = 2


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", [100, 500, 900])
def test_a_worker_sigkilled_mid_fan_out_then_restarted_loses_nothing(
    fault_db, client, sink, start_worker, kill_at
):
    emails = seed_subscribers(EMAILS)
    worker = start_worker()

    def crash_and_restart() -> None:
        worker.kill()
        start_worker()

    result = fan_out(
        f"SIGKILL at {kill_at}/{EMAILS}, restarted",
        client,
        sink,
        emails=emails,
        fault_after=kill_at,
        fault=crash_and_restart,
    )

    assert_within(result, duplicates=KILLED_SENDERS)
    assert statuses() == {"sent": EMAILS}


@pytest.mark.slow
def test_one_of_two_workers_sigkilled_mid_fan_out_loses_nothing(
    fault_db, client, sink, start_worker
):
    emails = seed_subscribers(EMAILS)
    doomed = start_worker()
    start_worker()

    result = fan_out(
        "two workers, one SIGKILLed at 300",
        client,
        sink,
        emails=emails,
        fault_after=300,
        fault=doomed.kill,
    )

    assert_within(result, duplicates=KILLED_SENDERS)
    assert statuses() == {"sent": EMAILS}


def test_a_worker_sigtermed_mid_batch_finishes_or_hands_back_within_30_s(
    fault_db, client, sink, start_worker
):
    emails = seed_subscribers(200)
    sink.handler.data_delay = 0.03  # ~1.5 s a batch of 50, so the signal lands mid batch
    worker = start_worker()
    took: list[float] = []

    def heroku_restart() -> None:
        took.append(worker.terminate())
        record_figures(f"SIGTERM: the worker stopped in {took[0]:.1f} s")
        start_worker()

    result = fan_out(
        "SIGTERM mid batch", client, sink, emails=emails, fault_after=60, fault=heroku_restart
    )

    assert took[0] < 30, f"the worker took {took[0]:.1f} s to stop"
    assert_within(result, duplicates=0)
    assert statuses() == {"sent": 200}
