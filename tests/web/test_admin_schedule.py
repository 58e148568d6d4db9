"""/admin/schedule: every entry in words with both times, warnings, and live, checked, audited
edits through the same function as `scout schedule` (scheduler.beat.admin)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from models import ScheduleEdit, ScheduleEntry, Session, utcnow
from scheduler.beat import entries as store
from scheduler.beat.lock import NUDGE_CHANNEL
from tests.support.admin import ADMIN, admin_post, signed_in, token, with_admins
from tests.support.schedule_cases import REFUSED_CALLS

PROBE = {
    "task": "celery.backend_cleanup",
    "schedule": {"every": 3600},
    "options": {"queue": "celery"},
}


def add(name: str, spec: dict | None = None) -> None:
    store.in_transaction(lambda s: store.add_entry(s, name, spec or PROBE, "test", utcnow(), None))


def stored(name: str = "probe") -> dict:
    with Session() as session:
        entry = store.get_entry(session, name)
        return {
            "spec": store.as_spec(entry),
            "anchored_at": entry.anchored_at,
            "updated_at": entry.updated_at,
        }


def counts() -> tuple[int, int]:
    with Session() as session:
        return (
            session.scalar(select(func.count()).select_from(ScheduleEntry)),
            session.scalar(select(func.count()).select_from(ScheduleEdit)),
        )


def form(**changes: str) -> dict[str, str]:
    """The edit form as the page fills it in for PROBE, with changes."""
    fields = {
        "do": "save",
        "cron": "",
        "every": "1h",
        "args": "[]",
        "kwargs": "{}",
        "options": '{"queue": "celery"}',
        "enabled": "yes",
    }
    return {**fields, **changes}


def error_lines(page: str) -> list[str]:
    return [html.unescape(line) for line in re.findall(r'<p class="error"[^>]*>([^<]*)</p>', page)]


@pytest.fixture
def client(db, scout_app):
    add("probe")
    client = with_admins(scout_app)
    signed_in(client, ADMIN)
    return client


def test_the_list_shows_each_entry_in_words_with_next_run_in_the_zone_and_in_utc(db, scout_app):
    scout_app.update(timezone="America/New_York")
    add("nightly", {**PROBE, "schedule": {"cron": "0 4 * * *"}})
    add("probe")
    client = with_admins(scout_app)
    signed_in(client, ADMIN)

    page = client.get("/admin/schedule").text

    assert 'href="/admin/schedule/nightly">nightly</a>' in page
    assert 'href="/admin/schedule/probe">probe</a>' in page
    assert "At 04:00" in page and "Every hour" in page and "celery.backend_cleanup" in page
    nightly = page[page.index(">nightly<") : page.index(">probe<")]
    times = r'(\d\d:\d\d:\d\d E[SD]T)</time> <span class="utc">(\d\d:\d\d:\d\d) UTC'
    local, utc = re.search(times, nightly).groups()
    assert local.startswith("04:00:00") and utc in ("09:00:00", "08:00:00")
    assert "Times in America/New_York, with UTC beside them" in page


def test_the_utc_time_carries_its_date_when_it_is_another_day_than_the_zone_s(db, scout_app):
    scout_app.update(timezone="Europe/Berlin")
    add("after-midnight", {**PROBE, "schedule": {"cron": "30 0 * * *"}})
    client = with_admins(scout_app)
    signed_in(client, ADMIN)

    page = client.get("/admin/schedule/after-midnight").text

    local, utc = re.search(
        r'<dt>Next run</dt><dd><time datetime="[^"]+">(\S+) 00:30:00 CET</time> '
        r'<span class="utc">(\S+) 23:30:00 UTC</span>',
        page,
    ).groups()
    assert local > utc  # 00:30 in Berlin is 23:30 UTC the day before


def test_with_the_zone_utc_each_time_shows_once(db, scout_app):
    scout_app.update(timezone="UTC")
    add("nightly", {**PROBE, "schedule": {"cron": "0 4 * * *"}})
    client = with_admins(scout_app)
    signed_in(client, ADMIN)

    listing = client.get("/admin/schedule").text
    entry = client.get("/admin/schedule/nightly").text

    assert "Times in UTC." in listing
    for page in (listing, entry):
        assert re.search(r'<time datetime="[^"]+">\S+ 04:00:00 UTC</time>', page)
        assert 'class="utc"' not in page


def test_the_last_run_shows_how_it_ended_and_links_its_run(client, redis_client):
    from models import ScrapeRun
    from scheduler.app import celery as app

    now = utcnow()
    add("failing")
    add("scraping")
    add("queued")
    with Session.begin() as session:
        session.add(ScrapeRun(task_id="task-scrape", started_at=now, status="partial"))
    app.backend.store_result("task-fail", ValueError("store said <b>no</b>"), "FAILURE")
    app.backend.store_result("task-ok", None, "SUCCESS")
    for name, task_id in (
        ("probe", "task-ok"),
        ("failing", "task-fail"),
        ("scraping", "task-scrape"),
        ("queued", "task-waiting"),
    ):
        store.in_transaction(lambda s, n=name, t=task_id: store.record_run(s, n, now, t))

    page = client.get("/admin/schedule").text

    names = ("probe", "failing", "scraping", "queued")
    row = {name: page[page.index(f">{name}</a>") :][:1500] for name in names}
    assert 'class="state state-ok">succeeded' in row["probe"]
    assert "failed: ValueError: store said &lt;b&gt;no&lt;/b&gt;" in row["failing"]
    assert re.search(r'href="/admin/runs/scrape/\d+">scrape run \d+: partial', row["scraping"])
    assert "waiting for a worker" in row["queued"]
    assert "<b>no</b>" not in page


def test_a_cron_entry_in_a_daylight_saving_gap_or_overlap_says_what_will_happen(db, scout_app):
    scout_app.update(timezone="Europe/Berlin")
    add("at-0230", {**PROBE, "schedule": {"cron": "30 2 * * *"}})
    add("at-0400", {**PROBE, "schedule": {"cron": "0 4 * * *"}})
    add("probe")
    client = with_admins(scout_app)
    signed_in(client, ADMIN)

    page = html.unescape(client.get("/admin/schedule").text)

    notes = re.findall(r'<p class="note"><strong>Daylight saving:</strong> ([^<]*)</p>', page)
    assert len(notes) == 2  # only 02:30 falls in a gap (spring) and an overlap (autumn)
    assert "02:30 does not exist, so it runs once, at 03:00 CEST (01:00 UTC)" in notes[0]
    assert "02:30 happens twice, and the entry runs once, at the first: 02:30 CEST" in notes[1]
    entry = html.unescape(client.get("/admin/schedule/at-0230").text)
    assert notes[0] in entry and notes[1] in entry
    assert "Daylight saving" not in client.get("/admin/schedule/at-0400").text


def test_saving_a_new_cron_line_stores_it_logs_the_admin_and_shows_the_next_run(
    client, redis_client
):
    listener = redis_client.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(NUDGE_CHANNEL)
    listener.get_message(timeout=1)

    saved = admin_post(client, "/admin/schedule/probe", form(cron="*/5 * * * *", every=""))

    assert saved.status_code == 302 and saved.headers["Location"] == "/admin/schedule/probe"
    assert stored()["spec"]["schedule"] == {"cron": "*/5 * * * *"}
    nudge = listener.get_message(timeout=2)
    listener.close()
    assert nudge is not None and nudge["channel"] == NUDGE_CHANNEL.encode()
    page = html.unescape(client.get("/admin/schedule/probe").text)
    assert "schedule entry 'probe' changed: schedule cron */5 * * * *" in page
    assert "Every 5 minutes" in page
    with Session() as session:
        edit = store.edit_history(session, "probe", 1)[0]
    assert (edit.action, edit.by) == ("set", ADMIN)
    assert edit.before["schedule"] == {"every": 3600}
    assert f'<td class="by">{ADMIN}</td>' in page
    assert "schedule: every 3600s -> cron */5 * * * *" in page


def test_saving_the_form_as_it_is_changes_nothing_and_logs_nothing(client):
    before, edits = stored(), counts()

    saved = admin_post(client, "/admin/schedule/probe", form())

    assert saved.status_code == 302
    assert stored() == before and counts() == edits  # not re-anchored: the hour is not reset
    assert "Nothing changed" in client.get("/admin/schedule/probe").text


def test_args_options_and_enabled_change_in_one_save_and_one_line_says_so(client):
    saved = admin_post(
        client,
        "/admin/schedule/probe",
        form(options='{"queue": "mail", "expires": 600}', enabled="no"),
    )

    assert saved.status_code == 302
    spec = stored()["spec"]
    assert spec["options"] == {"queue": "mail", "expires": 600} and spec["enabled"] is False
    page = html.unescape(client.get("/admin/schedule/probe").text)
    assert "changed: options, disabled" in page
    with Session() as session:
        actions = [e.action for e in store.edit_history(session, "probe", 5)]
    assert actions[:2] == ["update", "disable"]


def test_the_checkbox_after_its_hidden_field_reads_as_ticked(client):
    from werkzeug.datastructures import MultiDict

    fields = [(k, v) for k, v in form(every="2h").items() if k != "enabled"]
    fields.append(("csrf_token", token(client, "/admin/schedule/probe")))
    ticked = MultiDict([*fields, ("enabled", "no"), ("enabled", "yes")])

    assert client.post("/admin/schedule/probe", data=ticked).status_code == 302
    assert stored()["spec"]["enabled"] is True and stored()["spec"]["schedule"] == {"every": 7200}
    unticked = MultiDict([*fields, ("enabled", "no")])
    assert client.post("/admin/schedule/probe", data=unticked).status_code == 302
    assert stored()["spec"]["enabled"] is False


CLI_FLAGS = {"--args": "args", "--kwargs": "kwargs", "--options": "options"}
WEB_REFUSED = [
    (CLI_FLAGS[extra[0]], extra[1], message.replace("--", ""))
    for extra, message in REFUSED_CALLS
    if extra[0] in CLI_FLAGS
] + [
    ("cron", "0 2 * *", "five fields"),
    ("cron", "99 * * * *", "minute field"),
    ("cron", "0 0 31 2 *", "it never runs"),
    ("every", "0s", "must be positive"),
    ("every", "soon", "bad interval 'soon'"),
    ("every", "367d", "at most 366 days"),
    ("args", "", "bad args: not valid JSON"),
    ("args", "null", "bad args: null is not a JSON list or object"),
    ("args", '{"a": 1}', "must be a JSON list"),
    ("enabled", "maybe", "bad enabled 'maybe': use yes or no"),
]


@pytest.mark.parametrize(("field", "value", "message"), WEB_REFUSED)
def test_a_bad_edit_shows_one_line_on_the_form_and_stores_nothing(client, field, value, message):
    before, edits = stored(), counts()
    data = form(**{field: value})
    if field == "cron":
        data["every"] = ""

    refused = admin_post(client, "/admin/schedule/probe", data)

    assert refused.status_code == 400
    lines = error_lines(refused.text)
    assert len(lines) == 1 and message in lines[0], lines
    marked = re.findall(r'name="(\w+)"[^>]*aria-invalid="true"', refused.text)
    assert marked == [field], f"the field at fault is marked for screen readers: {marked}"
    assert "Traceback" not in refused.text
    assert stored() == before and counts() == edits
    typed = html.unescape(refused.text)
    assert value in typed  # the form keeps what was typed, to be corrected


@pytest.mark.parametrize(
    ("cron", "every", "message"),
    [
        ("0 3 * * *", "30s", "not both"),
        ("", "", "give a cron line (e.g. 0 3 * * *) or an interval (e.g. 30s)"),
        ("  ", " ", "give a cron line"),
    ],
)
def test_a_cron_line_and_an_interval_together_or_neither_is_one_line(client, cron, every, message):
    before, edits = stored(), counts()
    refused = admin_post(client, "/admin/schedule/probe", form(cron=cron, every=every))
    assert refused.status_code == 400
    lines = error_lines(refused.text)
    assert len(lines) == 1 and message in lines[0], lines
    assert stored() == before and counts() == edits


def test_a_field_the_post_leaves_out_stays_as_it_is(client):
    unchanged = {"do": "save", "kwargs": "{}", "args": "[]"}
    saved = admin_post(client, "/admin/schedule/probe", unchanged)
    assert saved.status_code == 302 and counts()[1] == 1  # nothing changed, nothing logged
    saved = admin_post(client, "/admin/schedule/probe", {"do": "save", "every": "2m"})
    assert saved.status_code == 302 and stored()["spec"]["schedule"] == {"every": 120}
    assert stored()["spec"]["options"] == {"queue": "celery"}


def test_enable_and_disable_buttons_are_audited_and_a_repeat_logs_nothing(client):
    assert admin_post(client, "/admin/schedule/probe", {"do": "disable"}).status_code == 302
    assert stored()["spec"]["enabled"] is False
    edits = counts()
    admin_post(client, "/admin/schedule/probe", {"do": "disable"})  # a second click, or back
    assert counts() == edits
    page = client.get("/admin/schedule/probe").text
    assert '<input type="hidden" name="do" value="enable">' in page
    admin_post(client, "/admin/schedule/probe", {"do": "enable"})
    with Session() as session:
        edits = [(e.action, e.by) for e in store.edit_history(session, "probe", 3)]
    assert edits[:2] == [("enable", ADMIN), ("disable", ADMIN)]


def test_an_unknown_entry_or_action_is_refused_without_a_change(client):
    assert client.get("/admin/schedule/nothing").status_code == 404
    assert admin_post(client, "/admin/schedule/probe", {"do": "explode"}).status_code == 400
    valid = token(client, "/admin/schedule/probe")
    missing = client.post("/admin/schedule/nothing", data={"csrf_token": valid, "do": "run"})
    assert missing.status_code == 404 and counts() == (1, 1)


def test_run_now_sends_the_task_logs_the_admin_and_shows_how_it_ended(client, worker):
    from celery.result import AsyncResult

    from scheduler.app import celery as app

    sent = admin_post(client, "/admin/schedule/probe", {"do": "run"})

    assert sent.status_code == 302
    with Session() as session:
        edit = store.edit_history(session, "probe", 1)[0]
    assert (edit.action, edit.by, edit.after["task"]) == ("run", ADMIN, "celery.backend_cleanup")
    assert AsyncResult(edit.after["task_id"], app=app).get(timeout=20) is None  # it ran
    page = client.get("/admin/schedule/probe").text
    assert f"Sent celery.backend_cleanup now (task {edit.after['task_id']})" in page
    history = page[page.index('id="history-heading"') :]
    assert 'state state-ok">succeeded' in history
    with Session() as session:
        entry = store.get_entry(session, "probe")
        assert (entry.run_count, entry.last_run_at) == (0, None)  # its rhythm is untouched


def test_run_now_refuses_a_row_stored_before_the_checks_in_one_line(client, redis_client):
    with Session.begin() as session:
        session.scalars(select(ScheduleEntry)).one().options = {"headers": "x"}
    redis_client.delete("celery")

    refused = admin_post(client, "/admin/schedule/probe", {"do": "run"})

    assert refused.status_code == 400
    assert error_lines(refused.text)[-1].startswith("bad option 'headers'")
    assert redis_client.llen("celery") == 0 and counts() == (1, 1)


HOSTILE = '<script>alert("x")</script>&amp;'


def test_hostile_names_tasks_and_arguments_are_escaped_everywhere(db, scout_app, redis_client):
    name = f"nightly/{HOSTILE} ?#%"
    with Session.begin() as session:  # as a row written before the checks could hold it
        store.add_entry(session, name, {**PROBE, "args": [HOSTILE]}, HOSTILE, utcnow(), None)
        session.scalars(select(ScheduleEntry)).one().task = HOSTILE
    client = with_admins(scout_app)
    signed_in(client, ADMIN)

    listing = client.get(f"/admin/schedule?q={HOSTILE}")
    link = re.search(r'<a href="(/admin/schedule/[^"]+)">', listing.text).group(1)
    page = client.get(html.unescape(link))

    for response in (listing, page):
        assert response.status_code == 200
        assert "<script>" not in response.text and "&lt;script&gt;" in response.text
    assert html.unescape(link) != f"/admin/schedule/{name}"  # ?, # and % are escaped
    assert "skipped by beat until edited: unknown task" in html.unescape(page.text)


def test_the_list_pages_a_long_schedule_and_finds_names_with_like_wildcards(db, scout_app):
    store.in_transaction(
        lambda s: [
            store.add_entry(s, f"entry-{n:03d}", PROBE, "test", utcnow(), None) for n in range(250)
        ]
    )
    add("100%_off")
    client = with_admins(scout_app)
    signed_in(client, ADMIN)

    first = client.get("/admin/schedule").text
    last = client.get("/admin/schedule?page=3").text
    beyond = client.get("/admin/schedule?page=99").text

    assert first.count('<tr id="entry-') == 100
    assert "Page 1 of 3 (251 in all)" in first and 'rel="next"' in first
    assert last.count('<tr id="entry-') == 51
    assert "Page 3 of 3" in beyond  # past the end: the last page
    found = client.get("/admin/schedule?q=0%25_").text  # a literal "%_", not wildcards
    assert found.count('href="/admin/schedule/100%25_off"') == 1 and "1 entry" in found
    assert client.get("/admin/schedule?page=abc").status_code == 200
