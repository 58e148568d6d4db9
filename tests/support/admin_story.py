"""The steps of an admin's story in a real browser (tests/browser/test_admin_story.py tells it):
each a function named for what the admin does, asserting what they see, and what the running
beat, the worker and the database did. Every admin page met is saved at 360 and 1280 px.

A running beat's view is its own log (the Procfile's beat line at LOG_LEVEL=INFO): the line
"beat: entry NAME reloaded" when it applies an edit and "Scheduler: Sending due task NAME" each
time it fires, both stamped to the millisecond by the clock the test reads too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from models.base import make_engine
from scheduler.beat import entries as store
from tests.support.browser import Browser
from tests.support.processes import Proc, wait_until
from tests.support.stack import TASK_TIMEOUT, Stack

PROBE = "admin-probe"  # a test-only entry: celery.backend_cleanup, harmless to run
YEARLY = "0 3 1 1 *"
EVERY = 2  # seconds: the interval the admin gives it, so it fires while the test watches
# The bound of tests/beat/test_processes.py (an edit by `scout schedule set`), copied: the entry
# is due EVERY s after the edit, and the edit applied within a second of it.
FIRST_SEND = (EVERY - 0.1, EVERY + 1.0)
APPLIED_WITHIN = 1.0  # seconds from the edit's save to the beat's "reloaded" line
SCRAPE = "scrape-catalogue"
_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): [A-Z]+/[^\]]+\] (.*)$", re.M)


def add_entry(stack: Stack, name: str, *schedule: str) -> None:
    """Add a test-only entry sending celery.backend_cleanup, as an admin would with scout."""
    args = ["schedule", "add", name, *schedule, "--task", "celery.backend_cleanup"]
    stack.scout(*args, "--by", "test")


def logged_at(proc: Proc, message: str) -> list[float]:
    """Return when (seconds since the epoch) proc logged message, one time per line."""
    return [
        datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()  # the local clock
        for stamp, text in _LINE.findall(proc.text)
        if text.strip() == message
    ]


def sends(beat: Proc, name: str) -> list[float]:
    """Return when beat sent the entry's task, each time."""
    return logged_at(beat, f"Scheduler: Sending due task {name} (celery.backend_cleanup)")


