"""The wishlist page: import a Steam wishlist into the watchlist, and read the last import's report.

The POST checks the profile and the rule with the same functions the rest uses (read_profile,
read_rule: one line each), records the import (at most one per person per 5 minutes, counted in
the database) and hands it to a worker; the page refreshes itself while the import runs. If the
task queue does not answer, the import stays recorded and the sweep sends it within minutes.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from kombu.exceptions import OperationalError as BrokerError
from werkzeug.wrappers import Response

from models import ReadSession, Session, utcnow
from scheduler.alerts.inputs import WatchError, read_rule
from scheduler.context import current_config
from scheduler.web.auth import sign_in_required
from scheduler.web.forms import WishlistForm
from scheduler.wishlist import imports
from scheduler.wishlist.profile import MAX_PROFILE, ProfileError, read_profile

bp = Blueprint("wishlist", __name__)
log = logging.getLogger(__name__)
IMPORT_TASK = "scheduler.tasks.wishlist.import_wishlist"
REFRESH_SECONDS = 3


def _page(form: WishlistForm | None = None) -> str:
    if form is not None and form.profile.data:
        # Shown again in the field: printable characters only (a NUL or a newline is not kept).
        typed = "".join(ch for ch in form.profile.data[:MAX_PROFILE] if ch.isprintable())
        form.profile.data = typed
    with ReadSession() as db:
        last = imports.last_import(db, g.account.id)
    return render_template(
        "wishlist.html",
        form=form or WishlistForm(),
        last=last,
        refresh=REFRESH_SECONDS if last is not None and last.active else None,
        currency=current_config().store_currency,
    )


@bp.get("/wishlist")
@sign_in_required
def show() -> str:
    """The import form and the last import's report."""
    return _page()


@bp.post("/wishlist")
@sign_in_required
def start() -> Response | tuple[str, int]:
    """Queue an import of the wishlist of the profile typed, with one rule for every game."""
    form = WishlistForm()
    if not form.validate():
        return _page(form), 400
    try:
        profile = read_profile(form.profile.data or "")
    except ProfileError as exc:
        form.profile.errors = [str(exc)]
        return _page(form), 400
    try:
        rule = read_rule(
            form.rule.data or "", form.value.data or "", current_config().store_currency
        )
        with Session.begin() as db:
            import_id = imports.request_import(db, g.account.id, profile, rule, utcnow())
    except WatchError as exc:
        field = form.profile if isinstance(exc, imports.TooSoon) else form.value
        field.errors = [str(exc)]
        return _page(form), 400
    try:
        current_app.extensions["celery"].send_task(IMPORT_TASK, args=[import_id])
    except BrokerError as exc:
        log.warning("wishlist import %s: task queue unavailable (%s)", import_id, exc)
    flash("Your wishlist import has started. This page shows its report when it is done.", "ok")
    return redirect(url_for("wishlist.show"))
