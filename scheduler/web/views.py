"""The web pages: one-click unsubscribe (RFC 8058) and a health check, as one blueprint.

scheduler.app.create_app registers it; the web process serves it through scheduler.web.wsgi.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, render_template
from sqlalchemy import select

from models import Session, Subscriber
from scheduler.alerts.watchlist import unsubscribe
from scheduler.app import current_config
from scheduler.health import check_services

web = Blueprint("web", __name__, template_folder="templates")
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
HEALTH_TIMEOUT = 2.0  # seconds: a health check must answer before the router gives up


def _not_found() -> Response:
    return Response("Not Found\n", status=404, mimetype="text/plain")


def mask_email(address: str) -> str:
    """Return the address with most of its local part hidden, e.g. 'j***@example.com'."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def show_unsubscribe(token: str) -> Response | str:
    """GET: a confirmation page with a button; changes nothing (mail scanners follow links)."""
    if not TOKEN.fullmatch(token):
        return _not_found()
    with Session() as session:
        subscriber = session.scalars(
            select(Subscriber).where(Subscriber.unsubscribe_token == token)
        ).first()
        if subscriber is None:
            return _not_found()
        return render_template(
            "unsubscribe.html",
            token=token,
            email=mask_email(subscriber.email),
            done=subscriber.unsubscribed_at is not None,
        )


def do_unsubscribe(token: str) -> Response | str:
    """POST (a person's button or a mailbox's one-click): unsubscribe and confirm."""
    if not TOKEN.fullmatch(token):
        return _not_found()
    with Session.begin() as session:
        subscriber = unsubscribe(session, token)
        if subscriber is None:
            return _not_found()
        email = mask_email(subscriber.email)
    return render_template("unsubscribed.html", email=email)


def healthz() -> Response:
    """Return 200 'ok' when the database (migrated) and Redis both answer within
    HEALTH_TIMEOUT, else 503 naming what did not (scheduler.health.check_services)."""
    down = check_services(current_config().redis_url, HEALTH_TIMEOUT)
    if down:
        return Response(f"unavailable: {', '.join(down)}\n", status=503, mimetype="text/plain")
    return Response("ok\n", mimetype="text/plain")


web.add_url_rule("/unsubscribe/<token>", "show_unsubscribe", show_unsubscribe, methods=["GET"])
web.add_url_rule("/unsubscribe/<token>", "do_unsubscribe", do_unsubscribe, methods=["POST"])
web.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
