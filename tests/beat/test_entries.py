"""The schedule in the database: defaults, seeding, validated edits, the edit log and versions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from beat_schedule import DEFAULT_SCHEDULE
from models import ScheduleEdit, ScheduleEntry, Session
from scheduler.app import celery as app
from scheduler.beat import entries as store
from scheduler.beat.calls import CallRules
from scheduler.beat.spec import check_fields
from scheduler.beat.timing import ScheduleError, parse_timing

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


PROBE = {
    "task": "celery.backend_cleanup",
    "schedule": {"every": 60},
    "args": [],
    "kwargs": {},
    "options": {"queue": "probe"},
}


def test_every_default_entry_names_a_registered_task() -> None:
    app.loader.import_default_modules()
    missing = {
        name: spec["task"]
        for name, spec in DEFAULT_SCHEDULE.items()
        if spec["task"] not in app.tasks
    }
    assert missing == {}


def test_every_default_entry_is_valid_plain_data_with_queue_and_expiry() -> None:
    wanted = {
        "scheduler.tasks.catalogue.scrape_catalogue",
        "scheduler.tasks.alerts.check_watchlists",
        "scheduler.tasks.alerts.requeue_stuck_alerts",
        "scheduler.tasks.prices.refresh_watched_prices",
    }
    assert wanted <= {spec["task"] for spec in DEFAULT_SCHEDULE.values()}
    app.loader.import_default_modules()
    rules = CallRules.from_app(app)  # the worker's queues and the tasks' signatures too
    for name, spec in DEFAULT_SCHEDULE.items():
        parse_timing(spec["schedule"])
        check_fields(name, spec["task"], spec["args"], spec["kwargs"], spec["options"], rules)
        assert {"queue", "expires"} <= set(spec["options"]), name


def test_seeding_adds_missing_defaults_but_never_overwrites_an_edit(db: str) -> None:
    with Session.begin() as session:
        assert store.seed_defaults(session, DEFAULT_SCHEDULE, "beat", T0) == list(DEFAULT_SCHEDULE)
    later = T0 + timedelta(hours=1)
    with Session.begin() as session:
        store.edit_entry(
            session, "scrape-catalogue", "alice", later, timing=parse_timing({"cron": "0 4 * * *"})
        )
    more = {**DEFAULT_SCHEDULE, "new-default": PROBE}
    with Session.begin() as session:
        assert store.seed_defaults(session, more, "beat", later) == ["new-default"]
    with Session() as session:
        edited = store.get_entry(session, "scrape-catalogue")
        assert (edited.cron_minute, edited.cron_hour) == ("0", "4")
        assert session.scalar(select(func.count()).select_from(ScheduleEntry)) == len(more)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"task": "no.such.task"}, "unknown task"),
        ({"args": {"a": 1}}, "must be a JSON list"),
        ({"kwargs": [1]}, "must be a JSON object"),
        ({"schedule": {"every": 0}}, "must be positive"),
        ({"schedule": {"cron": "0 2 * *"}}, "five fields"),
    ],
)
def test_a_bad_entry_is_refused_and_nothing_is_stored(db: str, change: dict, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        store.in_transaction(
            lambda s: store.add_entry(
                s, "bad", {**PROBE, **change}, "al", T0, CallRules.from_app(app, check_queues=False)
            )
        )
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(ScheduleEntry)) == 0
        assert session.scalar(select(func.count()).select_from(ScheduleEdit)) == 0


def test_every_edit_is_logged_with_who_before_and_after_and_a_growing_version(db: str) -> None:
    store.in_transaction(lambda s: store.add_entry(s, "probe", PROBE, "alice", T0, None))
    store.in_transaction(
        lambda s: store.edit_entry(
            s, "probe", "bob", T0 + timedelta(minutes=1), timing=parse_timing({"cron": "0 3 * * *"})
        )
    )
    store.in_transaction(lambda s: store.edit_entry(s, "probe", "carol", T0, enabled=False))
    store.in_transaction(lambda s: store.remove_entry(s, "probe", "dave", T0))
    with Session() as session:
        edits = list(reversed(store.edit_history(session)))
        assert [(e.version, e.by, e.action) for e in edits] == [
            (1, "alice", "add"),
            (2, "bob", "set"),
            (3, "carol", "disable"),
            (4, "dave", "remove"),
        ]
        assert edits[1].before["schedule"] == {"every": 60}
        assert edits[1].after["schedule"] == {"cron": "0 3 * * *"}
        assert edits[3].after is None
        assert store.changes_since(session, 2) == (4, {"probe"})
        assert store.changes_since(session, 4) == (4, set())


def test_a_schedule_edit_or_re_enable_re_anchors_but_a_disable_does_not(db: str) -> None:
    store.in_transaction(lambda s: store.add_entry(s, "probe", PROBE, "al", T0, None))
    t1, t2 = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    store.in_transaction(lambda s: store.edit_entry(s, "probe", "al", t1, enabled=False))
    with Session() as session:
        assert store.get_entry(session, "probe").anchored_at == T0
    store.in_transaction(lambda s: store.edit_entry(s, "probe", "al", t2, enabled=True))
    with Session() as session:
        assert store.get_entry(session, "probe").anchored_at == t2


def test_a_run_is_recorded_and_last_run_at_never_moves_back(db: str) -> None:
    store.in_transaction(lambda s: store.add_entry(s, "probe", PROBE, "al", T0, None))
    later = T0 + timedelta(minutes=5)
    assert store.in_transaction(lambda s: store.record_run(s, "probe", later))
    assert not store.in_transaction(lambda s: store.record_run(s, "probe", T0))
    with Session() as session:
        entry = store.get_entry(session, "probe")
        assert (entry.last_run_at, entry.run_count) == (later, 1)


def test_a_duplicate_name_is_refused(db: str) -> None:
    store.in_transaction(lambda s: store.add_entry(s, "probe", PROBE, "al", T0, None))
    with pytest.raises(ScheduleError, match="already exists"):
        store.in_transaction(lambda s: store.add_entry(s, "probe", PROBE, "al", T0, None))


def test_concurrent_edits_all_commit_with_distinct_contiguous_versions(db: str) -> None:
    store.in_transaction(lambda s: store.add_entry(s, "probe", PROBE, "al", T0, None))
    errors: list[BaseException] = []

    def edit_five(who: str) -> None:
        try:
            for n in range(5):
                timing = parse_timing({"every": 60 + n})
                store.in_transaction(
                    lambda s, t=timing: store.edit_entry(s, "probe", who, T0, timing=t),
                    attempts=20,
                )
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=edit_five, args=(f"admin{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with Session() as session:
        versions = sorted(session.scalars(select(ScheduleEdit.version)))
    assert versions == list(range(1, 32))
