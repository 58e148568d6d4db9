"""The settings page: download everything the service holds about me, or delete my account.

Deleting asks once more on a page of its own; the POST that deletes carries confirm=yes.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from models import ReadSession, Session, Subscriber, utcnow
from scheduler.accounts import data
from scheduler.alerts import digests
from scheduler.alerts.digests import zone_names
from scheduler.alerts.inputs import WatchError
from scheduler.context import current_config
from scheduler.web.auth import sign_in_required
from scheduler.web.forms import EmailsForm

bp = Blueprint("settings", __name__)


def _local(at: datetime | None, zone: str | None) -> str | None:
    """Return a UTC time as it reads in zone, e.g. '2026-12-07 08:00 Europe/Berlin'."""
    if at is None or zone is None:
        return None
    return f"{at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


def _page(form: EmailsForm | None = None, error: str = "") -> str:
    with ReadSession() as db:
        subscriber = db.get_one(Subscriber, g.account.id)
        current = {
            "frequency": subscriber.frequency,
            "hour": subscriber.digest_hour if subscriber.digest_hour is not None else 8,
            "timezone": subscriber.timezone or current_config().timezone,
            "next_digest": _local(subscriber.next_digest_at, subscriber.timezone),
        }
    return render_template(
        "settings.html", current=current, form=form, error=error, zones=sorted(zone_names())
    )


@bp.get("/settings")
@sign_in_required
def show() -> str:
    """When the emails come, the person's address, the export, and account deletion."""
    return _page()


@bp.post("/settings")
@sign_in_required
def save() -> WerkzeugResponse | tuple[str, int]:
    """Set when the emails come: frequency immediate|daily, hour 0-23, an IANA timezone."""
    form = EmailsForm()
    try:
        if not form.validate():
            raise WatchError(" ".join(e for errors in form.errors.values() for e in errors))
        with Session.begin() as db:
            subscriber = digests.set_schedule(
                db,
                g.account.id,
                form.frequency.data or "",
                hour=form.hour.data or "",
                zone=form.timezone.data or "",
                now=utcnow(),
            )
            daily = subscriber.frequency == "daily"
            hour, zone = subscriber.digest_hour, subscriber.timezone
    except WatchError as exc:
        return _page(form, str(exc)), 400
    if daily:
        flash(f"One email a day at {hour:02d}:00 ({zone}), with every drop since the last.", "ok")
    else:
        flash("An email as soon as a drop is found.", "ok")
    return redirect(url_for("settings.show"))


@bp.get("/settings/export")
@sign_in_required
def export() -> Response:
    """Everything held about the signed-in person, as a JSON download."""
    with ReadSession() as db:
        exported = data.export_account(db, g.account.id)
    return Response(
        json.dumps(exported, indent=2, ensure_ascii=False) + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="steamscout-export.json"'},
    )


@bp.post("/settings/delete")
@sign_in_required
def delete() -> WerkzeugResponse | str:
    """Ask once more; with confirm=yes, delete the account and everything about it."""
    if request.form.get("confirm") != "yes":
        return render_template("settings_delete.html")
    with Session.begin() as db:
        data.delete_account(db, g.account.id)
    session.clear()
    flash("Your account and everything about it are deleted. No email will come again.", "ok")
    return redirect(url_for("sign_in.home"))
