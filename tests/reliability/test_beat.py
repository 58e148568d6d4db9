"""Fault suite, beat: the active beat killed or stopped while a per-second entry runs.

Two beat processes on PostgreSQL (as in production) share the lock; the Watcher sees every
message that reaches the broker. Each scenario prints one line of figures and asserts the
limits: the standby takes over within 15 s of a SIGKILL (the lock's 10 s TTL plus one poll)
and within 3 s of a SIGTERM, no tick is sent twice, and no tick is missing outside the
takeover gap.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass

import pytest

from tests.support.beat import Watcher, add_probe, holder_pid, wait_for
from tests.support.faults import record_figures

EVERY = 1
RUN_BEFORE = 15.0
RUN_AFTER = 15.0


@dataclass
class Figures:
    """What one scenario measured, from the times the sends reached the broker."""

    expected: int
    fired: int
    duplicates: int
    skipped: int
    recover: float

    def line(self, scenario: str) -> str:
        """Return the one line the suite prints for this scenario."""
        return (
            f"beat {scenario}: expected {self.expected} / fired {self.fired} / duplicates "
            f"{self.duplicates} / skipped {self.skipped} / recovered in {self.recover:.1f} s"
        )


def measure(
    sent: list[float], started: float, fault: float, recovered: float, ended: float
) -> Figures:
    """Return the figures for sends seen from started to ended; the standby's first at recovered.

    An interval entry is due EVERY seconds after its previous send, so each gap between two
    sends should hold exactly one tick; the gap ending at the standby's first send is the
    takeover, after which one catch-up send is due.
    """
    times = sorted(t for t in sent if started <= t <= ended)
    expected, duplicates, skipped = 1, 0, 0
    for earlier, later in zip(times, times[1:], strict=False):
        ticks = round((later - earlier) / EVERY)
        if later == recovered:
            expected += 1
        elif ticks == 0:
            duplicates += 1
        else:
            expected += ticks
            skipped += ticks - 1
    return Figures(expected, len(times) - duplicates, duplicates, skipped, recovered - fault)


def mean_interval(sent: list[float], recovered: float) -> float:
    """Return the mean gap between sends, leaving out the takeover gap."""
    times = sorted(sent)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False) if b != recovered]
    return sum(gaps) / len(gaps)


def run_scenario(beats, beat_redis, probe_queue, sig: int, scenario: str) -> Figures:
    add_probe("probe", EVERY, probe_queue)
    first = beats.start()
    wait_for(lambda: holder_pid(beat_redis) == first.pid, 20, "the first beat to take the lock")
    second = beats.start()
    watcher = Watcher(beat_redis, probe_queue)
    try:
        wait_for(lambda: watcher.sent, 5, "the first send")
        started = watcher.sent[0][0]
        time.sleep(RUN_BEFORE)
        assert {pid for _, pid in watcher.sent} == {first.pid}  # the standby stood by
        fault = time.monotonic()
        first.send_signal(sig)
        recovered = wait_for(
            lambda: next((t for t, pid in watcher.sent if pid == second.pid), None),
            20,
            "the standby's first send",
        )
        time.sleep(RUN_AFTER)
        ended = time.monotonic()
        figures = measure([t for t, _ in watcher.sent], started, fault, recovered, ended)
        assert {pid for _, pid in watcher.since(fault + 0.2)} == {second.pid}
    finally:
        watcher.stop()
    record_figures(figures.line(scenario))
    assert figures.duplicates == 0
    assert figures.skipped == 0
    # Beat's own delay is added to each interval; it must stay small or ticks drift away.
    assert mean_interval([t for t, _ in watcher.sent], recovered) < EVERY * 1.1
    return figures


def test_the_figures_count_a_repeated_tick_and_a_skipped_one() -> None:
    sent = [0.0, 1.0, 1.1, 2.1, 4.1, 16.0, 17.0]  # a duplicate at 1.1, a skip at 3.1, takeover
    figures = measure(sent, 0.0, 5.0, 16.0, 17.0)
    assert (figures.expected, figures.fired, figures.duplicates, figures.skipped) == (7, 6, 1, 1)
    assert figures.recover == 11.0


@pytest.mark.slow
def test_the_standby_takes_over_within_15s_of_a_sigkill_with_no_tick_twice_or_skipped(
    postgres_beats, beat_redis, probe_queue
):
    figures = run_scenario(postgres_beats, beat_redis, probe_queue, signal.SIGKILL, "SIGKILL")
    assert figures.recover < 15


@pytest.mark.slow
def test_sigterm_ends_beat_cleanly_and_the_standby_fires_the_next_tick_at_once(
    postgres_beats, beat_redis, probe_queue
):
    figures = run_scenario(postgres_beats, beat_redis, probe_queue, signal.SIGTERM, "SIGTERM")
    first = postgres_beats.started[0]
    assert first.wait(timeout=10) == 0
    log = postgres_beats.log(first)
    assert "Traceback" not in log and "CRITICAL" not in log
    assert figures.recover < 3
