"""Beat's memory of the schedule: entries by name and a heap of next-due times.

A tick only looks at the top of the heap, so its cost does not grow with the number of
entries. Replanning an entry gives it a new generation; heap items of older generations
are skipped when they surface, so a reload of one entry costs O(log n).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from models.schedule import ScheduleEntry
from scheduler.beat.calls import CallRules, check_call
from scheduler.beat.spec import timing_of
from scheduler.beat.timing import Timing, next_run


@dataclass
class BeatEntry:
    """What beat keeps in memory for one entry."""

    name: str
    task: str
    timing: Timing
    args: list[Any]
    kwargs: dict[str, Any]
    options: dict[str, Any]
    enabled: bool
    anchored_at: datetime
    last_run_at: datetime | None = None
    run_count: int = 0
    not_before: datetime | None = None
    due_at: datetime | None = None
    generation: int = field(default=0, compare=False)

    @classmethod
    def from_row(cls, row: ScheduleEntry) -> BeatEntry:
        """Build from a database row."""
        return cls(
            row.name,
            row.task,
            timing_of(row),
            list(row.args),
            dict(row.kwargs),
            dict(row.options),
            row.enabled,
            row.anchored_at,
            row.last_run_at,
            row.run_count,
        )

    def baseline(self) -> datetime:
        """Runs are counted from the latest of anchor, last run and a skipped missed run."""
        return max(t for t in (self.anchored_at, self.last_run_at, self.not_before) if t)


class DueQueue:
    """Entries by name, and a heap of (due timestamp, generation, name)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.entries: dict[str, BeatEntry] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._generations = itertools.count(1)

    def __len__(self) -> int:
        return len(self.entries)

    def merge(self, fresh: BeatEntry) -> BeatEntry:
        """Take a reloaded entry; last_run_at and run_count never move back, then replan."""
        old = self.entries.get(fresh.name)
        if old is not None:
            if old.last_run_at and (not fresh.last_run_at or old.last_run_at > fresh.last_run_at):
                fresh.last_run_at = old.last_run_at
            fresh.run_count = max(fresh.run_count, old.run_count)
            if old.timing == fresh.timing and old.anchored_at == fresh.anchored_at:
                fresh.not_before = old.not_before
        self.entries[fresh.name] = fresh
        self.plan(fresh)
        return fresh

    def admit(self, row: ScheduleEntry, rules: CallRules) -> str | None:
        """Merge a row beat may send and return None, or return why it may not."""
        try:
            # Rows stored before edits were checked may hold what send_task cannot take.
            check_call(row.task, row.args, row.kwargs, row.options, rules)
            self.merge(BeatEntry.from_row(row))
        except Exception as exc:  # one bad row must not stop the others
            return str(exc) or repr(exc)
        return None

    def drop(self, name: str) -> None:
        """Forget an entry; its heap items become stale."""
        self.entries.pop(name, None)

    def plan(self, entry: BeatEntry) -> None:
        """Compute the entry's next due time and queue it under a new generation."""
        entry.generation = next(self._generations)
        entry.due_at = next_run(entry.timing, entry.baseline(), self.tz) if entry.enabled else None
        if entry.due_at is not None:
            heapq.heappush(self._heap, (entry.due_at.timestamp(), entry.generation, entry.name))

    def retry_at(self, entry: BeatEntry, at: datetime) -> None:
        """Queue the entry again at `at` without changing its plan (a failed send)."""
        heapq.heappush(self._heap, (at.timestamp(), entry.generation, entry.name))

    def compact(self) -> None:
        """Drop stale heap items (after a full reload)."""
        self._heap = [item for item in self._heap if self._live(item)]
        heapq.heapify(self._heap)

    def pop_due(self, now: datetime) -> BeatEntry | None:
        """Remove and return the next entry due at or before now, or None."""
        stamp = now.timestamp()
        while self._heap and self._heap[0][0] <= stamp:
            item = heapq.heappop(self._heap)
            if self._live(item):
                return self.entries[item[2]]
        return None

    def seconds_to_next(self, now: datetime) -> float | None:
        """Return seconds until the next live item (0 if overdue), or None if none is queued."""
        while self._heap and not self._live(self._heap[0]):
            heapq.heappop(self._heap)
        if not self._heap:
            return None
        return max(0.0, self._heap[0][0] - now.timestamp())

    def _live(self, item: tuple[float, int, str]) -> bool:
        entry = self.entries.get(item[2])
        return entry is not None and entry.generation == item[1]
