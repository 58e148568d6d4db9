"""A look inside a running DatabaseScheduler, for tests."""

from __future__ import annotations

from dataclasses import replace

from scheduler.beat.due import BeatEntry
from scheduler.beat.scheduler import DatabaseScheduler


def entry_snapshot(beat: DatabaseScheduler, name: str) -> BeatEntry | None:
    """Return a copy of beat's in-memory entry called name, or None if it has none."""
    entry = beat.queue.entries.get(name)
    return replace(entry) if entry else None
