"""The web front end: sign-in, search and game pages, the watchlist, the wishlist import,
settings, unsubscribe, health, and the admin console (scheduler.web.admin).

Like the CLI, it is a front end: each view parses the request, calls the step functions the CLI
calls, and renders. One blueprint per group of pages; scheduler.app.create_app calls init_app.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config

MAX_REQUEST_BYTES = 64 * 1024  # every form here is a few fields; more is not a person typing
SESSION_DAYS = 30


def init_app(app: Flask, config: Config) -> None:
    """Register the web's blueprints, CSRF, security headers, error pages and limits on app."""
    from scheduler.web import (
        admin,
        errors,
        filters,
        games,
        health,
        security,
        settings,
        sign_in,
        unsubscribe,
        watchlist,
        wishlist,
    )
    from scheduler.web.auth import load_account
    from scheduler.web.csrf import csrf
    from scheduler.web.limits import WebLimits

    https = config.public_url.startswith("https://")
    app.secret_key = config.secret_key
    app.config.update(
        SESSION_COOKIE_NAME="scout_session",
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(days=SESSION_DAYS),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as its session
        PREFERRED_URL_SCHEME="https" if https else "http",
    )
    if config.web_trusted_proxies:
        hops = config.web_trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    csrf.init_app(app)
    app.extensions["scout-web-limits"] = WebLimits.from_config(config)
    app.before_request(load_account)
    security.init_app(app, https=https)
    errors.init_app(app)
    filters.init_app(app)
    blueprints = (
        sign_in.bp,
        games.bp,
        watchlist.bp,
        wishlist.bp,
        settings.bp,
        unsubscribe.bp,
        health.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    admin.init_app(app)  # its gate runs after load_account: it needs to know who asks
