"""Secure by default: headers on every response, error pages without tracebacks or tokens, a
database or Redis that is down answers 503 with one log line, and limits against abuse."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from models import Session, Subscriber
from scheduler.accounts import signin
from scheduler.web.limits import limit_key
from tests.support.alerts import add_game
from tests.support.ports import free_port
from tests.support.web import csrf, post, sign_in_as

TOKEN = "Zq" + "x" * 41


@pytest.fixture
def client(scout_app):
    return scout_app.app.test_client()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/"),
        ("get", "/watchlist"),
        ("get", "/no-such-page"),
        ("get", f"/unsubscribe/{TOKEN}"),
        ("post", "/sign-in"),
        ("get", "/static/style.css"),
        ("get", "/healthz"),
        ("get", f"/sign-in/{TOKEN}"),
        ("get", "/search?q=portal"),
        ("get", "/games/App_620"),
    ],
)
def test_every_response_carries_the_security_headers(sqlite_db, client, method, path):
    response = getattr(client, method)(path)

    headers = response.headers
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in headers  # http here; https: test_sign_in
    if path.startswith("/static/"):
        assert "no-store" not in headers.get("Cache-Control", "")
    else:
        assert headers["Cache-Control"] == "no-store"


def test_no_page_has_inline_script_or_style(sqlite_db, client):
    sign_in_as(client, "ann@example.com")
    with Session.begin() as session:
        add_game(session, 620, "Portal 2", price=499)
    pages = ("/", "/watchlist", "/settings", "/wishlist", "/search?q=portal", "/games/App_620")
    for path in (*pages, "/no-such-page", f"/sign-in/{TOKEN}"):
        text = client.get(path).text
        assert "<script" not in text and "<style" not in text and " style=" not in text, path


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/unsubscribe/{TOKEN}"),
        ("post", f"/unsubscribe/{TOKEN}"),
        ("get", "/sign-in/SIGNED"),
        ("get", "/watchlist"),
    ],
)
def test_a_database_that_is_down_gets_a_503_page_and_one_log_line_without_the_token(
    scout_app, caplog, method, path
):
    app = scout_app.update(database_url=f"postgresql+psycopg://u:pw@127.0.0.1:{free_port()}/x")
    client = app.test_client()
    if path == "/watchlist":
        with client.session_transaction() as cookie:
            cookie.update(sid=1, key="k", at=0)  # a signed-in visitor: their account is read
    signed = signin.signer(scout_app.config.secret_key).dumps(TOKEN)
    path = path.replace("SIGNED", signed)

    with caplog.at_level(logging.INFO):
        response = getattr(client, method)(path)

    assert response.status_code == 503
    assert "Try again" in response.text and "Traceback" not in response.text
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("scheduler.web")]
    assert len(lines) == 1 and "database unavailable" in lines[0], lines
    logged = caplog.text
    assert TOKEN not in logged and signed not in logged
    assert "pw@" not in logged and "Traceback" not in logged


def test_redis_that_is_down_gets_a_503_page_and_no_email_is_asked(sqlite_db, scout_app, caplog):
    app = scout_app.update(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = app.test_client()

    with caplog.at_level(logging.INFO):
        response = client.post(
            "/sign-in", data={"email": "ann@example.com", "csrf_token": csrf(client)}
        )

    assert response.status_code == 503 and "Traceback" not in response.text
    assert "redis unavailable" in caplog.text and "Traceback" not in caplog.text
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_a_bug_is_a_500_page_and_the_log_names_the_path_without_its_token(
    sqlite_db, scout_app, caplog
):
    app = scout_app.app

    @app.get("/explode/<token>")
    def explode(token: str) -> str:
        raise RuntimeError("boom")

    with caplog.at_level(logging.INFO):
        response = app.test_client().get(f"/explode/{TOKEN}")

    assert response.status_code == 500 and "boom" not in response.text
    assert "Something went wrong" in response.text
    assert TOKEN not in caplog.text and "/explode/..." in caplog.text


def test_a_request_body_over_64_kib_is_refused_with_a_page(sqlite_db, client):
    response = client.post("/sign-in", data={"email": "a" * 70_000})

    assert response.status_code == 413 and "too much" in response.text


def test_over_the_recipient_limit_the_page_says_so_and_no_email_goes_out(
    sqlite_db, worker, smtp_server, scout_app
):
    client = scout_app.update(sign_in_email_limit="2/hour").test_client()
    scout_app.app.extensions["scout-web-limits"].limiter.storage.reset()
    for address in ("ann.lee@example.com", "annlee+x@example.com"):
        assert post(client, "/sign-in", {"email": address}).status_code == 200
    smtp_server.wait_for(2)

    response = post(client, "/sign-in", {"email": "AnnLee+other@Example.com"})

    assert response.status_code == 429
    assert "Too many sign-in emails went to this address" in response.text
    assert post(client, "/sign-in", {"email": "bob@example.com"}).status_code == 200
    smtp_server.wait_for(3)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "ann.lee@example.com",
        "annlee+x@example.com",
        "bob@example.com",
    ]


def test_over_the_client_limit_the_page_says_so_and_nothing_is_stored(sqlite_db, scout_app):
    client = scout_app.update(web_form_limit="3/hour").test_client()
    for n in range(3):
        assert post(client, "/sign-in", {"email": f"p{n}@example.com"}).status_code == 200

    response = post(client, "/sign-in", {"email": "p9@example.com"})

    assert response.status_code == 429 and "from your network" in response.text
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 3


def test_the_client_is_the_address_behind_the_trusted_proxies_and_never_a_forged_one(
    sqlite_db, scout_app
):
    client = scout_app.update(web_form_limit="1/hour", web_trusted_proxies=1).test_client()
    first = {"X-Forwarded-For": "203.0.113.7"}
    assert post(client, "/sign-in", {"email": "a@example.com"}, headers=first).status_code == 200
    assert post(client, "/sign-in", {"email": "b@example.com"}, headers=first).status_code == 429
    other = {"X-Forwarded-For": "203.0.113.8"}
    assert post(client, "/sign-in", {"email": "c@example.com"}, headers=other).status_code == 200

    direct = scout_app.update(web_form_limit="1/hour", web_trusted_proxies=0).test_client()
    scout_app.app.extensions["scout-web-limits"].limiter.storage.reset()
    assert post(direct, "/sign-in", {"email": "d@example.com"}, headers=first).status_code == 200
    forged = {"X-Forwarded-For": "198.51.100.1"}
    assert post(direct, "/sign-in", {"email": "e@example.com"}, headers=forged).status_code == 429


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("Ann.Lee+news@Example.com", "annlee@example.com"),
        ("a.b.c@x.org", "abc@x.org"),
        ("plain@x.org", "plain@x.org"),
    ],
)
def test_recipients_are_counted_without_case_dots_or_tags(address, key):
    assert limit_key(address) == key
