"""/admin/schedule: every entry in words with its next and last run, and one entry's page with
the edit form, run now, enable/disable and its audit history.

Every POST goes to the entry's own page with a `do` field (save, run, enable, disable): entry
names may hold slashes, so an action in the path could be read as part of a name. Edits go
through scheduler.beat.admin, the function `scout schedule` uses: the same checks, the same
one line, the same audit (the admin's address as `by`), and the nudge that makes a running
beat apply the edit within a second.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis
from celery.utils.time import maybe_timedelta
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from models import ReadSession, utcnow
from scheduler.beat import admin, listing, outcomes, view
from scheduler.beat import entries as store
from scheduler.beat.timing import ScheduleError
from scheduler.context import current_config
from scheduler.paging import page_number
from scheduler.web.admin import admin_address, bp
from scheduler.web.admin.edit_form import EditForm, read_form

PER_PAGE = 100
HISTORY = 50
REDIS_TIMEOUT = 2.0  # seconds: a hung Redis leaves the outcomes unknown, it never hangs a page


def _zone() -> ZoneInfo:
    return ZoneInfo(current_config().timezone)


def _rules() -> Any:
    try:
        return admin.beat_rules()
    except ScheduleError:
        return None  # the task modules fail to load: the edit itself says so in one line


def task_outcomes(session: Any, sent: dict[str, Any]) -> dict[str, outcomes.Outcome]:
    """Return what became of each task id (id -> sent at): its run, else its Celery result."""
    if not sent:
        return {}
    app = current_app.extensions["celery"]
    client = redis.Redis.from_url(
        current_config().redis_url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
    )
    kept = maybe_timedelta(app.conf.result_expires) or timedelta(days=1)
    try:
        reader = outcomes.result_reader(app, client)
        return outcomes.task_outcomes(session, sent, reader, now=utcnow(), kept=kept)
    finally:
        client.close()


@bp.get("/schedule")
def schedule() -> str:
    """Every entry (a page of them, by name; ?q= filters by name) with its runs and warnings."""
    query = request.args.get("q", "")[: listing.MAX_QUERY]
    with ReadSession() as session:
        page = listing.schedule_page(
            session,
            tz=_zone(),
            rules=_rules(),
            now=utcnow(),
            number=page_number(request.args.get("page")),
            size=PER_PAGE,
            query=query,
        )
        ended = task_outcomes(session, outcomes.sent_ids(page.items))
    return render_template("admin_schedule.html", page=page, query=query, ended=ended)


def _entry_page(
    name: str, form: EditForm | None = None, error: str = "", field: str | None = None
) -> str:
    """The entry's page: facts, warnings, the edit form (as typed, after an error), history."""
    with ReadSession() as session:
        try:
            entry = store.get_entry(session, name)
        except store.EntryNotFound:
            abort(404)
        row = listing.entry_view(entry, _zone(), _rules(), utcnow())
        edits = [view.edit_row(e) for e in store.edit_history(session, name, HISTORY)]
        sent = outcomes.sent_ids([row])
        sent |= {e["after"]["task_id"]: e["at"] for e in edits if _task_id(e)}
        ended = task_outcomes(session, sent)
    for edit in edits:
        edit["change"] = view.summarize(edit["before"], edit["after"])
    return render_template(
        "admin_entry.html",
        row=row,
        form=form or EditForm.of(row),
        error=error,
        error_field=field,
        edits=edits,
        ended=ended,
    )


def _task_id(edit: dict[str, Any]) -> bool:
    after = edit.get("after")
    return edit["action"] == "run" and isinstance(after, dict) and bool(after.get("task_id"))


@bp.get("/schedule/<path:name>")
def entry(name: str) -> str:
    """One entry: its schedule, next and last runs, warnings, the edit form and its history."""
    return _entry_page(name)


@bp.post("/schedule/<path:name>")
def change(name: str) -> Response | tuple[str, int]:
    """Save the edit form (do=save), or run now, enable or disable the entry."""
    action = request.form.get("do", "save")
    if action == "run":
        return _run(name)
    if action in ("enable", "disable"):
        return _save(name, admin.Change(enabled=action == "enable"), None)
    if action != "save":
        abort(400)
    form = EditForm.from_request(request.form)
    try:
        wanted = read_form(form)
    except admin.FieldError as exc:
        return _entry_page(name, form, str(exc), exc.field), 400
    return _save(name, wanted, form)


def _save(name: str, wanted: admin.Change, form: EditForm | None) -> Response | tuple[str, int]:
    by, now = admin_address(), utcnow()
    try:
        rules = admin.call_rules() if wanted.changes_call else None
        (entry, done), nudged = admin.apply_edit(
            lambda s: admin.apply_change(s, name, wanted, by, now, rules, keep_unchanged=False),
            current_config().redis_url,
        )
    except store.EntryNotFound:
        abort(404)
    except ScheduleError as exc:  # the task's checks: a FieldError names args, kwargs or options
        field = exc.field if isinstance(exc, admin.FieldError) else None
        return _entry_page(name, form, str(exc), field), 400
    if done.empty:
        flash("Nothing changed: the form holds the entry as it is.", "ok")
    else:
        flash(view.confirmation(entry, f"changed: {done.described()}", _zone()), "ok")
        if not nudged:
            flash("Redis does not answer: beat picks the edit up from the database.", "warn")
    return redirect(url_for("admin.entry", name=name))


def _run(name: str) -> Response | tuple[str, int]:
    app = current_app.extensions["celery"]

    def send(task: str, args: list[Any], kwargs: dict[str, Any], options: dict[str, Any]) -> str:
        retry = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
        sent = app.send_task(task, args=args, kwargs=kwargs, retry_policy=retry, **options)
        return str(sent.id)

    try:
        config = current_config()
        task, task_id = admin.run_now(
            name, admin_address(), utcnow(), admin.call_rules(), send, config.redis_url
        )
    except store.EntryNotFound:
        abort(404)
    except ScheduleError as exc:
        return _entry_page(name, None, str(exc)), 400
    flash(f"Sent {task} now (task {task_id}).", "ok")
    return redirect(url_for("admin.entry", name=name))
