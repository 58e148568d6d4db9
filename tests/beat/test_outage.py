"""Beat without its database: it starts, keeps its lock, logs one line per try as the tries back
off (never a traceback), and fires again once the database is back."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from tests.beat import test_tick
from tests.beat.test_tick import T0, FrozenClock, add, sends
from tests.support.ports import free_port

BEAT_LOGGER = "scheduler.beat.scheduler"
make_beat, queue = test_tick.make_beat, test_tick.queue  # the tick tests' fixtures


def beat_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return beat's log lines; fail on a traceback, a line break or the database password."""
    records = [r for r in caplog.records if r.name == BEAT_LOGGER]
    for record in records:
        message = record.getMessage()
        assert record.exc_info is None and "\n" not in message, message
        assert "hunter2" not in message
    return [r.getMessage() for r in records]


def failed_tries(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("beat: could not")]


def test_beat_starts_with_its_database_down_and_backs_off_one_line_a_try(
    db, scout_app, redis_client, queue, make_beat, caplog
):
    clock = FrozenClock(T0 + timedelta(seconds=60))
    add("probe", {"every": 60}, queue, T0)
    scout_app.update(database_url=f"postgresql://scout:hunter2@127.0.0.1:{free_port()}/scout")
    with caplog.at_level(logging.INFO, logger=BEAT_LOGGER):
        beat = make_beat(clock)  # seeding fails: one line, and beat runs on
        for step in [0] * 5 + [1] * 6:  # five ticks at once, then one a second for 6 s
            clock.advance(seconds=step)
            assert beat.tick_once() == 1.0
        down = failed_tries(beat_lines(caplog))
        # Tries at 0, 1, 3 and 7 s: once, then each after twice the last wait.
        assert len(down) == 3
        assert "could not seed the schedule: database unavailable (" in down[0]
        assert "trying again in 1s" in down[0] and "trying again in 4s" in down[2]
        assert "Connection refused" in down[0]
        assert beat.lock.still_held()  # a standby would have nothing to take over

        scout_app.update(database_url=db)
        clock.advance(seconds=1)  # the fourth try, 7 s in
        beat.tick_once()

    lines = beat_lines(caplog)
    assert failed_tries(lines) == down
    back = [line for line in lines if "answers again" in line]
    assert len(back) == 1 and "after 7s and 3 failed tries" in back[0]
    assert sends(redis_client, queue) == 1  # the run missed while it was down, once


def test_a_database_lost_while_beat_runs_stops_firing_until_it_is_back(
    db, scout_app, redis_client, queue, make_beat, caplog
):
    clock = FrozenClock(T0 + timedelta(seconds=1))
    add("probe", {"every": 1}, queue, T0)
    beat = make_beat(clock)
    beat.tick_once()
    assert sends(redis_client, queue) == 1
    with caplog.at_level(logging.INFO, logger=BEAT_LOGGER):
        scout_app.update(database_url=f"postgresql://scout:hunter2@127.0.0.1:{free_port()}/x")
        for _ in range(30):  # 30 s down, a tick a second
            clock.advance(seconds=1)
            beat.tick_once()
        assert sends(redis_client, queue) == 1  # its runs could not be recorded: none sent
        scout_app.update(database_url=db)
        for _ in range(16):  # the backoff's last wait is 16 s
            clock.advance(seconds=1)
            beat.tick_once()
    lines = beat_lines(caplog)
    tries = failed_tries(lines)
    assert len(tries) == 5  # at 1, 2, 4, 8 and 16 s into the outage, not 30
    assert [int(n) for n in re.findall(r"\(try (\d+),", " ".join(tries))] == [2, 3, 4, 5]
    assert any("answers again after 31s and 5 failed tries" in line for line in lines)
    assert sends(redis_client, queue) > 1
