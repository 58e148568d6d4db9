"""Who gets into the admin console, seen from a real browser: every admin URL (from the app's own
URL map) and what it answers a visitor who is no admin, and a sign-in made to look older.

The browser cannot send a POST without a form nor edit its signed session cookie, so a script of
the page sends the requests (fetch, with the page's cookies), and the cookie is re-signed with
the stack's SECRET_KEY as Flask signs it.
"""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from models import ScheduleEntry, Subscriber
from tests.support.admin_story import database
from tests.support.browser import Browser
from tests.support.stack import Stack

SESSION_COOKIE = "scout_session"
_CSRF = re.compile(r'(name="csrf_token" value=")[^"]+"')


def admin_urls(app: Flask, values: dict[str, object]) -> list[tuple[str, str]]:
    """Every method and URL of the admin console, from the app's own URL map (so a new page is
    covered as soon as it exists), with values for the parts of each path; then two URLs
    under /admin that no page has."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule == "/admin" or rule.rule.startswith("/admin/"):
            missing = set(rule.arguments) - set(values)
            assert not missing, f"{rule.rule}: give the test a value for {missing}"
            built = rule.build({k: values[k] for k in rule.arguments})
            assert built is not None, rule.rule
            found += [(m, built[1]) for m in sorted(rule.methods or ()) if m != "HEAD"]
    assert len({path for _, path in found}) >= 5, found
    return found + [("GET", "/admin/"), ("GET", "/admin/no/such/page")]


def see_the_missing_page_everywhere(b: Browser, urls: list[tuple[str, str]], token: str) -> None:
    """Every admin URL answers what a page that does not exist answers, to a browser and to a
    script of the page, whatever the method (a POST with the visitor's valid CSRF token)."""
    b.open("/no-such-page")
    assert b.heading() == "Not found"
    page = without_tokens(b.driver.page_source)
    status, body = fetch(b, "GET", "/no-such-page", {})
    assert status == 404
    for method, path in urls:
        form = {"csrf_token": token, "do": "disable" if "schedule" in path else "unsubscribe"}
        got = fetch(b, method, path, form | {"confirm": "yes"})
        assert got[0] == 404 and without_tokens(got[1]) == without_tokens(body), (method, path)
        if method == "GET":
            b.open(path)
            assert without_tokens(b.driver.page_source) == page, path
    b.snap("admin-not-found")


def without_tokens(page: str) -> str:
    """The page with its CSRF tokens blanked (each page gets its own)."""
    return _CSRF.sub(r'\1"', page)


def fetch(b: Browser, method: str, path: str, form: dict[str, str]) -> tuple[int, str]:
    """Send method path from the page shown (its cookies), form as the body of a POST; return
    the status and the body, without following a redirect."""
    answer: list[Any] = b.driver.execute_async_script(
        "const [method, path, form, done] = arguments;"
        "const init = {method, redirect: 'manual', credentials: 'same-origin'};"
        "if (method === 'POST') init.body = new URLSearchParams(form);"
        "fetch(path, init).then(async r => done([r.status, await r.text()]),"
        " e => done([0, String(e)]));",
        method,
        path,
        form,
    )
    return int(answer[0]), str(answer[1])


def subscriber_id(stack: Stack, email: str) -> int:
    """Return the id of the subscriber with this address."""
    with database(stack) as session:
        found = session.scalar(select(Subscriber.id).where(Subscriber.email == email))
    assert found is not None, email
    return found


def still_as_it_was(stack: Stack, entry: str, email: str) -> None:
    """Nothing a refused visitor sent changed the entry or the subscriber."""
    with database(stack) as session:
        row = session.scalars(select(ScheduleEntry).where(ScheduleEntry.name == entry)).one()
        person = session.scalars(select(Subscriber).where(Subscriber.email == email)).one()
        assert row.enabled and person.unsubscribed_at is None


def sign_in_made(b: Browser, stack: Stack, hours_ago: float) -> None:
    """Make the browser's session say it signed in hours_ago: its cookie, re-signed with the
    stack's SECRET_KEY as Flask signs it (the browser cannot edit a signed cookie itself)."""
    signer = Flask(__name__)
    signer.secret_key = stack.env["SECRET_KEY"]
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    assert serializer is not None
    cookie = b.driver.get_cookie(SESSION_COOKIE)
    session = serializer.loads(cookie["value"])
    session["at"] = int(time.time() - hours_ago * 3600)
    b.driver.add_cookie({**cookie, "value": serializer.dumps(session)})
