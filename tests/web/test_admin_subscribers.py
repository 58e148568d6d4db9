"""/admin/subscribers: find by address, see one's watches and alerts, unsubscribe or delete on
request (asked once more, audited by the admin's address, naming the subscriber by id only)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from models import AdminAction, Alert, Session, Subscriber
from tests.support.accounts import rows_about
from tests.support.admin import ADMIN, admin_post, signed_in, with_admins
from tests.support.alerts import add_game, run_check, watch


@pytest.fixture
def people(db, worker, smtp_server):
    """ann and bob each watch two games and were each sent an email; return address -> id."""
    with Session.begin() as session:
        add_game(session, 620, "Portal 2", price=499)
        add_game(session, 70, "<b>Half-Life</b>", price=199)
    watch("ann@example.com", 620, 70)
    watch("bob@example.com", 620, 70)
    assert run_check().sent == 4
    smtp_server.wait_for(2)
    with Session() as session:
        return {s.email: s.id for s in session.scalars(select(Subscriber).order_by(Subscriber.id))}


@pytest.fixture
def client(people, scout_app):
    client = with_admins(scout_app)
    signed_in(client, ADMIN)
    return client


def audit() -> list[tuple[str, str, int, dict | None]]:
    with Session() as session:
        rows = session.scalars(select(AdminAction).order_by(AdminAction.id))
        return [(a.by, a.action, a.subscriber_id, a.detail) for a in rows]


def test_subscribers_are_found_by_any_part_of_their_address(client):
    everyone = client.get("/admin/subscribers").text
    found = client.get("/admin/subscribers?q=ANN@").text
    wildcard = client.get("/admin/subscribers?q=%25").text  # a literal %, not "anything"

    assert "ann@example.com" in everyone and "bob@example.com" in everyone
    assert "ann@example.com" in found and "bob@example.com" not in found
    assert "No address holds" in wildcard


def test_a_subscriber_s_page_shows_their_watches_and_recent_alerts_escaped(client, people):
    page = client.get(f"/admin/subscribers/{people['ann@example.com']}").text

    assert "ann@example.com" in page and "bob@example.com" not in page
    watches = page[page.index('id="watches-heading"') : page.index('id="alerts-heading"')]
    assert watches.count("<tr>") == 2 + 1  # two watches and the heading row
    assert "&lt;b&gt;Half-Life&lt;/b&gt;" in page and "<b>Half-Life" not in page
    alerts = page[page.index('id="alerts-heading"') :]
    assert alerts.count('class="state state-sent">sent') == 2
    assert client.get("/admin/subscribers/999999").status_code == 404


def test_unsubscribing_asks_once_then_stops_emails_and_is_audited(client, people):
    ann = people["ann@example.com"]

    asked = admin_post(client, f"/admin/subscribers/{ann}", {"do": "unsubscribe"})
    assert asked.status_code == 200 and "Yes, unsubscribe" in asked.text and audit() == []
    with Session() as session:
        assert session.get(Subscriber, ann).unsubscribed_at is None
    done = admin_post(client, f"/admin/subscribers/{ann}", {"do": "unsubscribe", "confirm": "yes"})

    assert done.status_code == 302
    with Session() as session:
        assert session.get(Subscriber, ann).unsubscribed_at is not None
    assert audit() == [(ADMIN, "unsubscribe", ann, None)]
    page = html.unescape(client.get(f"/admin/subscribers/{ann}").text)
    assert "ann@example.com is unsubscribed" in page and "Unsubscribe…" not in page
    again = admin_post(client, f"/admin/subscribers/{ann}", {"do": "unsubscribe", "confirm": "yes"})
    assert again.status_code == 302 and len(audit()) == 1  # nothing changed, nothing logged


def test_unsubscribing_skips_the_pending_alerts_as_the_email_link_would(client, people):
    from models import Game, WatchEntry, utcnow

    ann = people["ann@example.com"]
    with Session.begin() as session:
        entry = session.scalars(select(WatchEntry).where(WatchEntry.subscriber_id == ann)).first()
        game = session.get(Game, entry.game_id)
        session.add(
            Alert(
                subscriber_id=ann,
                game_id=game.id,
                watch_entry_id=entry.id,
                generation=entry.generation,
                trigger_cents=99,
                currency="USD",
                status="pending",
                created_at=utcnow(),
            )
        )
    admin_post(client, f"/admin/subscribers/{ann}", {"do": "unsubscribe", "confirm": "yes"})

    with Session() as session:
        pending = session.scalars(select(Alert).where(Alert.trigger_cents == 99)).one()
    assert (pending.status, pending.last_error) == ("skipped", "unsubscribed")


def test_deleting_asks_once_then_leaves_nothing_about_the_person_and_audits_by_id(
    client, people, smtp_server
):
    ann, bob = people["ann@example.com"], people["bob@example.com"]
    bob_before = rows_about(bob, "bob@example.com")

    asked = admin_post(client, f"/admin/subscribers/{ann}", {"do": "delete"})
    assert asked.status_code == 200 and "Yes, delete everything" in asked.text
    assert rows_about(ann, "ann@example.com")
    done = admin_post(client, f"/admin/subscribers/{ann}", {"do": "delete", "confirm": "yes"})

    assert done.status_code == 302 and done.headers["Location"] == "/admin/subscribers"
    assert rows_about(ann, "ann@example.com") == {}
    assert rows_about(bob, "bob@example.com") == bob_before
    assert audit() == [(ADMIN, "delete", ann, {"watches": 2, "alerts": 2, "wishlist_imports": 0})]
    listing = client.get("/admin/subscribers").text
    assert "ann@example.com" not in listing and f"{ann} (deleted)" in listing
    assert run_check().sent == 0 and len(smtp_server.messages) == 2


def test_an_admin_cannot_delete_their_own_account_from_the_console(client):
    with Session() as session:
        me = session.scalars(select(Subscriber).where(Subscriber.email == ADMIN)).one().id

    refused = admin_post(client, f"/admin/subscribers/{me}", {"do": "delete", "confirm": "yes"})

    assert refused.status_code == 302 and audit() == []
    with Session() as session:
        assert session.get(Subscriber, me) is not None
    assert "delete it from Settings" in client.get(f"/admin/subscribers/{me}").text


@pytest.mark.parametrize("data", [{"do": "explode"}, {}, {"do": "delete ", "confirm": "yes"}])
def test_an_unknown_action_changes_nothing(client, people, data):
    ann = people["ann@example.com"]
    assert admin_post(client, f"/admin/subscribers/{ann}", data).status_code == 400
    assert audit() == [] and rows_about(ann, "ann@example.com")


def test_an_action_on_a_subscriber_who_is_gone_is_a_404(client):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/subscribers").text)
    gone = client.post(
        "/admin/subscribers/999999",
        data={"csrf_token": token.group(1), "do": "delete", "confirm": "yes"},
    )
    assert gone.status_code == 404 and audit() == []
