"""Take my data with me, or delete it: the settings page and `scout subscribers export|delete`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from models import Alert, Session, Subscriber, WatchEntry
from tests.support.accounts import rows_about
from tests.support.alerts import add_game, run_check
from tests.support.cli import scout
from tests.support.web import post, sign_in_as


@pytest.fixture
def client(scout_app):
    return scout_app.app.test_client()


@pytest.fixture
def two_people(db, worker, smtp_server):
    """ann and bob each watch two games; a check sent each an email (alerts 'sent')."""
    from tests.support.alerts import watch

    with Session.begin() as session:
        add_game(session, 620, "Portal 2", price=499)
        add_game(session, 70, "Half-Life", price=199)
    watch("ann@example.com", 620, 70)
    watch("bob@example.com", 620, 70)
    assert run_check().sent == 4  # alerts, in one email each
    smtp_server.wait_for(2)
    with Session() as session:
        return {
            row.email: row.id for row in session.scalars(select(Subscriber).order_by(Subscriber.id))
        }


def test_the_export_holds_the_address_the_watches_with_rules_and_the_alerts_sent(
    two_people, client
):
    sign_in_as(client, "ann@example.com")

    response = client.get("/settings/export")

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    exported = json.loads(response.text)
    assert exported["email"] == "ann@example.com"
    assert sorted(w["item"] for w in exported["watches"]) == ["App_620", "App_70"]
    assert {w["rule"] for w in exported["watches"]} == {"below"}
    assert {w["target_cents"] for w in exported["watches"]} == {1000}
    assert len(exported["alerts"]) == 2
    assert all(a["status"] == "sent" and a["sent_at"] for a in exported["alerts"])
    assert "bob@example.com" not in response.text


def test_deleting_asks_once_then_leaves_nothing_about_the_person_in_any_table(
    two_people, client, smtp_server
):
    ann, bob = two_people["ann@example.com"], two_people["bob@example.com"]
    sign_in_as(client, "ann@example.com")
    assert rows_about(ann, "ann@example.com")
    bob_before = rows_about(bob, "bob@example.com")

    asked = post(client, "/settings/delete", token_from="/settings")
    assert asked.status_code == 200 and "Yes, delete everything" in asked.text
    assert rows_about(ann, "ann@example.com")
    done = post(client, "/settings/delete", {"confirm": "yes"}, token_from="/settings")

    assert done.status_code == 302
    assert rows_about(ann, "ann@example.com") == {}
    assert rows_about(bob, "bob@example.com") == bob_before
    assert client.get("/watchlist").status_code == 302  # signed out
    assert run_check().sent == 0
    assert len(smtp_server.messages) == 2


def test_a_send_in_flight_for_a_deleted_person_sends_nothing(two_people, smtp_server):
    from models import utcnow
    from scheduler.accounts import data
    from scheduler.tasks.alerts import send_digests

    ann = two_people["ann@example.com"]
    with Session.begin() as session:
        entry = session.scalars(select(WatchEntry).where(WatchEntry.subscriber_id == ann)).first()
        session.add(
            Alert(
                subscriber_id=ann,
                game_id=entry.game_id,
                watch_entry_id=entry.id,
                generation=entry.generation,
                trigger_cents=99,
                currency="USD",
                status="pending",
                created_at=utcnow(),
            )
        )
    with Session.begin() as session:
        data.delete_account(session, ann)

    assert send_digests(0, [ann])["emails"] == 0
    assert len(smtp_server.messages) == 2


def test_the_settings_pages_need_a_sign_in_and_a_csrf_token(db, client):
    assert client.get("/settings").status_code == 302
    assert client.get("/settings/export").status_code == 302
    sign_in_as(client, "ann@example.com")
    client.get("/settings")

    refused = client.post("/settings/delete", data={"confirm": "yes"})

    assert refused.status_code == 400
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 1


def test_scout_exports_and_deletes_a_subscriber_on_request(two_people, capsys):
    ann = two_people["ann@example.com"]

    status, out, _ = scout(capsys, "subscribers", "export", "Ann@Example.com")
    assert status == 0 and json.loads(out)["email"] == "ann@example.com"
    status, out, _ = scout(capsys, "subscribers", "delete", "ann@example.com")
    assert status == 1 and "add --yes" in out and rows_about(ann, "ann@example.com")
    status, out, _ = scout(capsys, "subscribers", "delete", "ann@example.com", "--yes")

    assert status == 0 and out.strip() == "deleted ann@example.com: 2 watches, 2 alerts"
    assert rows_about(ann, "ann@example.com") == {}
    assert rows_about(two_people["bob@example.com"], "bob@example.com")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["subscribers", "export", "nobody@example.com"], "no subscriber nobody@example.com"),
        (["subscribers", "delete", "not-an-address", "--yes"], "not a valid email address"),
        (["subscribers", "export", "a" * 300 + "@x.org"], "has at most 254"),
    ],
)
def test_scout_subscribers_gives_one_line_for_a_bad_address(db, capsys, argv, message):
    try:
        status, out, err = scout(capsys, *argv)
    except SystemExit as exc:  # argparse's own refusal: usage, then one error line
        status, (out, err) = int(exc.code or 0), capsys.readouterr()
        err = err.strip().splitlines()[-1]

    assert status in (1, 2) and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_an_admin_who_deletes_their_account_leaves_their_edits_but_not_their_address(db, client):
    from models import ScheduleEdit, utcnow
    from scheduler.accounts import data

    ann = sign_in_as(client, "ann@example.com")
    with Session.begin() as session:
        session.add(
            ScheduleEdit(
                version=1,
                at=utcnow(),
                by="ann@example.com",
                entry_name="check-watchlists",
                action="disable",
            )
        )
    with Session.begin() as session:
        data.delete_account(session, ann)

    assert rows_about(ann, "ann@example.com") == {}
    with Session() as session:
        edit = session.scalars(select(ScheduleEdit)).one()
    assert (edit.by, edit.action) == (f"deleted subscriber {ann}", "disable")
