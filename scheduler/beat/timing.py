"""When an entry runs: parse and check a schedule, describe it in words, find its next run.

A schedule is {"cron": "m h dom mon dow"} in the app timezone, or {"every": seconds}.
Day matching follows cron(8): when both day-of-month and day-of-week are restricted, a day
matching either runs.

Daylight saving (the rule cron(8) uses):
- An entry whose hour field covers every hour runs by real time: at each instant whose local
  time matches. An hourly entry fires once per real hour, both 02:00s in autumn included;
  in spring the skipped hour does not exist, so nothing is skipped or doubled.
- An entry with fixed hours runs once per wall-clock slot: a slot that happens twice (autumn)
  fires at its first occurrence only; a slot that does not exist (spring) fires at the
  instant the clocks jump past it (02:30 in Berlin on 2026-03-29 fires at 03:00 CEST).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from celery.schedules import ParseException, crontab_parser

CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
_PARSERS = {
    "minute": crontab_parser(60),
    "hour": crontab_parser(24),
    "day_of_month": crontab_parser(31, 1),
    "month_of_year": crontab_parser(12, 1),
    "day_of_week": crontab_parser(7),
}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SEARCH_DAYS = 5 * 366
MAX_EVERY = 366 * 86400
FIELD_MAX = 64  # the width of the cron_* columns
_FIELD = re.compile(r"[0-9A-Za-z*/,-]+", re.ASCII)


class ScheduleError(ValueError):
    """A schedule that cannot be parsed or never runs; str() is one line for the admin."""


class FieldError(ScheduleError):
    """A refused edit that belongs to one field ("cron", "every", "args", ...)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Timing:
    """A parsed schedule: exactly one of cron (five fields) or every (seconds) is set."""

    cron: tuple[str, str, str, str, str] | None = None
    every: int | None = None

    def as_spec(self) -> dict[str, Any]:
        """Return the plain-data form used by beat_schedule.py and the edit log."""
        return {"cron": " ".join(self.cron)} if self.cron else {"every": self.every}

    def __str__(self) -> str:
        return f"cron {' '.join(self.cron)}" if self.cron else f"every {format_every(self.every)}"


