"""/admin/subscribers: find a subscriber by address; one subscriber's watches and recent alerts;
unsubscribe or delete them on request, each asked once more and audited with the admin's
address (the audit names the subscriber by id: a deletion leaves nothing about them).
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from models import ReadSession, Session, utcnow
from scheduler.accounts import admin as accounts
from scheduler.alerts import personal
from scheduler.paging import page_number
from scheduler.web.admin import admin_address, bp

PER_PAGE = 50
ACTIONS = {"unsubscribe", "delete"}


@bp.get("/subscribers")
def subscribers() -> str:
    """Subscribers whose address holds ?q= (every one without it), and the latest actions."""
    query = request.args.get("q", "")[: accounts.MAX_QUERY]
    with ReadSession() as session:
        page = accounts.search(session, query, page_number(request.args.get("page")), PER_PAGE)
        done = accounts.actions(session)
    return render_template("admin_subscribers.html", page=page, query=query, done=done)


@bp.get("/subscribers/<int:subscriber_id>")
def subscriber(subscriber_id: int) -> str:
    """One subscriber: address, dates, watches with prices, recent alerts, admin actions."""
    with ReadSession() as session:
        try:
            person = accounts.get(session, subscriber_id)
        except accounts.NotFound:
            abort(404)
        watches = personal.watch_rows(session, subscriber_id)
        alerts = accounts.recent_alerts(session, subscriber_id)
        done = accounts.actions(session, subscriber_id)
    return render_template(
        "admin_subscriber.html", person=person, watches=watches, alerts=alerts, done=done
    )


@bp.post("/subscribers/<int:subscriber_id>")
def act(subscriber_id: int) -> Response | str:
    """Unsubscribe or delete (do=...): the first POST asks, the one with confirm=yes acts."""
    action = request.form.get("do", "")
    if action not in ACTIONS:
        abort(400)
    if subscriber_id == g.account.id and action == "delete":
        flash("This is your own account: delete it from Settings.", "error")
        return redirect(url_for("admin.subscriber", subscriber_id=subscriber_id))
    with Session.begin() as session:
        try:
            person = accounts.get(session, subscriber_id)
            if request.form.get("confirm") != "yes":
                return render_template("admin_confirm.html", person=person, action=action)
            if action == "delete":
                counts = accounts.delete_for(
                    session, subscriber_id, by=admin_address(), at=utcnow()
                )
            else:
                changed = accounts.unsubscribe_for(
                    session, subscriber_id, by=admin_address(), at=utcnow()
                )
        except accounts.NotFound:
            abort(404)
    if action == "delete":
        flash(
            f"Deleted subscriber {subscriber_id}: {counts['watches']} watches and "
            f"{counts['alerts']} alerts, nothing about them kept.",
            "ok",
        )
        return redirect(url_for("admin.subscribers"))
    note = "is unsubscribed" if changed else "had unsubscribed already"
    flash(f"{person.email} {note}: no price-drop email goes to them.", "ok")
    return redirect(url_for("admin.subscriber", subscriber_id=subscriber_id))
