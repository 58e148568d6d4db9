"""Imports run twice safely, lost ones are finished by the sweep, two requests at once record
one import, and thousands of items go in a few set-based statements."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from models import Session, Subscriber, WatchEntry, WishlistImport, get_engine, utcnow
from scheduler.alerts.watchlist import subscribe
from scheduler.tasks.wishlist import import_wishlist, resume_wishlist_imports
from scheduler.wishlist import imports
from scheduler.wishlist.profile import read_profile
from tests.support.wishlist import NEW_LOW, add_apps, finished, request, run_import

BIG = 5000


@pytest.fixture
def ann(db) -> int:
    """ann, subscribed; the store's wishlister profile wishes for 30 apps of the catalogue."""
    add_apps([1000 + i for i in range(60)])  # more than the apps the store's first 30 are among
    with Session.begin() as session:
        return subscribe(session, "ann@example.com").id


def watch_count(subscriber_id: int) -> int:
    with Session() as session:
        return (
            session.scalar(select(func.count()).where(WatchEntry.subscriber_id == subscriber_id))
            or 0
        )


def set_import(import_id: int, **values: object) -> None:
    with Session.begin() as session:
        session.execute(
            update(WishlistImport).where(WishlistImport.id == import_id).values(**values)
        )


def test_the_same_import_delivered_twice_adds_each_watch_once_and_reports_it_once(
    ann, steam, worker
):
    steam.set_faults({"kind": "slow", "endpoint": "wishlist", "delay": 1})
    import_id = request(ann, "wishlister")

    results = [import_wishlist.delay(import_id), import_wishlist.delay(import_id)]

    outcomes = sorted(result.get(timeout=60)["status"] for result in results)
    assert outcomes == ["done", "not ours"]
    row = finished(import_id)
    report = json.loads(row.report or "{}")
    added = report["added"]
    assert added == watch_count(ann) and added > 0 and report["already_watched"] == 0
    assert row.attempts == 1


def test_an_import_a_killed_worker_left_running_is_finished_by_the_sweep(ann, steam, worker):
    import_id = request(ann, "wishlister")
    set_import(import_id, status="running", attempts=1, claimed_at=utcnow() - timedelta(minutes=11))

    assert resume_wishlist_imports.delay().get(timeout=30) == {"resent": 1}

    row = finished(import_id)
    assert row.status == "done" and row.attempts == 2
    assert json.loads(row.report or "{}")["added"] == watch_count(ann) > 0


def test_a_running_import_younger_than_the_limit_is_left_to_its_worker(ann, steam, worker):
    import_id = request(ann, "wishlister")
    set_import(import_id, status="running", attempts=1, claimed_at=utcnow() - timedelta(minutes=5))

    assert resume_wishlist_imports.delay().get(timeout=30) == {"resent": 0}
    assert import_wishlist.delay(import_id).get(timeout=30)["status"] == "not ours"


def test_a_retry_of_the_task_that_claimed_an_import_takes_it_again(ann, steam, worker):
    # A database outage after the claim: DatabaseTask retries the task under its own id.
    import_id = request(ann, "wishlister")
    set_import(import_id, status="running", attempts=1, claimed_at=utcnow(), task_id="first-try")

    other = import_wishlist.apply_async((import_id,), task_id="someone-else")
    assert other.get(timeout=30)["status"] == "not ours"
    retried = import_wishlist.apply_async((import_id,), task_id="first-try")

    assert retried.get(timeout=60)["status"] == "done"
    assert finished(import_id).attempts == 2


def test_an_import_that_never_finishes_fails_after_three_runs(ann, steam, worker):
    import_id = request(ann, "wishlister")
    set_import(import_id, status="running", attempts=3, claimed_at=utcnow() - timedelta(minutes=11))

    assert resume_wishlist_imports.delay().get(timeout=30) == {"resent": 0}

    row = finished(import_id, timeout=5)
    assert row.status == "failed"
    assert row.error == "the import did not finish in 3 attempts; try again later"


def test_a_queued_import_whose_task_was_lost_is_sent_by_the_sweep(ann, steam, worker):
    lost = request(ann, "wishlister")  # recorded, its task never sent (a broker restart)
    set_import(lost, requested_at=utcnow() - timedelta(minutes=3))
    with Session.begin() as session:
        bob = subscribe(session, "bob@example.com").id
    fresh = request(bob, "wishlister")  # its task may still be on its way

    assert resume_wishlist_imports.delay().get(timeout=30) == {"resent": 1}

    assert finished(lost).status == "done"
    with Session() as session:
        assert session.get_one(WishlistImport, fresh).status == "queued"


def test_two_requests_at_once_record_one_import(ann):
    outcomes: list[str] = []

    def ask() -> None:
        try:
            request(ann, "wishlister")
            outcomes.append("recorded")
        except imports.TooSoon:
            outcomes.append("too soon")

    with Session.begin() as first:  # the first request, not yet committed
        imports.request_import(first, ann, read_profile("wishlister"), NEW_LOW, utcnow())
        second = threading.Thread(target=ask)
        second.start()
        second.join(timeout=1.5)  # time for the second to reach its check (it must wait there)
    second.join(timeout=60)

    assert outcomes == ["too soon"]
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(WishlistImport)) == 1


def test_a_deleted_accounts_import_in_flight_adds_nothing(ann, steam, worker):
    from scheduler.accounts.data import delete_account

    steam.set_faults({"kind": "slow", "endpoint": "wishlist", "delay": 2})
    import_id = request(ann, "wishlister")
    result = import_wishlist.delay(import_id)
    time.sleep(0.5)  # the worker has claimed it and waits for Steam; nothing asserts on time
    with Session.begin() as session:
        delete_account(session, ann)

    assert result.get(timeout=60)["status"] in ("not ours", "database unavailable")
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(WatchEntry)) == 0
        assert session.get(Subscriber, ann) is None


def test_five_thousand_items_are_imported_in_a_few_statements_per_thousand(db):
    appids = [500_000 + i for i in range(BIG)]
    add_apps(appids[:-10])
    with Session.begin() as session:
        ann = subscribe(session, "ann@example.com").id
        import_id = imports.request_import(
            session, ann, read_profile("wishlister"), NEW_LOW, utcnow()
        )
        assert imports.claim(session, import_id, utcnow(), "a-task") is not None
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2])[:30])

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        with Session.begin() as session:
            report = imports.apply_wishlist(session, import_id, appids, imports.Report(), utcnow())
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)

    assert report is not None and (report.added, report.already_watched) == (BIG - 10, 0)
    assert report.not_in_catalogue == appids[-10:]
    assert len(statements) <= 2 * (BIG // imports.CHUNK) + 5, statements
    assert watch_count(ann) == BIG - 10


def test_a_wishlist_of_five_thousand_games_goes_through_the_worker(db, steam, worker):
    appids = [600_000 + i for i in range(BIG)]
    add_apps(appids)
    steam.control(
        {"profiles": [{"steamid": "76561198000000077", "name": "big_wisher", "appids": appids}]}
    )
    with Session.begin() as session:
        ann = subscribe(session, "ann@example.com").id
        subscribe(session, "bob@example.com")
    started = time.monotonic()

    row = run_import(ann, "big_wisher")

    seconds = time.monotonic() - started
    report = json.loads(row.report or "{}")
    assert row.status == "done" and report["added"] == BIG and report["not_in_catalogue"] == []
    assert watch_count(ann) == BIG
    print(f"\nwishlist of {BIG} games imported in {seconds:.2f} s ({db.split(':')[0]})")
