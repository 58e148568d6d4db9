"""The settings page: download everything the service holds about me, or delete my account.

Deleting asks once more on a page of its own; the POST that deletes carries confirm=yes.
"""

from __future__ import annotations

import json

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

from models import Session
from scheduler.accounts import data
from scheduler.web.auth import sign_in_required

bp = Blueprint("settings", __name__)


@bp.get("/settings")
@sign_in_required
def show() -> str:
    """The person's address, the export, and account deletion."""
    return render_template("settings.html")


@bp.get("/settings/export")
@sign_in_required
def export() -> Response:
    """Everything held about the signed-in person, as a JSON download."""
    with Session() as db:
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
