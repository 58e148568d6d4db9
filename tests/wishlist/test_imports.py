"""Wishlist imports end to end: a real worker asks the simulated store over HTTP, on SQLite and
PostgreSQL; the report says what was added, already watched, missing, private, or why it failed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from models import Game, Session, Subscriber, WatchEntry, WishlistImport
from scheduler.alerts.watchlist import add_watch, subscribe
from tests.support.scrapes import run_scrape
from tests.support.wishlist import PRIVATE, WISHLISTER, age_imports, run_import

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def ann(db, steam) -> int:
    """ann, subscribed, with the simulated store's 1,000 games scraped into the catalogue."""
    assert run_scrape().status == "ok"
    with Session.begin() as session:
        return subscribe(session, "ann@example.com").id


def report_of(row: WishlistImport) -> dict:
    assert row.status == "done", row.error
    return json.loads(row.report or "{}")


Held = tuple[str, int | None, int | None, str | None]


def watches(subscriber_id: int) -> dict[int, Held]:
    """App id -> (rule, target, discount, source) of every watch of the subscriber."""
    with Session() as session:
        rows = session.execute(
            select(
                Game.steam_id,
                WatchEntry.rule,
                WatchEntry.target_cents,
                WatchEntry.min_discount_pct,
                WatchEntry.source,
            )
            .join(Game, Game.id == WatchEntry.game_id)
            .where(WatchEntry.subscriber_id == subscriber_id)
        ).all()
    return {appid: (rule, target, pct, source) for appid, rule, target, pct, source in rows}


def wished(steam, steamid: int = WISHLISTER) -> list[int]:
    from storesim.steam import wishlist_appids

    return wishlist_appids(steam.profiles.find("profiles", str(steamid)), steam.games, steam.seed)


def test_an_import_watches_each_wished_game_the_catalogue_has_and_reports_the_rest(ann, steam):
    ids = wished(steam)
    with Session.begin() as session:
        add_watch(session, "ann@example.com", f"app/{ids[0]}", below_cents=100)

    row = run_import(
        ann, "https://steamcommunity.com/profiles/76561198000000001/", ("discount", None, 50)
    )

    report = report_of(row)
    assert report["wishlist"] == 33 and report["steamid"] == WISHLISTER
    assert (report["added"], report["already_watched"]) == (29, 1)
    assert report["not_in_catalogue"] == ids[30:]
    assert report["private_or_empty"] is False
    held = watches(ann)
    assert held[ids[0]] == ("below", 100, None, None)  # the watch ann had keeps its rule
    assert {held[appid] for appid in ids[1:30]} == {("discount", None, 50, "wishlist")}
    assert len(held) == 30


def test_a_custom_name_is_resolved_through_the_profile_page(ann, steam):
    row = run_import(ann, "https://steamcommunity.com/id/WishLister")

    assert report_of(row)["added"] == 30 and row.steamid == WISHLISTER
    assert steam.stats()["steam"] == {**steam.stats()["steam"], "profile": 1, "wishlist": 1}


def test_a_re_import_adds_only_what_is_new_on_the_wishlist(ann, steam):
    first = report_of(run_import(ann, "wishlister"))
    steam.control({"profiles": [{"steamid": str(WISHLISTER), "name": "wishlister", "apps": 36}]})
    age_imports(ann)

    again = report_of(run_import(ann, "wishlister", ("below", 500, None)))

    assert (first["added"], again["added"], again["already_watched"]) == (30, 6, 30)
    rules = [rule for rule, *_ in watches(ann).values()]
    assert rules.count("new_low") == 30 and rules.count("below") == 6


def test_a_private_profile_imports_nothing_and_says_private_or_empty(ann, steam):
    row = run_import(ann, "private_wisher")

    report = report_of(row)
    assert report["private_or_empty"] is True and report["profile_private"] is True
    assert (report["wishlist"], report["added"], report["not_in_catalogue"]) == (0, 0, [])
    assert row.steamid == PRIVATE and watches(ann) == {}


def test_an_empty_wishlist_of_a_public_profile_is_private_or_empty_too(ann, steam):
    report = report_of(run_import(ann, "empty_wisher"))

    assert report["private_or_empty"] is True and report["profile_private"] is False


def test_a_name_nobody_has_fails_with_profile_not_found(ann, steam):
    row = run_import(ann, "nobody_has_this")

    assert row.status == "failed"
    assert row.error == (
        "profile not found: Steam has no profile steamcommunity.com/id/nobody_has_this"
    )
    assert watches(ann) == {}


def test_steam_unreachable_after_its_retries_fails_with_the_reason(ann, steam):
    steam.set_faults({"kind": "503", "endpoint": "wishlist", "times": -1})

    row = run_import(ann, "76561198000000001")

    assert row.status == "failed" and row.error is not None
    assert row.error.startswith("Steam unreachable: no answer after 3 attempts (HTTP 503)")
    assert steam.stats()["steam"]["wishlist"] == 3  # STORE_MAX_RETRIES=2 in these tests


@pytest.mark.parametrize(
    ("kind", "endpoint"),
    [
        ("garbled", "wishlist"),
        ("json_error", "wishlist"),
        ("garbled", "profile"),
        ("null", "wishlist"),
    ],
)
def test_a_garbage_answer_fails_the_import_and_adds_nothing(ann, steam, kind, endpoint):
    steam.set_faults({"kind": kind, "endpoint": endpoint, "times": -1})

    row = run_import(ann, "wishlister")

    assert row.status == "failed" and "could not be read" in (row.error or "")
    assert watches(ann) == {}


def test_a_429_with_retry_after_and_a_slow_answer_are_waited_out(ann, steam, scout_app):
    scout_app.update(store_read_timeout=1.0)
    steam.set_faults(
        {"kind": "429", "endpoint": "profile", "retry_after": "1"},
        {"kind": "slow", "endpoint": "wishlist", "delay": 3},
    )

    row = run_import(ann, "wishlister")

    assert report_of(row)["added"] == 30
    stats = steam.stats()
    assert (stats["steam"]["profile"], stats["steam"]["wishlist"]) == (2, 2)
    assert stats["by_status"]["429"] == 1 and stats["by_status"]["slow"] == 1
    times = stats["steam"]["times"]
    assert times[1] - times[0] >= 1.0  # Retry-After honoured


def test_no_import_ever_asks_the_store_per_app(ann, steam):
    steam.control({"reset_stats": True})

    run_import(ann, "wishlister")

    stats = steam.stats()
    assert stats["total"] == 0 and stats["appdetails"]["requests"] == 0
    assert stats["steam"]["profile"] + stats["steam"]["wishlist"] == 2


def test_every_row_of_a_deleted_account_goes_with_its_imports(ann, steam):
    from scheduler.accounts.data import delete_account, export_account

    run_import(ann, "wishlister")
    with Session() as session:
        exported = export_account(session, ann)
    assert exported["wishlist_imports"][0]["profile"] == "id/wishlister"
    assert exported["wishlist_imports"][0]["report"]["added"] == 30
    assert {w["source"] for w in exported["watches"]} == {"wishlist"}

    with Session.begin() as session:
        counts = delete_account(session, ann)

    assert counts["wishlist_imports"] == 1 and counts["watches"] == 30
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(WishlistImport)) == 0
        assert session.scalar(select(func.count()).select_from(WatchEntry)) == 0
        assert session.get(Subscriber, ann) is None