def parse_every(text: str | int) -> int:
    """Return seconds for '30s', '5m', '2h', '1d' or a bare number; raises ScheduleError."""
    raw = str(text).strip().lower()
    match = re.fullmatch(r"([0-9]{1,12}) *([smhd]?)", raw, re.ASCII)
    shown = _short(text)
    if not match:
        raise ScheduleError(f"bad interval {shown}: use a whole number with s, m, h or d, e.g. 30s")
    seconds = int(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise ScheduleError(f"bad interval {shown}: must be positive")
    if seconds > MAX_EVERY:
        raise ScheduleError(f"bad interval {shown}: at most 366 days")
    return seconds


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_every(seconds: int | None) -> str:
    """Return an interval as the largest whole unit, e.g. 3600 -> '1h'."""
    seconds = int(seconds or 0)
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_cron(text: str) -> Timing:
    """Return the Timing for a five-field cron line; raises ScheduleError naming the bad field."""
    fields = tuple(str(text).split())
    if len(fields) != 5:
        raise ScheduleError(
            f"bad cron {_short(text)}: need five fields 'minute hour dom month dow'"
        )
    for name, field in zip(CRON_FIELDS, fields, strict=True):
        if len(field) > FIELD_MAX or not _FIELD.fullmatch(field):
            raise ScheduleError(
                f"bad cron {name.replace('_', ' ')} field {_short(field)}: "
                f"up to {FIELD_MAX} of 0-9, names, * / , -"
            )
        try:
            _PARSERS[name].parse(field)
        except (ValueError, ParseException) as exc:
            why = str(exc) if "weekday" not in str(exc) or name == "day_of_week" else "not a number"
            raise ScheduleError(
                f"bad cron {name.replace('_', ' ')} field {field!r}: {why}"
            ) from None
    timing = Timing(cron=fields)
    if _first_run_day(_rules(fields), date(2026, 1, 1)) is None:
        raise ScheduleError(f"bad cron {_short(text)}: it never runs")
    return timing


def parse_timing(spec: Mapping[str, Any]) -> Timing:
    """Return the Timing for {"cron": ...} or {"every": ...}; raises ScheduleError."""
    if not isinstance(spec, Mapping) or len(spec) != 1 or not {"cron", "every"} & set(spec):
        raise ScheduleError(
            f"bad schedule {spec!r}: use {{'cron': '0 2 * * *'}} or {{'every': 60}}"
        )
    if "cron" in spec:
        return parse_cron(spec["cron"])
    return Timing(every=parse_every(spec["every"]))


@lru_cache(maxsize=4096)  # cron-descriptor reads its locale files on every description
def describe(timing: Timing) -> str:
    """Return the schedule in words, e.g. 'At 02:00' or 'Every 30 seconds'."""
    if timing.every:
        count, unit = int(format_every(timing.every)[:-1]), format_every(timing.every)[-1]
        word = {"s": "second", "m": "minute", "h": "hour", "d": "day"}[unit]
        return f"Every {word}" if count == 1 else f"Every {count} {word}s"
    from cron_descriptor import ExpressionDescriptor, Options

    options = Options()
    options.use_24hour_time_format = True
    line = " ".join(timing.cron or ())
    try:
        return ExpressionDescriptor(line, options).get_description()
    except Exception:  # cron-descriptor is stricter about some Celery-accepted forms
        return f"cron {line}"


def next_run(timing: Timing, after: datetime, tz: ZoneInfo) -> datetime | None:
    """Return the first run strictly after `after` (aware), in UTC; None if it never runs."""
    if timing.every:
        return after.astimezone(UTC) + timedelta(seconds=timing.every)
    after = after.astimezone(UTC)
    rules = _rules(timing.cron)
    day = after.astimezone(tz).date() - timedelta(days=1)
    for _ in range(_SEARCH_DAYS):
        found = _first_run_day(rules, day)
        if found is None:
            return None
        day = found
        instants = _day_instants(timing.cron, day, tz)
        index = bisect_right(instants, after)
        if index < len(instants):
            return instants[index]
        day += timedelta(days=1)
    return None


@dataclass(frozen=True)
class _Rules:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    day_or: bool


@lru_cache(maxsize=1024)
def _rules(cron: tuple[str, ...]) -> _Rules:
    sets = {
        name: _PARSERS[name].parse(field) for name, field in zip(CRON_FIELDS, cron, strict=True)
    }
    return _Rules(
        tuple(sorted(sets["minute"])),
        tuple(sorted(sets["hour"])),
        frozenset(sets["day_of_month"]),
        frozenset(sets["month_of_year"]),
        frozenset(sets["day_of_week"]),
        day_or=not cron[2].startswith("*") and not cron[4].startswith("*"),
    )


def _runs_on(rules: _Rules, day: date) -> bool:
    if day.month not in rules.months:
        return False
    by_dom, by_dow = day.day in rules.days, day.isoweekday() % 7 in rules.weekdays
    return (by_dom or by_dow) if rules.day_or else (by_dom and by_dow)


def _first_run_day(rules: _Rules, day: date) -> date | None:
    for _ in range(_SEARCH_DAYS):
        if _runs_on(rules, day):
            return day
        day += timedelta(days=1)
    return None


@lru_cache(maxsize=4096)
def _day_instants(cron: tuple[str, ...], day: date, tz: ZoneInfo) -> tuple[datetime, ...]:
    """Every run on one local day, sorted, in UTC, by the daylight-saving rules above."""
    rules = _rules(cron)
    real_time = len(rules.hours) == 24
    found: set[datetime] = set()
    for hour in rules.hours:
        for minute in rules.minutes:
            wall = datetime(day.year, day.month, day.day, hour, minute)
            found.update(_instants_of(wall, tz, real_time))
    return tuple(sorted(found))


def _instants_of(wall: datetime, tz: ZoneInfo, real_time: bool) -> list[datetime]:
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return [first]
    if first.astimezone(tz).replace(tzinfo=None) == wall:  # happens twice
        return sorted({first, second}) if real_time else [min(first, second)]
    return [] if real_time else [_end_of_gap(wall, tz, min(first, second), max(first, second))]


def _end_of_gap(wall: datetime, tz: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first instant whose local wall time is at or past `wall`: when the clocks jump."""
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def missed_deadline(
    timing: Timing, due_at: datetime | None, now: datetime, deadline: float | None, tz: ZoneInfo
) -> bool:
    """Return True if a cron run due at due_at is too late to send now (a newer one is not due)."""
    if timing.every or deadline is None or due_at is None:
        return False
    if (now - due_at).total_seconds() <= deadline:
        return False
    since = now - timedelta(seconds=deadline, microseconds=1)
    latest = next_run(timing, since, tz)
    return latest is None or latest > now
