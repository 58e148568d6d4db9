"""Who is signed in: the account a session cookie names, in g.account for every page.

Flask's signed session cookie holds the subscriber's id, their session key and when they
signed in; a cookie whose key no longer matches (the account was deleted, its id reused)
signs no one in. Every view that shows or changes a person's data takes them from g.account.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import g, redirect, request, session, url_for

from models import ReadSession
from scheduler.accounts.signin import Account, signed_in

F = TypeVar("F", bound=Callable[..., Any])
MAX_NEXT = 500


def load_account() -> None:
    """Set g.account to the signed-in Account, or None (before every request)."""
    g.account = None
    if request.endpoint in (None, "static", "health.healthz") or "sid" not in session:
        return
    with ReadSession() as db:
        account = signed_in(db, session.get("sid"), session.get("key"))
    if account is None:
        session.clear()
    g.account = account


def sign_in(account: Account) -> None:
    """Start a new session for account (a fresh cookie: nothing of the old one is kept)."""
    next_path = session.get("next")
    session.clear()
    session.permanent = True
    session.update(sid=account.id, key=account.session_key, at=int(time.time()))
    if next_path:
        session["next"] = next_path


def signed_in_for() -> float | None:
    """Return how many seconds ago the person signed in, or None when no one is."""
    at = session.get("at")
    return time.time() - at if g.account is not None and isinstance(at, int) else None


def safe_next(value: str | None) -> str | None:
    """Return value when it is a path on this site (never another host), else None."""
    if not value or len(value) > MAX_NEXT or not value.startswith("/"):
        return None
    if value.startswith(("//", "/\\")) or any(ord(ch) < 32 or ch == "\\" for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def sign_in_required(view: F) -> F:
    """Send a signed-out visitor to the sign-in form, back here once signed in."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.account is None:
            path = request.full_path if request.query_string else request.path
            return redirect(url_for("sign_in.home", next=safe_next(path)) + "#sign-in")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
