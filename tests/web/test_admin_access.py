"""Who gets into /admin: admins signed in within 12 hours. Everyone else meets the site's own
404 page, byte for byte an unknown page, for every admin URL and every method."""

from __future__ import annotations

import re

import pytest

from models import Session, utcnow
from scheduler.beat import entries as store
from tests.support.admin import ADMIN, admin_post, signed_in, with_admins

PROBE = {"task": "celery.backend_cleanup", "schedule": {"every": 3600}}
ADMIN_URLS = [
    ("get", "/admin"),
    ("get", "/admin/schedule"),
    ("get", "/admin/schedule?q=probe&page=2"),
    ("get", "/admin/schedule/probe"),
    ("post", "/admin/schedule/probe"),
    ("get", "/admin/schedule/no-such-entry"),
    ("get", "/admin/runs"),
    ("get", "/admin/runs/scrape/1"),
    ("get", "/admin/runs/alerts/1"),
    ("get", "/admin/subscribers"),
    ("get", "/admin/subscribers?q=example"),
    ("get", "/admin/subscribers/1"),
    ("post", "/admin/subscribers/1"),
    ("post", "/admin/schedule"),  # a method the page does not take: 405 for an admin
    ("put", "/admin/subscribers/1"),
    ("options", "/admin/schedule"),
    ("get", "/admin/"),
    ("get", "/admin/anything/else"),
]


@pytest.fixture
def probe(db):
    store.in_transaction(lambda s: store.add_entry(s, "probe", PROBE, "test", utcnow(), None))


def unknown_page(client, method: str) -> tuple[int, bytes, dict[str, str]]:
    response = getattr(client, method)("/no-such-page")
    return response.status_code, response.data, dict(response.headers)


def same_page(response, expected) -> None:
    status, body, headers = expected
    assert response.status_code == status == 404
    mask = re.compile(rb'name="csrf_token" value="[^"]+"')
    assert mask.sub(b"", response.data) == mask.sub(b"", body)
    got = {k: v for k, v in response.headers.items() if k != "Set-Cookie"}
    assert got == {k: v for k, v in headers.items() if k != "Set-Cookie"}


@pytest.mark.parametrize(("method", "path"), ADMIN_URLS)
def test_a_signed_out_visitor_gets_the_unknown_page_for_every_admin_url(
    probe, scout_app, method, path
):
    client = with_admins(scout_app)
    client.get("/")  # a visitor with a session cookie (a form's CSRF token), not signed in
    expected = unknown_page(client, "get")

    same_page(getattr(client, method)(path), expected)


@pytest.mark.parametrize(("method", "path"), ADMIN_URLS)
def test_a_signed_in_subscriber_who_is_no_admin_gets_the_unknown_page(
    probe, scout_app, method, path
):
    client = with_admins(scout_app)
    signed_in(client, "ann@example.com")
    expected = unknown_page(client, "get")

    same_page(getattr(client, method)(path), expected)


def test_a_non_admin_post_with_a_valid_token_changes_nothing(probe, scout_app):
    client = with_admins(scout_app)
    signed_in(client, "ann@example.com")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/settings").text)

    response = client.post(
        "/admin/schedule/probe", data={"csrf_token": token.group(1), "do": "disable"}
    )

    assert response.status_code == 404
    with Session() as session:
        assert store.get_entry(session, "probe").enabled is True


def test_an_address_that_merely_looks_like_an_admin_s_is_no_admin(probe, scout_app):
    client = with_admins(scout_app)
    signed_in(client, "root@example.com.evil.org")
    assert client.get("/admin").status_code == 404
    signed_in(client, "root+x@example.com")
    assert client.get("/admin").status_code == 404


def test_admin_emails_match_whatever_case_they_were_written_in(probe, scout_app):
    client = with_admins(scout_app, "Root@EXAMPLE.com")
    signed_in(client, ADMIN)
    assert client.get("/admin/schedule").status_code == 200


