"""When the emails come: a daily digest at a local hour holds every drop until then, sends one
email with each game at its lowest, and daylight-saving changes neither skip nor double a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from models import Alert, Game, Session, Subscriber, utcnow
from scheduler.alerts import digests
from scheduler.alerts.inputs import WatchError
from scheduler.health import database_health
from scheduler.tasks.alerts import requeue_stuck_alerts
from tests.support.alerts import add_game, run_check, wait_for_run, watch
from tests.support.catalogue import set_price

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def local_days(hour: int, zone: str, start: datetime, count: int) -> list[tuple[date, int]]:
    """Return (local date, local hour) of count consecutive digest times from start."""
    found, at = [], start
    for _ in range(count):
        at = digests.next_digest_at(hour, zone, at)
        local = at.astimezone(ZoneInfo(zone))
        found.append((local.date(), local.hour))
    return found


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK, "Australia/Lord_Howe", "UTC"])
@pytest.mark.parametrize("hour", [0, 2, 3, 9, 23])
def test_a_year_of_digests_comes_once_every_day_whatever_daylight_saving_does(zone, hour):
    days = local_days(hour, zone, datetime(2026, 1, 1, tzinfo=UTC), 400)

    dates = [day for day, _ in days]
    assert all(
        later - earlier == timedelta(days=1)
        for earlier, later in zip(dates, dates[1:], strict=False)
    )
    # The hour itself, except on a spring-forward day whose clock skips it: then the hour after.
    assert all(local_hour in (hour, hour + 1) for _, local_hour in days)
    assert sum(local_hour != hour for _, local_hour in days) <= 1 + (zone == NEW_YORK)


def test_an_hour_that_does_not_exist_comes_an_hour_later_and_a_doubled_one_the_first_time():
    spring = digests.next_digest_at(2, BERLIN, datetime(2026, 3, 28, 12, tzinfo=UTC))
    autumn = digests.next_digest_at(2, BERLIN, datetime(2026, 10, 24, 12, tzinfo=UTC))

    assert spring == datetime(2026, 3, 29, 1, tzinfo=UTC)  # 03:00 CEST: 02:00 does not exist
    assert autumn == datetime(2026, 10, 25, 0, tzinfo=UTC)  # the first 02:00 (CEST)
    after = digests.next_digest_at(2, BERLIN, autumn)
    assert after == datetime(2026, 10, 26, 1, tzinfo=UTC)  # not the second 02:00 that night


@pytest.mark.parametrize(
    ("frequency", "hour", "zone", "message"),
    [
        ("daily", "24", BERLIN, "from 0 to 23, not '24'"),
        ("daily", "-1", BERLIN, "from 0 to 23"),
        ("daily", "7.5", BERLIN, "from 0 to 23"),
        ("daily", "٣", BERLIN, "from 0 to 23"),
        ("daily", "8", "Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
        ("daily", "8", "../../etc/passwd", "unknown time zone"),
        ("daily", "8", "x" * 5000, "unknown time zone"),
        ("daily", "8", "", "unknown time zone"),
        ("weekly", "8", BERLIN, "unknown frequency 'weekly'"),
    ],
)
def test_a_bad_schedule_is_refused_with_one_line_and_changes_nothing(
    db, frequency, hour, zone, message
):
    watch("ann@example.com")
    with Session() as session:
        ann = session.scalars(select(Subscriber.id)).one()

    with pytest.raises(WatchError, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
        with Session.begin() as session:
            digests.set_schedule(session, ann, frequency, hour=hour, zone=zone, now=utcnow())

    assert len(str(exc.value).splitlines()) == 1 and len(str(exc.value)) < 200
    with Session() as session:
        assert session.get_one(Subscriber, ann).frequency == "immediate"


def daily_ann(hour_from_now: timedelta = timedelta(hours=5)) -> int:
    """ann watches Portal 2 and Half-Life (target 10.00) with one daily digest; returns her id."""
    with Session.begin() as session:
        add_game(session, 620, "Portal 2", price=1999)
        add_game(session, 70, "Half-Life", price=1999)
    watch("ann@example.com", 620, 70)
    when = (utcnow() + hour_from_now).astimezone(ZoneInfo(BERLIN))
    with Session.begin() as session:
        ann = session.scalars(select(Subscriber.id)).one()
        digests.set_schedule(session, ann, "daily", hour=str(when.hour), zone=BERLIN, now=utcnow())
    return ann


def drop(steam_id: int, cents: int) -> None:
    with Session.begin() as session:
        game = session.scalars(select(Game).where(Game.steam_id == steam_id)).one()
        set_price(session, game, cents, utcnow(), original=1999)


def move_the_clock_to_the_digest(subscriber_id: int) -> None:
    """The digest hour comes: what beat and the sweeps see when the wall clock reaches it."""
    past = utcnow() - timedelta(seconds=1)
    with Session.begin() as session:
        session.execute(
            update(Subscriber).where(Subscriber.id == subscriber_id).values(next_digest_at=past)
        )
        session.execute(
            update(Alert)
            .where(Alert.subscriber_id == subscriber_id, Alert.hold_until.is_not(None))
            .values(hold_until=past)
        )


def sweep() -> None:
    result = requeue_stuck_alerts.delay().get(timeout=30)
    if result["run_id"] is not None:
        wait_for_run(run_id=result["run_id"])


def test_a_daily_digest_holds_every_drop_until_its_hour_then_sends_one_email(
    db, worker, smtp_server
):
    ann = daily_ann()
    drop(620, 999)
    assert run_check().sent == 0
    drop(620, 799)  # Portal 2 drops twice before the digest: the email shows its lowest
    drop(70, 499)
    assert run_check().sent == 0
    sweep()
    with Session() as session:
        held = session.scalars(select(Alert).where(Alert.subscriber_id == ann)).all()
        assert [a.status for a in held] == ["pending"] * 3
        assert {a.hold_until for a in held} == {session.get_one(Subscriber, ann).next_digest_at}
        health = database_health(session, now=utcnow() + timedelta(hours=1), stuck_after=180)
        assert health["alerts_stuck"] == 0
    assert smtp_server.messages == []

    move_the_clock_to_the_digest(ann)
    sweep()

    messages = smtp_server.wait_for(1)
    text = messages[0].message.get_body(("plain",)).get_content()
    assert text.count("Portal 2") == 1 and "Now $7.99, was $19.99" in text
    assert "Half-Life" in text and "Now $4.99" in text
    with Session() as session:
        statuses = session.scalars(select(Alert.status).where(Alert.subscriber_id == ann))
        assert list(statuses) == ["sent"] * 3
    sweep()
    assert run_check().sent == 0
    assert len(smtp_server.messages) == 1


def test_a_drop_found_after_the_digest_went_out_waits_for_the_next_day(db, worker, smtp_server):
    ann = daily_ann()
    drop(620, 999)
    run_check()
    move_the_clock_to_the_digest(ann)
    sweep()
    smtp_server.wait_for(1)

    drop(70, 499)
    assert run_check().sent == 0

    with Session() as session:
        subscriber = session.get_one(Subscriber, ann)
        alert = session.scalars(select(Alert).where(Alert.status == "pending")).one()
        # The next occurrence of the hour: the test moved only the database's clock, so that
        # is still today's (real) one, hours ahead.
        assert alert.hold_until == subscriber.next_digest_at > utcnow() + timedelta(hours=2)
    sweep()
    assert len(smtp_server.messages) == 1


def test_going_back_to_immediate_releases_what_was_held(db, worker, smtp_server):
    ann = daily_ann()
    drop(620, 999)
    run_check()
    assert smtp_server.messages == []

    with Session.begin() as session:
        digests.set_schedule(session, ann, "immediate", now=utcnow())
    sweep()

    assert "Portal 2" in smtp_server.wait_for(1)[0].message["Subject"]


def test_a_new_hour_moves_the_held_alerts_with_it(db):
    ann = daily_ann()
    drop(620, 999)
    with Session.begin() as session:
        from scheduler.alerts.watchlist import find_due_alerts

        find_due_alerts(session, now=utcnow(), alert_run_id=None)
        subscriber = digests.set_schedule(
            session, ann, "daily", hour="6", zone=NEW_YORK, now=utcnow()
        )
        new_time = subscriber.next_digest_at

    with Session() as session:
        assert session.scalars(select(Alert.hold_until)).one() == new_time
    assert new_time.astimezone(ZoneInfo(NEW_YORK)).hour == 6
