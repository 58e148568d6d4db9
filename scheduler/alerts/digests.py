"""When the emails come: as soon as a drop is found, or one digest a day at a local hour.

A daily subscriber's alerts are found as always, but each waits in the outbox (hold_until) for
the next occurrence of their hour in their time zone (next_digest_at); nothing claims it before.
Once that time passes, the sweep (every minute) and the hourly check send everything held in
one email. Every due-alerts pass first moves a passed next_digest_at on to the next day, so a
drop found after the digest went out waits for tomorrow's.

The next occurrence is taken day by day in local time (never by adding 24 hours), so a
daylight-saving change neither skips nor doubles a day: an hour that does not exist that day
(spring forward) comes at the same UTC offset as the hour before it, i.e. an hour later on the
clock; an hour that happens twice (fall back) comes the first time.

Helpers take the session as first argument and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.alert import Alert, Subscriber
from scheduler.alerts.inputs import WatchError

FREQUENCIES = ("immediate", "daily")
MAX_ZONE = 64
MAX_DUE_ADVANCED = 10_000  # subscribers moved on per pass; the next pass takes the rest


@cache
def zone_names() -> frozenset[str]:
    """Return every IANA time zone name this machine's tz database knows (read once)."""
    return frozenset(available_timezones())


def read_zone(text: str) -> str:
    """Return an IANA time zone name as typed if it names one; raises WatchError (one line).

    Only names of the tz database pass, so no path or odd spelling ever reaches ZoneInfo.
    """
    name = text.strip()
    if not name or len(name) > MAX_ZONE or name not in zone_names():
        shown = repr(name[:40]) + ("..." if len(name) > 40 else "")
        raise WatchError(f"unknown time zone {shown}: use an IANA name such as Europe/Berlin")
    return name


def read_hour(text: str) -> int:
    """Return an hour of the day, 0-23, from what was typed; raises WatchError."""
    raw = text.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 2 or int(raw) > 23:
        raise WatchError(f"the hour must be a whole number from 0 to 23, not {raw[:24]!r}")
    return int(raw)


def next_digest_at(hour: int, zone: str, after: datetime) -> datetime:
    """Return the first time, strictly after `after`, that is hour:00 in zone, in UTC."""
    tz = ZoneInfo(zone)
    day = after.astimezone(tz).date()
    while True:  # at most twice: today's hour has passed, tomorrow's has not
        candidate = datetime(day.year, day.month, day.day, hour, tzinfo=tz).astimezone(UTC)
        if candidate > after:
            return candidate
        day += timedelta(days=1)


def set_schedule(
    session: Session,
    subscriber_id: int,
    frequency: str,
    *,
    hour: str = "",
    zone: str = "",
    now: datetime,
) -> Subscriber:
    """Set when a subscriber's emails come; alerts already held move to the new time.

    Raises WatchError with one line for an unknown frequency, hour or time zone.
    """
    if frequency not in FREQUENCIES:
        raise WatchError(f"unknown frequency {frequency[:24]!r}: use {' or '.join(FREQUENCIES)}")
    subscriber = session.get_one(Subscriber, subscriber_id, with_for_update=True)
    if frequency == "daily":
        subscriber.digest_hour, subscriber.timezone = read_hour(hour), read_zone(zone)
        subscriber.next_digest_at = next_digest_at(subscriber.digest_hour, subscriber.timezone, now)
    else:
        subscriber.next_digest_at = None
    subscriber.frequency = frequency
    session.execute(
        update(Alert)
        .where(
            Alert.subscriber_id == subscriber_id,
            Alert.status == "pending",
            Alert.hold_until.is_not(None),
        )
        .values(hold_until=subscriber.next_digest_at)
    )
    session.flush()
    return subscriber


def advance_due(session: Session, *, now: datetime) -> int:
    """Move every passed next_digest_at on to its next occurrence; return how many moved.

    Runs at the start of every due-alerts pass, so alerts found from now on wait for the next
    digest while those already held for the passed one are sent. One statement when none is
    due; else one UPDATE per (hour, zone) among the due ones.
    """
    due = session.execute(
        select(Subscriber.id, Subscriber.digest_hour, Subscriber.timezone)
        .where(Subscriber.frequency == "daily", Subscriber.next_digest_at <= now)
        .order_by(Subscriber.id)
        .limit(MAX_DUE_ADVANCED)
        .with_for_update(skip_locked=True)
    ).all()
    by_time: dict[tuple[int, str], list[int]] = defaultdict(list)
    for subscriber_id, hour, zone in due:
        by_time[(hour or 0, zone or "UTC")].append(subscriber_id)
    for (hour, zone), ids in by_time.items():
        session.execute(
            update(Subscriber)
            .where(Subscriber.id.in_(ids))
            .values(next_digest_at=next_digest_at(hour, zone, now))
        )
    return len(due)
