"""DatabaseScheduler: Celery beat driven by the schedule_entries table, one active beat at a time.

Run it with `celery -A scheduler.celery_app beat -S scheduler.beat.scheduler:DatabaseScheduler`.

- Exactly one beat fires: each tick first acquires or renews a Redis lock (scheduler.beat.lock);
  a beat without it stands by and polls, and it re-checks the lock before every send.
- Runs survive restarts: last_run_at is written to the database right after each send. Sending
  first means a SIGKILL between the two can at worst repeat one send (every task is idempotent);
  writing first could lose a run for good. A run missed while beat was down fires once on
  restart if it is within beat_cron_starting_deadline (interval entries always catch up once).
- Edits apply live: each tick reads the edit versions newer than the last one seen and reloads
  only those entries; a Redis nudge wakes beat early. A reload MERGES: last_run_at only ever
  moves forward, and an edit re-anchors the entry so it never fires at once.
- A tick touches only entries that are due, through a heap of next-due times.
- Without its database beat runs on and keeps its lock, firing nothing it cannot read; its
  tries back off, one line each (scheduler.beat.outage).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis
from celery.beat import Scheduler
from kombu.exceptions import OperationalError

from beat_schedule import DEFAULT_SCHEDULE
from models.base import utcnow
from models.schedule import ScheduleEntry
from scheduler.beat import entries as store
from scheduler.beat.calls import CallRules
from scheduler.beat.due import BeatEntry, DueQueue
from scheduler.beat.lock import LOCK_KEY, BeatLock, NudgeListener
from scheduler.beat.outage import Outage
from scheduler.beat.runs import RunLog
from scheduler.beat.stopping import StopRequest
from scheduler.beat.timing import missed_deadline

logger = logging.getLogger(__name__)
RETRY_SEND_AFTER = 5.0
BROKER_ERRORS = (OperationalError, redis.RedisError, OSError)


class DatabaseScheduler(Scheduler):
    """A celery.beat.Scheduler whose schedule lives in the database; see the module docstring."""

    def __init__(
        self,
        app: Any,
        *args: Any,
        clock: Callable[[], datetime] | None = None,
        timezone: str | None = None,
        defaults: Mapping[str, Mapping[str, Any]] | None = None,
        redis_client: redis.Redis | None = None,
        lock_key: str = LOCK_KEY,
        lock_ttl: float | None = None,
        **kwargs: Any,
    ) -> None:
        from scheduler.app import bound_config

        # celery beat loads scheduler.celery_app, which built the app from the environment.
        config = bound_config()
        if config is None:
            raise RuntimeError("no app: build it with scheduler.app.create_app(config) first")
        self.clock = clock or utcnow
        self.tz = ZoneInfo(timezone or config.timezone)
        self.defaults = DEFAULT_SCHEDULE if defaults is None else defaults
        ttl = lock_ttl or config.beat_lock_ttl
        # A hung Redis call must end well within the lock's TTL, so a beat never fires late.
        self.redis = redis_client or redis.Redis.from_url(
            config.redis_url,
            socket_timeout=max(0.5, ttl / 4),
            socket_connect_timeout=max(0.5, ttl / 4),
            health_check_interval=30,
        )
        self.lock = BeatLock(self.redis, ttl, lock_key)
        self.nudges = NudgeListener(self.redis)
        self.queue = DueQueue(self.tz)
        self.version = 0
        self.active = False
        self.runs = RunLog()
        self._refused: dict[str, str] = {}
        self.rules = CallRules()
        self._closed = False
        self.stop = StopRequest()
        self.outage = Outage(lambda: self.clock().timestamp())
        self.seeded = False
        kwargs.pop("schedule_filename", None)
        super().__init__(app, *args, **kwargs)

    def setup_schedule(self) -> None:
        """Seed the defaults that are missing from the database (never overwriting edits).

        With the database unreachable, beat still starts: one line, and ticks seed later.
        """
        # Queues are checked when an admin edits; here only what would make send_task fail.
        self.rules = CallRules.from_app(self.app, check_queues=False)
        unknown = {spec["task"] for spec in self.defaults.values()} - set(self.app.tasks)
        if unknown:
            logger.warning("beat: default entries name unregistered tasks: %s", sorted(unknown))
        self.outage.attempt("seed the schedule", self.seed)

    def seed(self) -> None:
        """Add the missing defaults, once per beat (the release step has usually done it)."""
        if self.seeded:
            return
        added = store.in_transaction(
            lambda s: store.seed_defaults(s, self.defaults, f"beat@{self.lock.token}", self.clock())
        )
        self.seeded = True
        if added:
            logger.info("beat: seeded schedule entries %s", ", ".join(added))

    @property
    def schedule(self) -> dict[str, BeatEntry]:  # type: ignore[override]
        return self.queue.entries

    @property
    def info(self) -> str:
        return f"    . lock -> {self.lock.key} (ttl {self.lock.ttl_ms / 1000:g}s)"

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Run one pass, then wait here (for the next due time or a nudge) and return 0.

        A stop signal ends the wait at once; one that arrives during the pass takes effect
        when the pass is done (scheduler.beat.stopping), and celery's Service then closes us.
        """
        self.stop.check()
        delay = self.tick_once()
        if delay <= 0:
            return 0.0
        with self.stop.idle():
            if self.active:
                self.nudges.wait(delay)
            else:
                time.sleep(delay)  # a standby polls for the lock
        return 0.0

    @property
    def loop_interval(self) -> float:
        """Return the most seconds beat waits between passes (beat_max_loop_interval)."""
        return float(self.max_interval or 1)

    def tick_once(self) -> float:
        """Hold the lock, apply edits, send what is due; return seconds until the next pass."""
        if not self.lock.hold():
            self.active = False
            return self.loop_interval
        if not self.outage.attempt("read the schedule", self.read_schedule):
            return self.loop_interval  # the database is down: asked again after a backoff
        self.runs.flush()
        return self.fire_due()

    def read_schedule(self) -> None:
        """Seed if not done yet, then read every entry (on start or takeover) or the edited ones."""
        self.seed()
        if not self.active:
            self.load_all()
            self.active = True
        else:
            self.reload_changed()

    def load_all(self) -> None:
        """Read every entry (on start or takeover), merging with what is in memory."""

        def read(session: Any) -> tuple[int, list[ScheduleEntry]]:
            return store.current_version(session), store.all_entries(session)

        version, rows = store.in_transaction(read)
        names = {row.name for row in rows}
        for name in set(self.queue.entries) - names:
            self.queue.drop(name)
        for row in rows:
            self._take(row)
        self.version = version
        self.queue.compact()
        logger.info("beat: active with %d entries at schedule version %d", len(rows), version)

    def reload_changed(self) -> None:
        """Reload only the entries edited since the last version seen."""

        def read(session: Any) -> tuple[int, set[str], list[ScheduleEntry]]:
            version, names = store.changes_since(session, self.version)
            return version, names, store.entries_named(session, names) if names else []

        version, names, rows = store.in_transaction(read)
        if not names:
            return
        found = {row.name for row in rows}
        for name in names - found:
            self.queue.drop(name)
            logger.info("beat: entry %s removed", name)
        for row in rows:
            if self._take(row):
                logger.info("beat: entry %s reloaded", row.name)
        self.version = version

    def _take(self, row: ScheduleEntry) -> bool:
        """Plan a row if beat may send it; otherwise log one line and leave it out until edited."""
        why = self.queue.admit(row, self.rules)
        if why is None:
            self._refused.pop(row.name, None)
            return True
        self._refuse(row.name, why)
        return False

    def _refuse(self, name: str, why: str) -> None:
        self.queue.drop(name)
        if self._refused.get(name) != why:
            logger.error("beat: entry %s skipped until it is edited: %s", name, why)
        self._refused[name] = why

    def fire_due(self) -> float:
        """Send every entry that is due now; return seconds until the next one (capped)."""
        now = self.clock()
        while (entry := self.queue.pop_due(now)) is not None:
            if not self.lock.still_held():
                self.active = False
                return self.loop_interval
            self._fire(entry, now)
        wait = self.queue.seconds_to_next(self.clock())
        return self.loop_interval if wait is None else min(wait, self.loop_interval)

    def _fire(self, entry: BeatEntry, now: datetime) -> None:
        if missed_deadline(
            entry.timing, entry.due_at, now, self.app.conf.beat_cron_starting_deadline, self.tz
        ):
            logger.warning(
                "beat: %s was due at %s, past beat_cron_starting_deadline; skipped",
                entry.name,
                entry.due_at,
            )
            entry.not_before = now
            self.queue.plan(entry)
            return
        try:
            task_id = self.send(entry)
        except BROKER_ERRORS as exc:
            logger.warning(
                "beat: could not send %s (%s); retrying in %gs", entry.name, exc, RETRY_SEND_AFTER
            )
            self.queue.retry_at(entry, now + timedelta(seconds=RETRY_SEND_AFTER))
            return
        except Exception as exc:  # the entry itself is at fault: retrying cannot help
            self._refuse(entry.name, f"could not send it: {exc!r}")
            return
        entry.last_run_at, entry.run_count = now, entry.run_count + 1
        self.runs.save(entry.name, now, task_id)
        self.queue.plan(entry)

    def send(self, entry: BeatEntry) -> str:
        """Publish the entry's task to the broker; return the task id."""
        logger.info("Scheduler: Sending due task %s (%s)", entry.name, entry.task)
        # headers is not an allowed option (calls.py), so beat's own header is the only one.
        options = {**entry.options, "headers": {"celery_beat_task": True}}
        result = self.app.send_task(
            entry.task,
            args=list(entry.args),
            kwargs=dict(entry.kwargs),
            producer=self.producer,
            **options,
        )
        return result.id

    def sync(self) -> None:
        """Write any run the database missed."""
        self.runs.flush()

    def close(self) -> None:
        """Write pending runs and give the lock up so a standby takes over at once."""
        if self._closed:
            return
        self._closed = True
        try:
            super().close()
        finally:
            self.lock.release()
            self.nudges.close()