@contextmanager
def database(stack: Stack) -> Iterator[Session]:
    """A session on the stack's database, to read what the pages and beat stored."""
    engine = make_engine(stack.env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Stored:
    """An entry as the database holds it, and the schedule's version (one more per edit)."""

    spec: dict[str, Any]
    anchored_at: datetime
    updated_at: datetime
    version: int


def stored(stack: Stack, name: str) -> Stored:
    """Return the entry called name as stored now."""
    with database(stack) as session:
        entry = store.get_entry(session, name)
        return Stored(
            store.as_spec(entry),
            _utc(entry.anchored_at),
            _utc(entry.updated_at),
            store.current_version(session),
        )


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive UTC times; PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def facts(b: Browser) -> dict[str, str]:
    """The entry page's facts, term -> what it shows (its first line)."""
    terms = b.find_all("dl.facts dt")
    return {dt.text: b.text("dd", dt.find_element("xpath", "..")).split("\n")[0] for dt in terms}


def history(b: Browser) -> list[dict[str, str]]:
    """The rows of the entry page's history, newest first: by, action, change."""
    rows = b.find_all("section[aria-labelledby='history-heading'] tbody tr")
    cells = [[td.text for td in b.find_all("td", row)] for row in rows]
    return [{"by": c[2], "action": c[3], "change": c[4]} for c in cells]


def open_the_console(b: Browser, beat: Proc) -> None:
    """From the watchlist, the header's Admin link: health names the worker and this beat."""
    b.click("Admin", within=b.find("header.site"))
    assert b.path == "/admin" and b.heading() == "Health"
    token = re.search(r"beat lock: acquired \S+ as (\S+)", beat.text)
    assert token, beat.text

    def workers_answer() -> dict[str, str] | None:
        shown = facts(b)
        if shown["Workers"] == "none answers":  # the page waits a second for a ping: load
            b.open("/admin")
            return None
        return shown

    shown = wait_until(workers_answer, TASK_TIMEOUT, "the worker to answer the health page")
    assert isinstance(shown, dict)
    assert shown["Beat"] == token.group(1), shown
    assert shown["Workers"].startswith("celery@"), shown
    assert PROBE in b.text("section[aria-labelledby='schedule-heading']")
    b.snap("admin-health")


def open_the_entry(b: Browser, name: str) -> None:
    """The admin menu's Schedule, then the entry's link in the list."""
    b.click("Schedule", within=b.find("nav.admin-nav"))
    assert b.heading() == "Schedule"
    rows = [row for row in b.find_all("table.admin tbody tr") if b.text("td", row) == name]
    assert len(rows) == 1, f"{len(rows)} rows named {name}"
    if name == PROBE:
        assert f"cron {YEARLY}" in rows[0].text
        b.snap("admin-schedule")
    b.click(name, within=rows[0])
    assert b.heading() == name and b.path == f"/admin/schedule/{name}"


@dataclass(frozen=True)
class Applied:
    """How fast a running beat followed an edit, in seconds."""

    reloaded: float  # from the save (the entry's new anchor) to beat's "reloaded" line
    first_send: float  # from the click on Save to beat's first send


def change_the_schedule(b: Browser, stack: Stack, beat: Proc) -> Applied:
    """Turn the yearly cron entry into one every EVERY s; the running beat fires it on time."""
    assert facts(b)["Schedule"].startswith("At 03:00, on day 1 of the month, only in January")
    reloads = len(logged_at(beat, f"beat: entry {PROBE} reloaded"))
    b.fill("Cron (minute hour day-of-month month day-of-week)", "")
    b.fill("Or every (30s, 5m, 2h, 1d)", f"{EVERY}s")
    clicked = time.time()
    b.press("Save")
    saved = f"schedule entry '{PROBE}' changed: schedule every {EVERY}s (Every {EVERY} seconds)"
    assert any(line.startswith(saved) for line in b.flashes()), b.flashes()
    assert b.path == f"/admin/schedule/{PROBE}"
    wait_until(lambda: sends(beat, PROBE), TASK_TIMEOUT, "the first send after the edit", beat)
    anchor = stored(stack, PROBE).anchored_at.timestamp()  # the save's own clock reading
    reloaded = logged_at(beat, f"beat: entry {PROBE} reloaded")[reloads:]
    assert reloaded, beat.text[-3000:]
    applied = Applied(reloaded[0] - anchor, sends(beat, PROBE)[0] - clicked)
    assert applied.reloaded < APPLIED_WITHIN, applied
    assert FIRST_SEND[0] <= applied.first_send < FIRST_SEND[1], applied
    return applied


def disable_it(b: Browser, stack: Stack, beat: Proc) -> None:
    """Disable the entry firing every EVERY s: beat sends it no more, and its run count stays."""
    clicked = time.time()
    b.press("Disable")
    assert f"schedule entry '{PROBE}' changed: disabled" in " ".join(b.flashes())
    assert b.button("Enable") and facts(b)["Next run"] == "none: disabled"
    time.sleep(2 * EVERY)  # a window holding a send or two past the second beat may take
    assert [t for t in sends(beat, PROBE) if t >= clicked + APPLIED_WITHIN] == []
    b.open(f"/admin/schedule/{PROBE}")
    assert facts(b)["Runs"] == str(len(sends(beat, PROBE))), "each send counted, none since"
    assert facts(b)["Enabled"] == "no"


def see_who_changed_it(b: Browser, email: str) -> None:
    """The entry's history names the admin for each change, newest first."""
    rows = history(b)
    assert [(r["action"], r["by"]) for r in rows[:3]] == [
        ("disable", email),
        ("set", email),
        ("add", "test"),
    ], rows
    assert rows[1]["change"] == f"schedule: cron {YEARLY} -> every {EVERY}s"
    b.snap("admin-entry")


def run_the_scrape_now(b: Browser, stack: Stack, email: str) -> int:
    """Press Run now on the catalogue scrape; the worker runs it, and the entry's history links
    its scrape run once the run is done. Return the run's id."""
    open_the_entry(b, SCRAPE)
    b.press("Run now")
    sent = re.fullmatch(
        r"Sent scheduler\.tasks\.catalogue\.scrape_catalogue now \(task ([0-9a-f-]+)\)\.",
        " ".join(b.flashes()),
    )
    assert sent, b.flashes()
    done = f"Task scheduler.tasks.catalogue.scrape_catalogue[{sent.group(1)}] succeeded"
    wait_until(lambda: done in stack.output("worker"), TASK_TIMEOUT, done, stack.procs["worker"])

    def run_shown() -> re.Match[str] | None:
        b.open(f"/admin/schedule/{SCRAPE}")
        latest = history(b)[0]
        assert (latest["action"], latest["by"]) == ("run", email), latest
        return re.search(r"scrape run (\d+): ok$", latest["change"])

    shown = wait_until(run_shown, TASK_TIMEOUT, "the scrape run to end", stack.procs["worker"])
    assert isinstance(shown, re.Match)
    return int(shown.group(1))


def see_the_run(b: Browser, run_id: int) -> None:
    """From the entry's history to the run's page, then the list of runs."""
    b.click(f"scrape run {run_id}: ok")
    assert b.path == f"/admin/runs/scrape/{run_id}", b.path
    b.snap("admin-scrape-run")
    b.click("Runs", within=b.find("nav.admin-nav"))
    assert b.heading() == "Runs"
    row = b.find("table.admin tbody tr")
    cells = [td.text for td in b.find_all("td", row)]
    assert cells[0] == str(run_id) and cells[2] == "ok", cells
    b.snap("admin-runs")


def find_a_subscriber(b: Browser, email: str) -> None:
    """The admin menu's Subscribers, found by part of the address, then their page."""
    b.click("Subscribers", within=b.find("nav.admin-nav"))
    assert b.heading() == "Subscribers"
    b.fill("Find by address", email.split("@")[0])
    b.press("Find")
    assert "whose address holds" in b.text("main .summary")
    b.snap("admin-subscribers")
    b.click(email)
    assert b.heading() == email
    b.snap("admin-subscriber")


# Bad edits typed in the form: field label, value, the words of the one line it gets.
BAD_EDITS = [
    ("Cron (minute hour day-of-month month day-of-week)", "0 2 * *", "five fields"),
    ("Or every (30s, 5m, 2h, 1d)", "0s", "must be positive"),
    ("Args (JSON list)", "{x", "bad args: not valid JSON"),
    ("Options (JSON object: queue, expires, countdown, priority, soft_time_limit, time_limit)",
     '{"retry": false}', "bad option 'retry'"),
]  # fmt: skip


def type_a_bad_edit(b: Browser, stack: Stack, name: str, label: str, value: str, words: str) -> str:
    """Type value into the field and save: one line on the form, nothing stored; return it."""
    b.open(f"/admin/schedule/{name}")
    before = stored(stack, name)
    if label.startswith("Cron"):
        b.fill("Or every (30s, 5m, 2h, 1d)", "")  # a cron line instead of the interval
    b.fill(label, value)
    b.press("Save")
    errors = [e.text for e in b.find_all("main .error")]
    assert len(errors) == 1 and words in errors[0], errors
    assert b.find("form.edit .error").text == errors[0], "the line is on the form"
    field = b.field(label)
    # A line the form's reading gives names its field; one from the task's checks (an option,
    # arguments that do not fit) marks none.
    marked = b.find_all("form.edit [aria-invalid='true']")
    assert marked in ([], [field]), [el.get_attribute("name") for el in marked]
    assert field.get_attribute("value") == value, "what was typed stays, to be corrected"
    assert not b.flashes(), "no 'changed' line"
    assert stored(stack, name) == before, "nothing stored, no edit logged"
    return errors[0]
