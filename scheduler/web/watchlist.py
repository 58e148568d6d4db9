"""The watchlist page: a person's watches, added, edited in place, paused, resumed, removed.

Every view takes the person from g.account and every change goes through scheduler.alerts.
personal, which looks a watch up only together with its owner: a guessed id of someone else's
watch is a 404, the same as one that does not exist. Rules are read by the CLI's own function
(read_rule), so a bad value gets the same one line on both.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from models import ReadSession, Session
from scheduler.alerts import personal
from scheduler.alerts.inputs import UnknownItemError, WatchError, read_rule
from scheduler.alerts.watchlist import subscribe
from scheduler.context import current_config
from scheduler.web.auth import safe_next, sign_in_required
from scheduler.web.forms import ButtonForm, RuleForm, WatchForm

bp = Blueprint("watchlist", __name__)


def _page(form: WatchForm | None = None, *, failed: int | None = None, error: str = "") -> str:
    with ReadSession() as db:
        rows = personal.watch_rows(db, g.account.id)
    return render_template(
        "watchlist.html",
        rows=rows,
        form=form or WatchForm(item=request.args.get("item", "")[:500]),
        rule_form=RuleForm,
        button=ButtonForm(),
        failed=failed,
        error=error,
    )


@bp.get("/watchlist")
@sign_in_required
def show() -> str:
    """Every watch of the signed-in person, with the form to add one."""
    return _page()


@bp.post("/watchlist")
@sign_in_required
def add() -> Response | tuple[str, int]:
    """Watch a game (or give a watched one a new rule); back to where the form was."""
    form = WatchForm()
    if not form.validate():
        return _page(form), 400
    currency = current_config().store_currency
    try:
        with Session.begin() as db:
            rule = read_rule(form.rule.data or "", form.value.data or "", currency)
            game = personal.find_game(db, form.item.data or "")
            personal.watch_game(db, g.account.id, game, rule)
            warning = personal.target_warning(db, game, rule)
            title = game.title
    except WatchError as exc:
        field = form.item if isinstance(exc, UnknownItemError) else form.value
        field.errors = [str(exc)]
        return _page(form), 400
    flash(f"You watch {title}.", "ok")
    if warning:
        flash(f"Note: {warning}.", "warn")
    return redirect(safe_next(form.next.data) or url_for("watchlist.show"))


@bp.post("/watchlist/<int:watch_id>")
@sign_in_required
def edit(watch_id: int) -> Response | tuple[str, int]:
    """Give one watch a new rule."""
    form = RuleForm()
    currency = current_config().store_currency
    try:
        if not form.validate():
            raise WatchError(" ".join(error for errors in form.errors.values() for error in errors))
        with Session.begin() as db:
            rule = read_rule(form.rule.data or "", form.value.data or "", currency)
            entry = personal.change_rule(db, g.account.id, watch_id, rule)
            game = personal.game_of(db, entry)
            warning = personal.target_warning(db, game, rule)
            title = game.title
    except personal.NotYours:
        abort(404)
    except WatchError as exc:
        return _page(failed=watch_id, error=str(exc)), 400
    flash(f"Saved the rule for {title}.", "ok")
    if warning:
        flash(f"Note: {warning}.", "warn")
    return redirect(url_for("watchlist.show") + f"#watch-{watch_id}")


def _pause(watch_id: int, paused: bool) -> Response:
    try:
        with Session.begin() as db:
            entry = personal.set_paused(db, g.account.id, watch_id, paused)
            title = personal.game_of(db, entry).title
    except personal.NotYours:
        abort(404)
    flash(f"{'Paused' if paused else 'Resumed'} {title}.", "ok")
    return redirect(url_for("watchlist.show") + f"#watch-{watch_id}")


@bp.post("/watchlist/<int:watch_id>/pause")
@sign_in_required
def pause(watch_id: int) -> Response:
    """Stop a watch's alerts without forgetting its rule."""
    return _pause(watch_id, True)


@bp.post("/watchlist/<int:watch_id>/resume")
@sign_in_required
def resume(watch_id: int) -> Response:
    """Let a paused watch alert again."""
    return _pause(watch_id, False)


@bp.post("/watchlist/<int:watch_id>/remove")
@sign_in_required
def remove(watch_id: int) -> Response:
    """Stop watching a game."""
    try:
        with Session.begin() as db:
            title = personal.remove(db, g.account.id, watch_id)
    except personal.NotYours:
        abort(404)
    flash(f"You no longer watch {title}.", "ok")
    return redirect(url_for("watchlist.show"))


@bp.post("/watchlist/resubscribe")
@sign_in_required
def resubscribe() -> Response:
    """Take price-drop emails again after unsubscribing."""
    with Session.begin() as db:
        subscribe(db, g.account.email)
    flash("You get price-drop emails again.", "ok")
    return redirect(url_for("watchlist.show"))
