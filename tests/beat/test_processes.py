"""Real `celery beat` processes with DatabaseScheduler against the test Redis and SQLite file."""

from __future__ import annotations

import signal
import time

import pytest

from models import Session
from scheduler.beat import entries as store
from scheduler.beat.lock import LOCK_KEY
from scheduler.cli import main
from tests.support.beat import Watcher, add_probe, holder_pid, wait_for

pytestmark = pytest.mark.slow


def test_an_edit_reaches_a_running_beat_within_a_second_and_never_fires_at_once(
    beats, beat_redis, probe_queue
):
    add_probe("probe", 3600, probe_queue)
    beat = beats.start()
    wait_for(lambda: holder_pid(beat_redis) == beat.pid, 20, "beat to take the lock")
    watcher = Watcher(beat_redis, probe_queue)
    try:
        time.sleep(0.5)
        edited = time.monotonic()
        assert main(["schedule", "set", "probe", "--every", "2s", "--by", "test"]) == 0
        wait_for(lambda: watcher.sent, 5, "the first send after the edit")
        delay = watcher.sent[0][0] - edited
        assert 1.9 <= delay < 3.0  # due 2 s after the edit, and the edit applied within 1 s
    finally:
        watcher.stop()


def test_a_disabled_entry_never_fires_and_disabling_stops_a_running_one(
    beats, beat_redis, probe_queue
):
    add_probe("on", 1, probe_queue)
    add_probe("off", 1, f"{probe_queue}-off", enabled=False)
    beat = beats.start()
    wait_for(lambda: holder_pid(beat_redis) == beat.pid, 20, "beat to take the lock")
    watcher = Watcher(beat_redis, probe_queue)
    try:
        wait_for(lambda: len(watcher.sent) >= 2, 5, "two sends of the enabled entry")
        assert main(["schedule", "disable", "on", "--by", "test"]) == 0
        disabled = time.monotonic()
        time.sleep(3)
        assert watcher.since(disabled + 1.0) == []
        assert beat_redis.llen(f"{probe_queue}-off") == 0
    finally:
        watcher.stop()
        beat_redis.delete(f"{probe_queue}-off", f"_kombu.binding.{probe_queue}-off")


def test_two_beats_fire_once_and_the_standby_takes_over_within_15s_of_a_sigkill(
    beats, beat_redis, probe_queue
):
    add_probe("probe", 1, probe_queue)
    first = beats.start()
    wait_for(lambda: holder_pid(beat_redis) == first.pid, 20, "the first beat to take the lock")
    second = beats.start()
    watcher = Watcher(beat_redis, probe_queue)
    try:
        time.sleep(5)  # long enough for the second beat to start and stand by
        both = watcher.sent
        assert {pid for _, pid in both} == {first.pid}
        assert 3 <= len(both) <= 6  # one send a second, not two
        first.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        wait_for(
            lambda: any(pid == second.pid for _, pid in watcher.sent),
            15,
            "the standby to take over and fire",
        )
        took_over = next(t for t, pid in watcher.sent if pid == second.pid)
        assert took_over - killed < 15
        time.sleep(2)
        after = [t for t, pid in watcher.sent if pid == second.pid]
        assert len(after) <= (after[-1] - after[0]) + 1.5  # no burst of catch-up sends
    finally:
        watcher.stop()


def stored_runs() -> int:
    with Session() as session:
        return store.get_entry(session, "probe").run_count


def test_a_beat_killed_and_restarted_neither_refires_nor_skips(beats, beat_redis, probe_queue):
    add_probe("probe", 5, probe_queue, ran_ago=4)
    watcher = Watcher(beat_redis, probe_queue)
    try:
        first = beats.start(BEAT_LOCK_TTL="2")
        wait_for(lambda: watcher.sent and stored_runs() == 1, 15, "the first send, recorded")
        first.send_signal(signal.SIGKILL)
        sent_at = watcher.sent[0][0]
        second = beats.start(BEAT_LOCK_TTL="2")
        wait_for(lambda: holder_pid(beat_redis) == second.pid, 60, "the new beat to take the lock")
        took = time.monotonic()
        wait_for(lambda: len(watcher.sent) >= 2 and stored_runs() == 2, 15, "the next send")
        # Not re-fired on restart; not skipped: due 5 s after the first send, so sent then, or
        # at once when a busy machine took longer to start it (a skipped run waits till 10 s).
        assert sent_at + 4.5 <= watcher.sent[1][0] <= max(sent_at + 5, took) + 2.0
        assert watcher.sent[1][1] == second.pid
        second.send_signal(signal.SIGKILL)
        time.sleep(7)  # the run due 5 s after the last one is missed while down
        restarted = time.monotonic()
        beats.start(BEAT_LOCK_TTL="2")
        wait_for(lambda: len(watcher.sent) >= 3, 60, "the missed run on restart")
        time.sleep(3)  # well before the next one is due (5 s after this send)
        assert len(watcher.since(restarted)) == 1  # the missed run fires once on restart
        assert stored_runs() == len(watcher.sent) == 3
    finally:
        watcher.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_beat_stopped_by_a_signal_exits_0_quietly_and_the_standby_takes_over_at_once(
    beats, beat_redis, probe_queue, sig
):
    add_probe("probe", 1, probe_queue)
    first = beats.start()
    wait_for(lambda: holder_pid(beat_redis) == first.pid, 20, "the first beat to take the lock")
    second = beats.start()
    wait_for(lambda: "beat: Starting..." in beats.log(second), 60, "the second beat to start")
    time.sleep(2)  # it polls for the lock once a second: it is standing by
    assert holder_pid(beat_redis) == first.pid
    assert beats.stop(first, sig) == 0  # SIGTERM is what Heroku sends on a restart or deploy
    stopped = time.monotonic()
    assert holder_pid(beat_redis) != first.pid  # released, not left to expire
    wait_for(lambda: holder_pid(beat_redis) == second.pid, 30, "the standby to take the lock")
    assert time.monotonic() - stopped < 10  # at its next poll, not once a lock's 10 s TTL ran out
    log = beats.log(first)
    assert "beat: Starting..." in log
    assert "Traceback" not in log and "CRITICAL" not in log and "Error" not in log
    assert beats.stop(second, sig) == 0  # a standby stops as cleanly
    assert "Traceback" not in beats.log(second) and beat_redis.get(LOCK_KEY) is None
