"""Fault suite, database: PostgreSQL stopped under a running beat and a running worker.

Beat fires the two sweeps every 2 s and the worker runs them; tasks also come from elsewhere
(an admin's `scout check`, a sweep already queued). While the database is down, every failure
is one log line (beat: one per try as its tries back off; the worker: one per try of a task),
never a traceback; once it is back, beat fires again and the tasks succeed.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict

import pytest

from beat_schedule import DEFAULT_SCHEDULE
from models.base import utcnow
from scheduler.beat import entries as store
from scheduler.beat.timing import parse_timing
from tests.support.beat import BeatProcesses
from tests.support.faults import record_figures, wait_for

DOWN_FOR = 12.0
SWEEPS = ("requeue-stuck-alerts", "close-stalled-scrapes")
TASK_LINE = re.compile(r"\] (\w+\.\w+)\[([0-9a-f-]{36})\]: database unavailable \(")


def only_the_sweeps_every_2s() -> None:
    """Edit the seeded schedule: the sweeps every 2 s, everything else off."""
    every_2s = parse_timing({"every": 2})
    for name in DEFAULT_SCHEDULE:  # seeded by the release step (fault_db is migrated)
        if name in SWEEPS:
            change = {"timing": every_2s}
        else:
            change = {"enabled": False}
        store.in_transaction(
            lambda s, n=name, c=change: store.edit_entry(s, n, "test", utcnow(), **c)
        )


def log_lines(text: str, after: str) -> list[str]:
    """Return the log's lines after the first one containing `after` (the start-up banner)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return [line for line in lines[start:] if line.strip()]


def assert_one_line_each(lines: list[str], where: str) -> None:
    """Every line is a log record of its own: no traceback, no record spread over lines."""
    strays = [line for line in lines if not line.startswith("[")]
    assert not strays and not any("Traceback" in line for line in lines), (where, strays[:5])
    assert not [line for line in lines if "raised unexpected" in line], where


@pytest.mark.slow
def test_a_database_outage_costs_one_line_per_failure_and_firing_resumes_when_it_is_back(
    fault_db, broker, client, pg_cluster, start_worker, tmp_path
):
    only_the_sweeps_every_2s()
    worker = start_worker()
    beats = BeatProcesses(fault_db, tmp_path)
    beat = beats.start(REDIS_URL=broker.url, LOG_LEVEL="INFO")
    stopped = False
    try:
        wait_for(
            lambda: worker.log.read_text().count("close_stalled_scrapes[") >= 4,
            60,
            "the sweeps to run before the outage",
        )
        pg_cluster.stop()
        stopped, down_at = True, time.monotonic()
        during = [
            client.send_task("scheduler.tasks.alerts.check_watchlists"),
            client.send_task("scheduler.tasks.catalogue.close_stalled_scrapes"),
        ]
        time.sleep(DOWN_FOR)
        pg_cluster.start_again()
        stopped, back_at = False, time.monotonic()
        checked = during[0].get(timeout=120)
        swept = during[1].get(timeout=60)
        wait_for(
            lambda: (
                "answers again" in beats.log(beat)
                and "Sending due task" in beats.log(beat).split("answers again")[1]
            ),
            60,
            "beat to fire again",
        )
        resumed_at = time.monotonic()
        fired_after = beats.log(beat).split("answers again")[1].count("Sending due task")
        wait_for(
            lambda: "'closed': []" in worker.log.read_text().split("database unavailable")[-1],
            60,
            "a sweep to succeed after the outage",
        )
    finally:
        if stopped:
            pg_cluster.start_again()
        beats.stop(beat)
        beats.kill_all()

    beat_log = log_lines(beats.log(beat), "beat: Starting...")
    worker_log = log_lines(worker.log.read_text(), " ready.")
    assert_one_line_each(beat_log, "beat")
    assert_one_line_each(worker_log, "worker")

    failures = [line for line in beat_log if "beat: could not read the schedule" in line]
    back = [line for line in beat_log if "answers again" in line]
    assert len(back) == 1
    stated = int(re.search(r"and (\d+) failed tries", back[0]).group(1))
    # One line per try, and tries that back off: 1, 2, 4, 8 s apart, not one a second.
    assert len(failures) == stated <= 6

    tries: dict[str, list[str]] = defaultdict(list)
    for line in worker_log:
        if "WARNING" in line or "ERROR" in line:
            match = TASK_LINE.search(line)
            assert match, line  # every warning is a task's one line about the database
            tries[match.group(2)].append(line)
    for lines in tries.values():
        numbers = re.findall(r"; retry (\d+) of", " ".join(lines))
        if numbers:  # a retried task: one line per try, numbered in order
            assert numbers == [str(n) for n in range(1, len(lines) + 1)], lines
        else:  # a sweep: one line, the next run is its retry
            assert len(lines) == 1 and lines[0].endswith("the next run tries again"), lines
    assert "error" not in checked and swept["error"].startswith("database unavailable (")
    assert during[0].id in tries and during[1].id in tries

    record_figures(
        f"database down {DOWN_FOR:.0f} s under beat and a worker: beat {len(failures)} lines "
        f"(tries backing off), fired again {resumed_at - back_at:.1f} s after the restart "
        f"({fired_after} sends by then); worker {sum(map(len, tries.values()))} lines for "
        f"{len(tries)} tasks, 0 tracebacks; down {back_at - down_at:.1f} s"
    )
