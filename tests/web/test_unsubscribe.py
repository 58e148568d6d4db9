"""The web process: unsubscribe by link (GET asks, POST does), one-click, health check."""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Alert, Game, PriceChange, Session, Subscriber, utcnow
from scheduler.alerts.watchlist import subscribe
from scheduler.tasks.alerts import send_digests
from tests.support.alerts import add_game, add_pending_alert, run_check, watch


@pytest.fixture
def client(scout_app) -> FlaskClient:
    """A test client of the web app, on the database of the test."""
    return scout_app.app.test_client()


def new_subscriber(email: str = "ann@example.com") -> tuple[int, str]:
    """Subscribe email; return its id and unsubscribe token."""
    with Session.begin() as session:
        subscriber = subscribe(session, email)
        return subscriber.id, subscriber.unsubscribe_token


def unsubscribed_at(subscriber_id: int) -> datetime | None:
    """Return when the subscriber unsubscribed, or None."""
    with Session() as session:
        return session.get_one(Subscriber, subscriber_id).unsubscribed_at


def test_get_shows_a_confirmation_button_and_changes_nothing(db, client):
    subscriber_id, token = new_subscriber()

    response = client.get(f"/unsubscribe/{token}")

    assert response.status_code == 200
    assert '<form method="post" action="/unsubscribe/' + token + '">' in response.text
    assert "<button" in response.text and "a***@example.com" in response.text
    assert "ann@example.com" not in response.text
    assert unsubscribed_at(subscriber_id) is None


def test_one_click_post_unsubscribes_and_skips_pending_alerts(db, client):
    with Session.begin() as session:
        alert = add_pending_alert(
            session, "ann@example.com", add_game(session, 620, "Portal 2", price=499)
        )
        token = session.get_one(Subscriber, alert.subscriber_id).unsubscribe_token

    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert "unsubscribed" in response.text
    assert unsubscribed_at(alert.subscriber_id) is not None
    with Session() as session:
        assert session.get_one(Alert, alert.id).status == "skipped"
    assert "You are unsubscribed" in client.get(f"/unsubscribe/{token}").text
    assert client.post(f"/unsubscribe/{token}").status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("token", ["A" * 43, "short", "bad$chars-but-long-enough-0123"])
def test_an_unknown_token_is_a_404_page_that_does_not_echo_it(db, client, method, token):
    new_subscriber()

    response = getattr(client, method)(f"/unsubscribe/{token}")

    assert (response.status_code, response.mimetype) == (404, "text/html")
    assert "There is no such page." in response.text
    assert token not in response.text and "a***@" not in response.text


def test_nothing_is_sent_after_unsubscribing_from_the_emails_link(db, worker, smtp_server, client):
    with Session.begin() as session:
        add_game(session, 620, "Portal 2", price=499)
    watch("ann@example.com", 620)
    assert run_check().sent == 1
    header = smtp_server.wait_for(1)[0].message["List-Unsubscribe"]
    path = re.search(r"<http://scout\.test(/unsubscribe/[^>]+)>", header).group(1)

    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with Session.begin() as session:
        game = session.scalars(select(Game).where(Game.steam_id == 620)).one()
        game.final_cents, game.price_changed_at = 299, utcnow()
        session.add(
            PriceChange(
                game_id=game.id,
                observed_at=utcnow(),
                final_cents=299,
                original_cents=1999,
                currency="USD",
                discount_pct=85,
            )
        )
    second = run_check()

    assert (second.alerts_new, second.sent) == (0, 0)
    time.sleep(0.3)
    assert len(smtp_server.messages) == 1


def test_a_send_claimed_after_unsubscribing_skips_the_alert(db, smtp_server):
    with Session.begin() as session:
        alert = add_pending_alert(
            session, "ann@example.com", add_game(session, 620, "Portal 2", price=499)
        )
        session.get_one(Subscriber, alert.subscriber_id).unsubscribed_at = alert.created_at

    assert send_digests(0, [alert.subscriber_id])["emails"] == 0

    assert smtp_server.messages == []
    with Session() as session:
        assert session.get_one(Alert, alert.id).status == "skipped"