@pytest.mark.parametrize("path", ["/admin", "/admin/schedule/probe", "/admin/runs?scrape=2"])
def test_an_admin_signed_in_12_hours_ago_is_sent_to_sign_in_again_and_back(probe, scout_app, path):
    client = with_admins(scout_app)
    signed_in(client, ADMIN, hours_ago=12)

    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/?next=")
    from urllib.parse import parse_qs, urlsplit

    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [path]
    home = client.get(response.headers["Location"])
    assert "sign in again" in home.text and 'id="sign-in"' in home.text  # signed out: the form
    assert f'value="{path}"' in home.text.replace("&amp;", "&")  # the form's next


def test_a_stale_admin_post_changes_nothing_and_asks_for_a_sign_in(probe, scout_app):
    client = with_admins(scout_app)
    signed_in(client, ADMIN, hours_ago=11.9)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin").text).group(1)
    signed_in(client, ADMIN, hours_ago=12.1)

    response = client.post("/admin/schedule/probe", data={"csrf_token": token, "do": "disable"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/?next=/admin/schedule/probe#sign-in"
    with Session() as session:
        assert store.get_entry(session, "probe").enabled is True


def test_an_admin_just_under_12_hours_gets_in(probe, scout_app):
    client = with_admins(scout_app)
    signed_in(client, ADMIN, hours_ago=11.9)
    assert client.get("/admin/schedule").status_code == 200


def test_every_admin_form_needs_its_csrf_token(probe, scout_app):
    client = with_admins(scout_app)
    signed_in(client, ADMIN)

    refused = client.post("/admin/schedule/probe", data={"do": "disable"})
    bad = client.post("/admin/schedule/probe", data={"do": "disable", "csrf_token": "x"})

    assert refused.status_code == bad.status_code == 400
    assert "This form has expired" in refused.text
    with Session() as session:
        assert store.get_entry(session, "probe").enabled is True
    done = admin_post(client, "/admin/schedule/probe", {"do": "disable"})
    assert done.status_code == 302


def test_an_admin_sees_the_admin_link_and_others_do_not(probe, scout_app):
    client = with_admins(scout_app)
    signed_in(client, "ann@example.com")
    assert 'href="/admin"' not in client.get("/watchlist").text
    signed_in(client, ADMIN)
    assert 'href="/admin"' in client.get("/watchlist").text


def test_a_stale_admin_signs_in_again_by_email_and_lands_on_the_page_asked_for(
    probe, scout_app, worker, smtp_server
):
    from tests.support.web import csrf, post, sign_in_link

    client = with_admins(scout_app)
    signed_in(client, ADMIN, hours_ago=13)
    sent_to_sign_in = client.get("/admin/schedule/probe")
    home = client.get(sent_to_sign_in.headers["Location"])
    next_path = re.search(r'name="next" type="hidden" value="([^"]+)"', home.text).group(1)

    asked = post(client, "/sign-in", {"email": ADMIN, "next": next_path})
    assert asked.status_code == 200
    link = sign_in_link(smtp_server.wait_for(1)[0])
    landed = client.post(link, data={"csrf_token": csrf(client, link)})

    assert landed.status_code == 302 and landed.headers["Location"] == "/admin/schedule/probe"
    assert client.get("/admin/schedule/probe").status_code == 200


def test_every_admin_page_carries_the_security_headers_and_no_inline_code(probe, scout_app):
    from models import AlertRun, ScrapeRun

    with Session.begin() as session:
        scrape = ScrapeRun(task_id="s", started_at=utcnow(), status="ok")
        alerts = AlertRun(task_id="a", started_at=utcnow(), status="done")
        session.add_all([scrape, alerts])
        session.flush()
        ids = scrape.id, alerts.id
    client = with_admins(scout_app)
    me = signed_in(client, ADMIN)
    pages = [
        "/admin",
        "/admin/schedule",
        "/admin/schedule/probe",
        "/admin/runs",
        f"/admin/runs/scrape/{ids[0]}",
        f"/admin/runs/alerts/{ids[1]}",
        "/admin/subscribers",
        f"/admin/subscribers/{me}",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        headers = response.headers
        assert headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
        text = response.text
        assert "<script" not in text and "<style" not in text and " style=" not in text, path
    confirm = admin_post(client, f"/admin/subscribers/{me}", {"do": "unsubscribe"})
    assert confirm.status_code == 200 and " style=" not in confirm.text
