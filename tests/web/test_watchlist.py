"""The watchlist page: add, edit in place, pause, resume, remove; scoped to its owner; the CLI's
messages for bad values; a warning for a target below anything the game ever cost."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import Alert, Game, Session, WatchEntry, utcnow
from scheduler.alerts.inputs import WatchError, read_rule
from tests.support.alerts import add_game, run_check
from tests.support.catalogue import set_price
from tests.support.cli import scout
from tests.support.web import csrf, post, sign_in_as


@pytest.fixture
def client(scout_app):
    return scout_app.app.test_client()


@pytest.fixture
def games(db):
    """Two games in the catalogue: Portal 2 (App_620, 9.99) and Half-Life (App_70, 19.99)."""
    with Session.begin() as session:
        portal = add_game(session, 620, "Portal 2", price=999)
        half = add_game(session, 70, "Half-Life <b>&amp;</b>", price=1999)
        return {"portal": portal.id, "half": half.id}


def watches(subscriber_id: int) -> list[tuple[str, int | None, int | None, bool]]:
    with Session() as session:
        rows = session.execute(
            select(
                WatchEntry.rule,
                WatchEntry.target_cents,
                WatchEntry.min_discount_pct,
                WatchEntry.paused_at,
            )
            .where(WatchEntry.subscriber_id == subscriber_id)
            .order_by(WatchEntry.id)
        ).all()
    return [(rule, target, pct, paused is not None) for rule, target, pct, paused in rows]


def watch_id(subscriber_id: int) -> int:
    with Session() as session:
        return session.scalars(
            select(WatchEntry.id).where(WatchEntry.subscriber_id == subscriber_id)
        ).one()


def page_errors(text: str) -> list[str]:
    return [
        error.replace("&#39;", "'")
        for error in re.findall(r'<p class="error"[^>]*>([^<]*)</p>', text)
    ]


def test_a_signed_out_visitor_is_sent_to_sign_in(db, client):
    response = client.get("/watchlist")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/?next=/watchlist")
    token = csrf(client)
    assert client.post("/watchlist", data={"csrf_token": token, "item": "620"}).status_code == 302
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(WatchEntry)) == 0


def test_adding_editing_pausing_resuming_and_removing_a_watch(games, client):
    ann = sign_in_as(client, "ann@example.com")

    added = post(client, "/watchlist", {"item": "App_620", "rule": "below", "value": "7.99"})
    assert added.status_code == 302 and watches(ann) == [("below", 799, None, False)]
    wid = watch_id(ann)
    page = client.get("/watchlist").text
    assert "Portal 2" in page and "at or below $7.99" in page and "$9.99" in page

    edited = post(client, f"/watchlist/{wid}", {"rule": "discount", "value": "50%"})
    assert edited.status_code == 302 and watches(ann) == [("discount", None, 50, False)]
    assert post(client, f"/watchlist/{wid}/pause").status_code == 302
    assert watches(ann) == [("discount", None, 50, True)]
    assert "Paused" in client.get("/watchlist").text
    assert post(client, f"/watchlist/{wid}/resume").status_code == 302
    assert watches(ann) == [("discount", None, 50, False)]
    assert post(client, f"/watchlist/{wid}/remove").status_code == 302
    assert watches(ann) == []


def test_a_title_from_the_store_is_escaped(games, client):
    sign_in_as(client, "ann@example.com")
    post(client, "/watchlist", {"item": "70", "rule": "new_low", "value": ""})

    text = client.get("/watchlist").text

    assert "Half-Life &lt;b&gt;&amp;amp;&lt;/b&gt;" in text and "<b>&amp;</b>" not in text


def test_one_subscriber_can_never_see_or_change_anothers_watch(games, scout_app):
    ann_client, bob_client = scout_app.app.test_client(), scout_app.app.test_client()
    ann = sign_in_as(ann_client, "ann@example.com")
    bob = sign_in_as(bob_client, "bob@example.com")
    post(ann_client, "/watchlist", {"item": "620", "rule": "below", "value": "5"})
    post(bob_client, "/watchlist", {"item": "70", "rule": "below", "value": "5"})
    ann_watch = watch_id(ann)

    assert "Portal 2" not in bob_client.get("/watchlist").text
    for path, data in (
        (f"/watchlist/{ann_watch}", {"rule": "below", "value": "1"}),
        (f"/watchlist/{ann_watch}/pause", {}),
        (f"/watchlist/{ann_watch}/resume", {}),
        (f"/watchlist/{ann_watch}/remove", {}),
        (f"/watchlist/{ann_watch + 1000}/remove", {}),
    ):
        assert post(bob_client, path, data).status_code == 404, path
    assert watches(ann) == [("below", 500, None, False)]
    assert len(watches(bob)) == 1


@pytest.mark.parametrize(
    ("rule", "value"),
    [
        ("below", "abc"),
        ("below", "0"),
        ("below", "-5"),
        ("discount", "150"),
        ("discount", "half"),
        ("discount", "0"),
        ("sideways", "5"),
    ],
)
def test_a_bad_rule_gets_the_clis_one_line_and_stores_nothing(games, client, rule, value):
    ann = sign_in_as(client, "ann@example.com")
    with pytest.raises(WatchError) as expected:
        read_rule(rule, value, "USD")

    response = post(client, "/watchlist", {"item": "620", "rule": rule, "value": value})

    assert response.status_code == 400
    if rule == "sideways":  # the form's own choice check answers first
        assert page_errors(response.text) == ["Not a valid choice."]
    else:
        assert page_errors(response.text) == [str(expected.value)]
    assert watches(ann) == []


@pytest.mark.parametrize(
    ("flag", "rule", "value"),
    [("--below", "below", "12.345"), ("--discount", "discount", "101"), ("--below", "below", "0")],
)
def test_a_bad_value_gets_the_same_line_from_the_cli_and_the_web(
    games, client, capsys, flag, rule, value
):
    sign_in_as(client, "ann@example.com")
    status, _, err = scout(capsys, "watch", "add", "ann@example.com", "620", flag, value)

    web = post(client, "/watchlist", {"item": "620", "rule": rule, "value": value})

    assert status == 1 and err.strip().startswith("scout: error: ")
    assert page_errors(web.text) == [err.strip().removeprefix("scout: error: ")]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("App_999999", "is not in the catalogue"),
        ("https://evil.example/app/x", "not a store item"),
        ("x" * 600, "at most 500 characters"),
        ("", "Enter a store link"),
    ],
)
def test_a_bad_item_gets_one_line_and_stores_nothing(games, client, item, message):
    ann = sign_in_as(client, "ann@example.com")

    response = post(client, "/watchlist", {"item": item, "rule": "new_low"})

    errors = page_errors(response.text)
    assert response.status_code == 400 and len(errors) == 1 and message in errors[0]
    assert watches(ann) == []


def test_a_target_below_the_lowest_price_ever_is_a_warning_not_a_refusal(games, client):
    ann = sign_in_as(client, "ann@example.com")
    with Session.begin() as session:
        set_price(session, session.get_one(Game, games["portal"]), 499, utcnow() - timedelta(3))
        set_price(session, session.get_one(Game, games["portal"]), 999, utcnow())

    response = post(client, "/watchlist", {"item": "620", "rule": "below", "value": "2"})

    assert response.status_code == 302 and watches(ann) == [("below", 200, None, False)]
    page = client.get("/watchlist").text
    assert "below the lowest price Portal 2 was ever seen at ($4.99 on" in page
    assert "Lowest seen" in page and "$4.99" in page


def test_a_paused_watch_sends_nothing_and_its_pending_alert_is_skipped(
    games, worker, smtp_server, client
):
    ann = sign_in_as(client, "ann@example.com")
    post(client, "/watchlist", {"item": "620", "rule": "below", "value": "8"})
    with Session.begin() as session:
        alert = Alert(
            subscriber_id=ann,
            game_id=games["portal"],
            watch_entry_id=watch_id(ann),
            generation=0,
            trigger_cents=799,
            currency="USD",
            status="pending",
            created_at=utcnow(),
        )
        session.add(alert)
    post(client, f"/watchlist/{watch_id(ann)}/pause")
    with Session.begin() as session:
        set_price(session, session.get_one(Game, games["portal"]), 499, utcnow())

    assert run_check().sent == 0
    with Session() as session:
        assert session.get_one(Alert, alert.id).status == "skipped"
    assert smtp_server.messages == []


def test_an_unsubscribed_person_sees_it_and_can_take_emails_again(games, client):
    from scheduler.alerts.watchlist import find_subscriber, unsubscribe

    sign_in_as(client, "ann@example.com")
    with Session.begin() as session:
        unsubscribe(session, find_subscriber(session, "ann@example.com").unsubscribe_token)
    assert "You unsubscribed" in client.get("/watchlist").text

    assert post(client, "/watchlist/resubscribe").status_code == 302

    assert "You unsubscribed" not in client.get("/watchlist").text


def test_on_sqlite_a_page_reads_beside_a_writer_holding_the_write_lock(sqlite_db, client):
    """Pages read in a deferred transaction: a scrape holding SQLite's write lock does not make
    them queue behind it (BEGIN IMMEDIATE would wait out the 30 s busy timeout)."""
    with Session.begin() as session:
        add_game(session, 620, "Portal 2", price=999)
    sign_in_as(client, "ann@example.com")
    assert (
        post(client, "/watchlist", {"item": "620", "rule": "below", "value": "5"}).status_code
        == 302
    )
    writer = sqlite3.connect(sqlite_db.removeprefix("sqlite:///"), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE games SET title = 'Portal 3'")
        began = time.monotonic()
        page = client.get("/watchlist")
        waited = time.monotonic() - began
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert page.status_code == 200
    assert "Portal 2" in page.text, "the last commit, not the writer's uncommitted title"
    assert waited < 5, f"the page waited {waited:.1f} s for the writer"
