"""Daylight saving for admins: which cron runs fall in a gap or an overlap of the time zone, and
what beat will do with them (scheduler.beat.timing has the rule; this only describes it).

A gap is the wall-clock hour that does not exist when clocks jump forward (02:00-03:00 in
Berlin in spring), an overlap the hour that happens twice when they go back. Interval entries
run by real time and never meet either. What each note says is read from timing.next_run, the
function beat plans with, so the page cannot promise what beat does not do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from celery.schedules import crontab_parser

from scheduler.beat.timing import Timing, next_run

SHOWN_SLOTS = 4  # a note names at most this many times, then "and N more"


@dataclass(frozen=True)
class Shift:
    """One change of a zone's UTC offset: the instant (UTC) and the offsets before and after."""

    at: datetime
    before: timedelta
    after: timedelta

    @property
    def gap(self) -> bool:
        """Whether clocks jump forward (some wall times do not exist)."""
        return self.after > self.before

    @property
    def window(self) -> tuple[datetime, datetime]:
        """Return the wall times [start, end) that do not exist (gap) or happen twice."""
        before = (self.at + self.before).replace(tzinfo=None)
        after = (self.at + self.after).replace(tzinfo=None)
        return (before, after) if self.gap else (after, before)


@lru_cache(maxsize=64)
def shifts(tz: ZoneInfo, start: date, days: int = 366) -> tuple[Shift, ...]:
    """Return the offset changes of tz in the days from start (00:00 UTC), in order."""
    found = []
    moment = datetime.combine(start, time(), UTC)
    for _ in range(days):
        later = moment + timedelta(days=1)
        if moment.astimezone(tz).utcoffset() != later.astimezone(tz).utcoffset():
            found.append(_shift_between(tz, moment, later))
        moment = later
    return tuple(found)


def _shift_between(tz: ZoneInfo, low: datetime, high: datetime) -> Shift:
    before = low.astimezone(tz).utcoffset() or timedelta()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    return Shift(high.replace(microsecond=0), before, high.astimezone(tz).utcoffset() or before)


def notes(timing: Timing, tz: ZoneInfo, now: datetime, days: int = 366) -> list[str]:
    """Return one line per offset change in the next `days` that meets one of the entry's
    cron runs, saying what beat will do; [] for intervals and zones without changes."""
    if timing.cron is None:
        return []
    upcoming = (s for s in shifts(tz, now.astimezone(UTC).date(), days) if s.at > now)
    return [note for shift in upcoming if (note := _note(timing, tz, shift))]


@lru_cache(maxsize=4096)
def _note(timing: Timing, tz: ZoneInfo, shift: Shift) -> str | None:
    """The note for one entry's schedule and one change (many entries share a cron line)."""
    cron = timing.cron or ("*",) * 5
    hours, minutes = crontab_parser(24).parse(cron[1]), crontab_parser(60).parse(cron[0])
    slots = [wall for wall in _walls(shift, hours, minutes) if _runs_on(timing, wall, tz)]
    return _describe(shift, slots, (hours, minutes), timing, tz) if slots else None


def _walls(shift: Shift, hours: set[int], minutes: set[int]) -> Iterator[datetime]:
    start, end = shift.window
    day = start.date()
    while day <= (end - timedelta(microseconds=1)).date():
        for hour in sorted(hours):
            for minute in sorted(minutes):
                wall = datetime.combine(day, time(hour, minute))
                if start <= wall < end:
                    yield wall
        day += timedelta(days=1)


def _runs_on(timing: Timing, wall: datetime, tz: ZoneInfo) -> bool:
    """Whether the entry runs at all on wall's local day (its day-of-month/week/month fields)."""
    midnight = datetime.combine(wall.date(), time(), tz).astimezone(UTC)
    first = next_run(timing, midnight - timedelta(seconds=1), tz)
    return first is not None and first.astimezone(tz).date() == wall.date()


def _runs_near(timing: Timing, shift: Shift, reach: timedelta, tz: ZoneInfo) -> list[datetime]:
    """Every run beat plans from `reach` before the change to `reach` after it."""
    end, runs = shift.at + reach, []
    due = next_run(timing, shift.at - reach - timedelta(seconds=1), tz)
    while due is not None and due <= end:
        runs.append(due)
        due = next_run(timing, due, tz)
    return runs


def _when(instant: datetime, tz: ZoneInfo) -> str:
    return f"{instant.astimezone(tz):%H:%M %Z} ({instant.astimezone(UTC):%H:%M} UTC)"


def _listed(slots: list[datetime]) -> str:
    shown = [f"{slot:%H:%M}" for slot in slots[:SHOWN_SLOTS]]
    more = len(slots) - len(shown)
    if more:
        return f"{', '.join(shown)} and {more} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _describe(
    shift: Shift,
    slots: list[datetime],
    fields: tuple[set[int], set[int]],
    timing: Timing,
    tz: ZoneInfo,
) -> str:
    hours, minutes = fields
    real_time = len(hours) == 24
    width = abs(shift.after - shift.before)
    # A real-time entry runs in every local hour, so one hour past the change reaches a run.
    runs = _runs_near(timing, shift, width + timedelta(hours=1) if real_time else width, tz)
    if not shift.gap:
        return _overlap(shift, slots, runs, real_time, tz)
    start, end = shift.window
    one = len(slots) == 1
    head = f"{start:%Y-%m-%d}: clocks in {tz.key} jump from {start:%H:%M} to {end:%H:%M}"
    missing = f"{_listed(slots)} {'does' if one else 'do'} not exist"
    if real_time:
        before = max((run for run in runs if run < shift.at), default=None)
        after = min((run for run in runs if run >= shift.at), default=None)
        around = (
            f": the run at {_when(before, tz)} is followed by the one at {_when(after, tz)}"
            if before and after
            else ""
        )
        return (
            f"{head}; {missing}, so that day has {len(slots)} fewer run{'' if one else 's'}{around}"
        )
    jumped = [run for run in runs if run == shift.at]
    where = _when(jumped[0], tz) if jumped else "the next run"
    shared = end.hour in hours and end.minute in minutes
    together = f", the same run as the {end:%H:%M} one" if shared else ""
    return f"{head}; {missing}, so {'it runs' if one else 'they run'} once, at {where}{together}"


def _overlap(
    shift: Shift, slots: list[datetime], runs: list[datetime], real_time: bool, tz: ZoneInfo
) -> str:
    start, end = shift.window
    head = f"{start:%Y-%m-%d}: clocks in {tz.key} go back from {end:%H:%M} to {start:%H:%M}"
    twice = f"{_listed(slots)} {'happens' if len(slots) == 1 else 'happen'} twice"
    inside = [run for run in runs if start <= run.astimezone(tz).replace(tzinfo=None) < end]
    if real_time:
        each = ", ".join(_when(run, tz) for run in inside[: 2 * SHOWN_SLOTS])
        return f"{head}; {twice}, and the entry runs at each (by real time): {each}"
    first = _when(inside[0], tz) if inside else "the first"
    return f"{head}; {twice}, and the entry runs once, at the first: {first}"
