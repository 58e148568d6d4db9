"""One-click unsubscribe (RFC 8058): GET asks with a button, POST unsubscribes.

The POST needs neither a session nor a CSRF token: a mailbox provider posts
List-Unsubscribe=One-Click to the link of the List-Unsubscribe header, and the token in the
path is the secret. So it is exempt from CSRF and from the per-client form limit (a provider
posts for many people from few addresses).
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from models import ReadSession, Session, Subscriber
from scheduler.alerts.watchlist import unsubscribe
from scheduler.web.csrf import csrf

bp = Blueprint("unsubscribe", __name__)
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def mask_email(address: str) -> str:
    """Return the address with most of its local part hidden, e.g. 'j***@example.com'."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


@bp.get("/unsubscribe/<token>")
def show(token: str) -> str:
    """A confirmation page with a button; changes nothing (mail scanners follow links)."""
    if not TOKEN.fullmatch(token):
        abort(404)
    with ReadSession() as session:
        subscriber = session.scalars(
            select(Subscriber).where(Subscriber.unsubscribe_token == token)
        ).first()
        if subscriber is None:
            abort(404)
        return render_template(
            "unsubscribe.html",
            token=token,
            email=mask_email(subscriber.email),
            done=subscriber.unsubscribed_at is not None,
        )


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def confirm(token: str) -> str:
    """POST (a person's button or a mailbox's one-click): unsubscribe and confirm."""
    if not TOKEN.fullmatch(token):
        abort(404)
    with Session.begin() as session:
        subscriber = unsubscribe(session, token)
        if subscriber is None:
            abort(404)
        email = mask_email(subscriber.email)
    return render_template("unsubscribe.html", token=token, email=email, done=True)
