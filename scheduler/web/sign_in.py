"""Sign-in pages: the home page's form, the link's page (GET asks, POST signs in), sign-out.

One email address both signs up and signs in, and the answer is the same page whether or not
the address is known. The email goes out from a worker (a task), so this page never waits on
the mail server; a mail scanner that opens the link only sees a button.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from models import ReadSession, Session, utcnow
from scheduler.accounts import signin
from scheduler.alerts.inputs import WatchError, normalize_email
from scheduler.context import current_config
from scheduler.web.auth import safe_next, sign_in
from scheduler.web.errors import error_page
from scheduler.web.forms import ButtonForm, SignInForm
from scheduler.web.limits import WebLimits
from scheduler.web.unsubscribe import mask_email

bp = Blueprint("sign_in", __name__)
SEND_TASK = "scheduler.tasks.accounts.send_sign_in_link"
TOO_MANY_FORMS = "Too many forms were sent from your network in the last hour. Try again later."
TOO_MANY_EMAILS = (
    "Too many sign-in emails went to this address in the last hour. "
    "Use the newest one you have, or try again later."
)


def limits() -> WebLimits:
    """Return the app's limits (built once per app by scheduler.web.init_app)."""
    found: WebLimits = current_app.extensions["scout-web-limits"]
    return found


@bp.get("/")
def home() -> str:
    """The search box and the sign-in form (or a link to the watchlist when signed in)."""
    form = SignInForm(next=safe_next(request.args.get("next")))
    return render_template("home.html", form=form)


@bp.post("/sign-in")
def ask() -> tuple[str, int] | str:
    """Send a sign-in link to the address typed; the same page whether it is known or not."""
    form = SignInForm()
    if not form.validate():
        return render_template("home.html", form=form), 400
    if not limits().form_post(request.remote_addr or "unknown"):
        return error_page(429, TOO_MANY_FORMS)
    config = current_config()
    try:
        address = normalize_email(form.email.data or "", smtputf8=config.mail_smtputf8)
    except WatchError as exc:
        form.email.errors = [str(exc)]
        return render_template("home.html", form=form), 400
    if not limits().sign_in_email(address):
        return error_page(429, TOO_MANY_EMAILS)
    with Session.begin() as db:
        asked = signin.request_sign_in(db, address, now=utcnow(), smtputf8=config.mail_smtputf8)
    current_app.extensions["celery"].send_task(
        SEND_TASK, args=[asked.subscriber_id, asked.request_id]
    )
    next_path = safe_next(form.next.data)
    if next_path:
        session["next"] = next_path
    return render_template("sign_in_sent.html", email=address)


@bp.get("/sign-in/<token>")
def show_link(token: str) -> tuple[str, int] | str:
    """The link's page: who it signs in, and a button; changes nothing."""
    config = current_config()
    try:
        with ReadSession() as db:
            account = signin.peek(db, token, now=utcnow(), secret_key=config.secret_key or "")
    except signin.SignInError as exc:
        return render_template("sign_in_invalid.html", message=str(exc), form=SignInForm()), 400
    return render_template(
        "sign_in_confirm.html", token=token, email=mask_email(account.email), form=ButtonForm()
    )


@bp.post("/sign-in/<token>")
def use_link(token: str) -> Response | tuple[str, int]:
    """Sign in with the link (it works once) and confirm the address the first time."""
    if not limits().form_post(request.remote_addr or "unknown"):
        return error_page(429, TOO_MANY_FORMS)
    config = current_config()
    try:
        with Session.begin() as db:
            account = signin.redeem(db, token, now=utcnow(), secret_key=config.secret_key or "")
    except signin.SignInError as exc:
        return render_template("sign_in_invalid.html", message=str(exc), form=SignInForm()), 400
    sign_in(account)
    flash(f"You are signed in as {account.email}.", "ok")
    return redirect(safe_next(session.pop("next", None)) or url_for("watchlist.show"))


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session; the cookie signs no one in afterwards."""
    was_signed_in = g.account is not None
    session.clear()
    if was_signed_in:
        flash("You are signed out.", "ok")
    return redirect(url_for("sign_in.home"))
