"""Email-only sign-in: one form signs up and in, a link works once for an hour, double opt-in."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update

from models import Session, Subscriber, utcnow
from scheduler.accounts import signin
from tests.support.web import csrf, post, sign_in_as, sign_in_link


@pytest.fixture
def client(scout_app):
    return scout_app.app.test_client()


def ask_link(client, smtp_server, email: str = "ann@example.com", count: int = 1) -> str:
    """Ask for a sign-in link for email through the form; return the path of the count-th one."""
    response = post(client, "/sign-in", {"email": email})
    assert response.status_code == 200, response.text
    assert "Check your inbox" in response.text
    return sign_in_link(smtp_server.wait_for(count)[count - 1])


def subscriber(email: str = "ann@example.com") -> Subscriber | None:
    with Session() as session:
        return session.scalars(select(Subscriber).where(Subscriber.email == email)).first()


def test_the_answer_is_the_same_page_for_a_known_and_an_unknown_address(db, worker, client):
    sign_in_as(client.application.test_client(), "known@example.com")

    known = post(client, "/sign-in", {"email": "known@example.com"})
    unknown = post(client, "/sign-in", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("known@", "X@") == unknown.text.replace("nobody@", "X@")


def test_a_link_signs_in_once_confirms_the_address_and_the_get_changes_nothing(
    db, worker, smtp_server, client
):
    path = ask_link(client, smtp_server)
    assert subscriber().confirmed_at is None

    page = client.get(path)

    assert page.status_code == 200 and "a***@example.com" in page.text
    assert "<button" in page.text and client.get("/watchlist").status_code == 302
    assert subscriber().confirmed_at is None
    response = client.post(path, data={"csrf_token": csrf(client, path)})
    assert response.status_code == 302 and response.headers["Location"] == "/watchlist"
    assert client.get("/watchlist").status_code == 200
    assert subscriber().confirmed_at is not None
    again = client.application.test_client()
    used = again.post(path, data={"csrf_token": csrf(again)})
    assert used.status_code == 400 and "already used" in used.text
    assert again.get("/watchlist").status_code == 302


def test_a_newer_link_voids_the_older_one(db, worker, smtp_server, client):
    first = ask_link(client, smtp_server)
    second = ask_link(client, smtp_server, count=2)

    assert first != second
    old = client.post(first, data={"csrf_token": csrf(client)})
    assert old.status_code == 400 and "newer one replaced it" in old.text
    assert client.post(second, data={"csrf_token": csrf(client)}).status_code == 302


def test_a_link_past_its_hour_does_not_sign_in(db, worker, smtp_server, client):
    path = ask_link(client, smtp_server)
    with Session.begin() as session:
        session.execute(update(Subscriber).values(sign_in_expires_at=utcnow() - timedelta(1)))

    assert "has expired" in client.get(path).text
    response = client.post(path, data={"csrf_token": csrf(client)})

    assert response.status_code == 400 and "has expired" in response.text
    assert client.get("/watchlist").status_code == 302


@pytest.mark.parametrize("salt", ["steamscout.unsubscribe", "itsdangerous"])
def test_a_token_signed_for_another_purpose_or_with_another_key_does_not_sign_in(
    db, worker, smtp_server, client, scout_app, salt
):
    path = ask_link(client, smtp_server)
    nonce = "the-nonce"
    with Session.begin() as session:
        digest = signin._digest(nonce)
        session.execute(update(Subscriber).values(sign_in_hash=digest))
    other = URLSafeTimedSerializer(scout_app.config.secret_key, salt=salt).dumps(nonce)
    forged = URLSafeTimedSerializer("another key " * 3, salt=signin.SALT).dumps(nonce)

    for token in (other, forged, path.rsplit("/", 1)[1] + "x", "a" * 5000):
        response = client.post(f"/sign-in/{token}", data={"csrf_token": csrf(client)})
        assert response.status_code in (400, 404)
        assert client.get("/watchlist").status_code == 302
    signed = URLSafeTimedSerializer(scout_app.config.secret_key, salt=signin.SALT).dumps(nonce)
    assert client.post(f"/sign-in/{signed}", data={"csrf_token": csrf(client)}).status_code == 302


def test_only_a_hash_of_the_links_nonce_is_stored(db, worker, smtp_server, client, scout_app):
    path = ask_link(client, smtp_server)
    token = path.rsplit("/", 1)[1]
    nonce = signin.signer(scout_app.config.secret_key).loads(token)

    row = subscriber()
    stored = " ".join(str(value) for value in vars(row).values())
    assert nonce not in stored and token not in stored
    assert row.sign_in_hash == signin._digest(nonce)


def test_the_email_holds_nothing_the_visitor_typed_but_the_address(db, worker, smtp_server, client):
    hostile = "/watchlist?<script>alert(1)</script>visit-evil.example"
    post(client, "/sign-in", {"email": "ann@example.com", "next": hostile})

    message = smtp_server.wait_for(1)[0]
    raw = message.data.decode()
    assert "evil" not in raw and "script" not in raw
    assert message.rcpt_tos == ("ann@example.com",)
    assert message.message["Subject"] == "Sign in to SteamScout"
    assert "List-Unsubscribe" not in message.message


def test_after_signing_in_the_visitor_returns_to_the_local_page_they_wanted(
    db, worker, smtp_server, client
):
    first = client.get("/watchlist?item=App_440")
    assert first.status_code == 302
    assert first.headers["Location"] == "/?next=/watchlist?item%3DApp_440#sign-in"
    home = client.get(first.headers["Location"])
    assert 'value="/watchlist?item=App_440"' in home.text
    response = post(
        client, "/sign-in", {"email": "ann@example.com", "next": "/watchlist?item=App_440"}
    )
    assert response.status_code == 200
    path = sign_in_link(smtp_server.wait_for(1)[0])

    signed_in = client.post(path, data={"csrf_token": csrf(client)})

    assert signed_in.headers["Location"] == "/watchlist?item=App_440"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\x00x",
    ],
)
def test_a_next_that_leaves_the_site_is_ignored(db, worker, smtp_server, client, target):
    post(client, "/sign-in", {"email": "ann@example.com", "next": target})
    path = sign_in_link(smtp_server.wait_for(1)[0])

    response = client.post(path, data={"csrf_token": csrf(client)})

    assert response.headers["Location"] == "/watchlist"


def test_the_session_cookie_is_httponly_samesite_lax_and_renewed_at_sign_in(
    db, worker, smtp_server, client
):
    path = ask_link(client, smtp_server)
    before = client.get_cookie("scout_session").value

    response = client.post(path, data={"csrf_token": csrf(client)})

    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    assert client.get_cookie("scout_session").value != before


def test_the_session_cookie_is_secure_when_the_public_address_is_https(db, scout_app):
    scout_app.update(public_url="https://scout.example")
    client = scout_app.app.test_client()

    response = client.get("/", base_url="https://scout.example")

    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_sign_out_ends_the_session(db, client):
    sign_in_as(client, "ann@example.com")
    assert client.get("/watchlist").status_code == 200

    response = post(client, "/sign-out", token_from="/watchlist")

    assert response.status_code == 302
    assert client.get("/watchlist").status_code == 302


def test_a_cookie_of_a_deleted_account_signs_no_one_in_even_when_its_id_comes_back(db, client):
    sid = sign_in_as(client, "ann@example.com")
    with Session.begin() as session:
        session.delete(session.get_one(Subscriber, sid))
    with Session.begin() as session:
        session.add(
            Subscriber(
                id=sid,
                email="bob@example.com",
                unsubscribe_token="t" * 43,
                created_at=utcnow(),
                confirmed_at=utcnow(),
            )
        )

    assert client.get("/watchlist").status_code == 302


def test_an_unknown_address_becomes_an_unconfirmed_subscriber_who_gets_no_alert(
    db, worker, smtp_server, client
):
    from tests.support.alerts import add_game, run_check

    post(client, "/sign-in", {"email": "new@example.com"})
    smtp_server.wait_for(1)
    with Session.begin() as session:
        game = add_game(session, 620, "Portal 2", price=499)
        new = session.scalars(select(Subscriber).where(Subscriber.email == "new@example.com")).one()
        from scheduler.alerts.personal import watch_game

        watch_game(session, new.id, game, ("below", 999, None))

    assert run_check().sent == 0
    assert len(smtp_server.messages) == 1


def test_sign_ups_never_confirmed_are_swept_after_seven_days_and_confirmed_ones_stay(db):
    with Session.begin() as session:
        for email, days, confirmed in (
            ("old@example.com", 8, False),
            ("new@example.com", 6, False),
            ("kept@example.com", 30, True),
        ):
            row = signin.add_subscriber(
                session, email, now=utcnow() - timedelta(days), confirmed=confirmed
            )
            assert row.email == email

    with Session.begin() as session:
        assert signin.sweep_unconfirmed(session, now=utcnow()) == 1
    with Session() as session:
        left = set(session.scalars(select(Subscriber.email)))
    assert left == {"new@example.com", "kept@example.com"}


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address."),
        ("not-an-address", "not a valid email address"),
        ("a" * 5000 + "@example.com", "at most 254 characters"),
        ("<script>@example.com", "not a valid email address"),
        ("ann@example.com\r\nBcc: x@evil.example", "not a valid email address"),
    ],
)
def test_a_bad_address_gets_one_line_on_the_form_and_stores_nothing(
    db, worker, smtp_server, client, email, message
):
    response = post(client, "/sign-in", {"email": email})

    assert response.status_code == 400
    errors = re.findall(r'<p class="error"[^>]*>([^<]*)</p>', response.text)
    assert len(errors) == 1 and message in errors[0].replace("&#39;", "'")
    assert "<script>" not in response.text
    with Session() as session:
        assert session.scalars(select(Subscriber)).all() == []
    assert smtp_server.messages == []


def test_a_post_without_a_csrf_token_is_refused_and_stores_nothing(db, client):
    client.get("/")

    response = client.post("/sign-in", data={"email": "ann@example.com"})

    assert response.status_code == 400 and "form has expired" in response.text
    assert subscriber() is None


def test_the_email_task_run_twice_sends_one_email_and_an_older_request_none(
    db, smtp_server, scout_app
):
    from scheduler.tasks.accounts import send_sign_in_link

    with Session.begin() as session:
        first = signin.request_sign_in(session, "ann@example.com", now=utcnow(), smtputf8=False)
    with Session.begin() as session:
        newest = signin.request_sign_in(session, "ann@example.com", now=utcnow(), smtputf8=False)

    assert send_sign_in_link(first.subscriber_id, first.request_id) == {
        "sent": False,
        "why": "superseded or already sent",
    }
    assert send_sign_in_link(newest.subscriber_id, newest.request_id) == {"sent": True}
    assert send_sign_in_link(newest.subscriber_id, newest.request_id)["sent"] is False
    assert len(smtp_server.messages) == 1


def test_a_sign_in_email_waits_out_an_smtp_outage_and_goes_once(
    db, worker, smtp_server, client, caplog
):
    smtp_server.go_down()
    with caplog.at_level("WARNING", logger="scheduler.tasks.accounts"):
        caplog.clear()
        post(client, "/sign-in", {"email": "ann@example.com"})
        deadline = time.monotonic() + 30
        while "retry 1 of" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "not sent (cannot connect to 127.0.0.1" in caplog.text, caplog.text
    assert "ann@example.com" not in caplog.text
    smtp_server.come_back()

    path = sign_in_link(smtp_server.wait_for(1, timeout=30)[0])

    assert client.post(path, data={"csrf_token": csrf(client)}).status_code == 302
    time.sleep(0.5)
    assert len(smtp_server.messages) == 1
