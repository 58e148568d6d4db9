"""Helpers for the web's tests: CSRF tokens from pages, signed-in clients, sign-in links."""

from __future__ import annotations

import re
import time
from typing import Any

from flask.testing import FlaskClient

from models import Session
from scheduler.alerts.watchlist import subscribe
from tests.support.smtp import Received

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
_LINK = re.compile(r"http://scout\.test(/sign-in/[A-Za-z0-9_.-]+)")


def csrf(client: FlaskClient, path: str = "/") -> str:
    """Return the CSRF token of the form on the page at path (a session cookie comes with it)."""
    response = client.get(path)
    match = _CSRF.search(response.text)
    assert match, f"no CSRF token on {path}: {response.status_code}"
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """POST data to path with a valid CSRF token taken from the home page."""
    token = csrf(client, kw.pop("token_from", "/"))
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kw)


def sign_in_as(client: FlaskClient, email: str) -> int:
    """Make email a confirmed subscriber and sign client in as it (cookie only); return its id."""
    with Session.begin() as session:
        subscriber = subscribe(session, email)
        sid, key = subscriber.id, subscriber.session_key
    with client.session_transaction() as cookie:
        cookie.update(sid=sid, key=key, at=int(time.time()))
    return sid


def sign_in_link(message: Received) -> str:
    """Return the path of the sign-in link in an email (text part)."""
    text = message.message.get_body(("plain",)).get_content()
    match = _LINK.search(text)
    assert match, text
    return match.group(1)
