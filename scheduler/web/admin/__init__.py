"""The admin console: /admin (health), /admin/schedule, /admin/runs, /admin/subscribers.

Only the addresses in ADMIN_EMAILS get in, and only with a sign-in less than 12 hours old (an
older one is signed out and sent to sign in again, then back to the page it asked for). For
everyone else every /admin URL is the site's own 404 page, the same bytes as a page that does
not exist: the gate runs before the CSRF check and before a wrong method is answered, so
nothing (a 400, a 405, a redirect) says a page is there. Every POST then carries a CSRF token,
checked by the gate once it knows the visitor is an admin.

Like every page, the console is a front end: views call the step functions `scout` calls
(scheduler.beat.admin for schedule edits, scheduler.status for health) and render.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, flash, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from scheduler.context import current_config
from scheduler.health import format_age
from scheduler.web.auth import safe_next, signed_in_for
from scheduler.web.csrf import csrf

bp = Blueprint("admin", __name__, url_prefix="/admin")
SIGN_IN_MAX_AGE = 12 * 3600  # seconds: an admin page needs a sign-in younger than this
PREFIX = "/admin"


def is_admin() -> bool:
    """Return True when the signed-in person's address is in ADMIN_EMAILS."""
    account = g.get("account")
    return account is not None and account.email in current_config().admin_emails


def admin_address() -> str:
    """Return the signed-in admin's address: who made a change, in every audit."""
    return str(g.account.email)


def _admin_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def gate() -> Response | None:
    """Before every request: 404 for /admin URLs unless an admin with a fresh sign-in asks."""
    if not _admin_path(request.path):
        return None
    if not is_admin():
        # Exactly the page of a URL that does not exist, which shows nobody signed in.
        g.account = None
        abort(404)
    age = signed_in_for()
    if age is None or age >= SIGN_IN_MAX_AGE:
        # Signed out, so the home page shows the form; the new sign-in comes back here.
        session.clear()
        flash("Admin pages need a sign-in from the last 12 hours: sign in again.", "warn")
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("sign_in.home", next=safe_next(target)) + "#sign-in")
    if request.method == "POST":
        csrf.protect()
    return None


def local_time(value: datetime | None) -> str:
    """Return an instant in TIMEZONE, e.g. '2026-03-29 03:00:00 CEST' ('–' for None)."""
    if value is None:
        return "–"
    zone = ZoneInfo(current_config().timezone)
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}"


def utc_time(value: datetime | None) -> str:
    """Return an instant in UTC beside local_time's: '01:00:00 UTC', with the date when the
    UTC date is another ('2026-03-28 23:30:00 UTC'); '' for None, and when TIMEZONE is UTC
    (local_time says it all)."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_config().timezone))
    if local.tzname() == "UTC":
        return ""
    utc = value.astimezone(UTC)
    same_day = utc.date() == local.date()
    return f"{utc:%H:%M:%S} UTC" if same_day else f"{utc:%Y-%m-%d %H:%M:%S} UTC"


def duration(start: datetime | None, end: datetime | None) -> str:
    """Return how long start to end took, e.g. '3m05s'; running ones count to now."""
    if start is None:
        return "–"
    if end is None:
        return f"running for {format_age((datetime.now(UTC) - start).total_seconds())}"
    return format_age((end - start).total_seconds())


def init_app(app: Flask) -> None:
    """Register the console's pages, its gate and its template helpers on app."""
    from scheduler.web.admin import health, runs, schedule, subscribers  # noqa: F401 (routes)

    csrf.exempt(bp)  # checked by the gate, after it has turned non-admins away
    app.before_request(gate)
    for function in (local_time, utc_time, duration, format_age):
        app.add_template_filter(function)
    app.jinja_env.globals["is_admin"] = is_admin
    app.jinja_env.globals["schedule_zone"] = lambda: current_config().timezone
    app.register_blueprint(bp)
