"""The web process: one-click unsubscribe (RFC 8058) and a health check.

Serve it with `flask --app scheduler.web.app run` locally; in production with gunicorn
(`gunicorn scheduler.web.app:app`), see the Procfile.
"""

from __future__ import annotations

import re

from flask import Flask, Response, render_template
from sqlalchemy import select

from config import get_config
from models import Session, Subscriber
from models.base import configure_engine, get_engine
from scheduler.alerts.watchlist import unsubscribe

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


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
    """Return 200 'ok' while the process serves requests."""
    return Response("ok\n", mimetype="text/plain")


def create_app() -> Flask:
    """Return the web app, binding the database session if nothing has yet."""
    try:
        get_engine()
    except RuntimeError:
        configure_engine(get_config().database_url)
    app = Flask(__name__)
    app.add_url_rule("/unsubscribe/<token>", "show_unsubscribe", show_unsubscribe, methods=["GET"])
    app.add_url_rule("/unsubscribe/<token>", "do_unsubscribe", do_unsubscribe, methods=["POST"])
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    return app


app = create_app()
