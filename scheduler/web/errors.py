"""Error pages: every failure a person can meet is a page with one line, never a traceback.

A database or Redis that does not answer is expected now and then (a restart, a failover): the
page says to try again (503) and the log gets one line. Anything else is a bug: a 500 page,
and the log gets the traceback, under a path with its tokens cut.
"""

from __future__ import annotations

import logging

import redis
from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from scheduler.alerts.delivery import is_unreachable
from scheduler.web.redact import redact

log = logging.getLogger("scheduler.web")

MESSAGES = {
    400: "The request was not understood.",
    403: "You may not do that.",
    404: "There is no such page.",
    405: "That page does not take this kind of request.",
    413: "That was too much to send at once.",
    429: "Too many requests. Try again later.",
    500: "Something went wrong on our side. It has been logged; try again later.",
    503: "The service is briefly unavailable. Try again in a minute.",
}
TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Not allowed",
    413: "Too large",
    429: "Too many requests",
    500: "Server error",
    503: "Try again later",
}


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    """Return the error page for status, with message or the status's own line."""
    text = message or MESSAGES.get(status) or MESSAGES[500]
    title = TITLES.get(status, "Error")
    return render_template("error.html", title=title, message=text, status=status), status


def _where() -> str:
    return f"{request.method} {redact(request.path)}"


def http_error(exc: HTTPException) -> WerkzeugResponse | tuple[str, int]:
    """An HTTP error (404, 405, ...): its page, or werkzeug's response for a redirect."""
    if exc.code is None or exc.code < 400:
        return exc.get_response()
    return error_page(exc.code)


def csrf_error(_exc: CSRFError) -> tuple[str, int]:
    """A form without a valid CSRF token: most often a page left open across a sign-out."""
    return error_page(400, "This form has expired. Go back, reload the page and try again.")


def database_error(exc: DBAPIError) -> tuple[str, int]:
    """The database does not answer: 503 and one line; any other database error is a bug."""
    if not is_unreachable(exc):
        return server_error(exc)
    log.warning("web: %s: database unavailable (%s)", _where(), type(exc.orig).__name__)
    return error_page(503)


def redis_error(exc: Exception) -> tuple[str, int]:
    """Redis (limits, the task queue) does not answer: 503 and one line."""
    log.warning("web: %s: redis unavailable (%s)", _where(), type(exc).__name__)
    return error_page(503)


def server_error(exc: Exception) -> tuple[str, int]:
    """A bug: the 500 page; the log gets the traceback, never the request's tokens."""
    log.error("web: %s: %s", _where(), type(exc).__name__, exc_info=exc)
    return error_page(500)


def init_app(app: Flask) -> None:
    """Route every error of app to a page of ours."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(DBAPIError, database_error)
    app.register_error_handler(redis.RedisError, redis_error)
    app.register_error_handler(BrokerError, redis_error)
    app.register_error_handler(Exception, server_error)
