"""`scout schedule ...`: listing, validated live edits, the edit log and the nudge to beat."""

from __future__ import annotations

import getpass
import json
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from celery.result import AsyncResult
from sqlalchemy import func, select

from models import ScheduleEdit, ScheduleEntry, Session
from scheduler.app import celery as celery_app
from scheduler.beat import lock as beat_lock
from scheduler.cli import main
from tests.support.schedule_cases import REFUSED_CALLS

ADD = [
    "schedule",
    "add",
    "probe",
    "--task",
    "celery.backend_cleanup",
    "--every",
    "30s",
    "--queue",
    "celery",
    "--by",
    "alice",
]


@pytest.fixture
def client(redis_client: redis.Redis) -> Iterator[redis.Redis]:
    connection = redis_client
    yield connection
    connection.delete("celery")


def scout(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def counts() -> tuple[int, int]:
    with Session() as session:
        return (
            session.scalar(select(func.count()).select_from(ScheduleEntry)),
            session.scalar(select(func.count()).select_from(ScheduleEdit)),
        )


def test_list_shows_each_entry_in_words_with_next_run_and_run_count(db, capsys):
    assert scout(capsys, *ADD)[0] == 0
    assert (
        scout(
            capsys,
            "schedule",
            "add",
            "nightly",
            "--task",
            "celery.backend_cleanup",
            "--cron",
            "0 2 * * *",
        )[0]
        == 0
    )
    status, out, _ = scout(capsys, "schedule", "list")
    assert status == 0
    assert "Every 30 seconds" in out and "At 02:00" in out and "NEXT_RUN" in out
    rows = json.loads(scout(capsys, "schedule", "list", "--json")[1])
    assert [(r["name"], r["run_count"], r["last_run_at"]) for r in rows] == [
        ("nightly", 0, None),
        ("probe", 0, None),
    ]
    assert rows[0]["next_run"].endswith("02:00:00+00:00")
    shown = json.loads(scout(capsys, "schedule", "show", "probe", "--json")[1])
    assert shown["options"] == {"queue": "celery"} and shown["schedule"] == "every 30s"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "x", "--task", "no.such.task", "--every", "5s"], "unknown task 'no.such.task'"),
        (["add", "x", "--task", "celery.backend_cleanup", "--cron", "99 * * * *"], "minute field"),
        (
            ["add", "x", "--task", "celery.backend_cleanup", "--every", "5s", "--args", '{"a": 1}'],
            "must be a JSON list",
        ),
        (["set", "probe", "--cron", "0 2 * *"], "five fields"),
        (["set", "probe", "--every", "0s"], "must be positive"),
        (["set", "probe", "--task", "no.such.task"], "unknown task"),
        (["set", "probe", "--args", '{"a": 1}'], "must be a JSON list"),
        (["set", "probe"], "nothing to change"),
        (["set", "nothing", "--every", "5s"], "no schedule entry named 'nothing'"),
        (["enable", "nothing"], "no schedule entry named 'nothing'"),
        (["add", "probe", "--task", "celery.backend_cleanup", "--every", "5s"], "already exists"),
    ],
)
def test_a_bad_edit_gets_one_clear_line_and_stores_nothing(db, capsys, argv, message):
    scout(capsys, *ADD)
    before = counts()
    status, out, err = scout(capsys, "schedule", *argv)
    assert status != 0 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert counts() == before


CLEANUP = ["--task", "celery.backend_cleanup", "--every", "5s"]


@pytest.mark.parametrize(("extra", "message"), REFUSED_CALLS)
def test_a_bad_call_on_add_gets_one_clear_line_and_stores_nothing(db, capsys, extra, message):
    status, out, err = scout(capsys, "schedule", "add", "x", *CLEANUP, *extra)
    assert (status, out) == (1, "")
    assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert counts() == (0, 0)


@pytest.mark.parametrize(("extra", "message"), REFUSED_CALLS)
def test_a_bad_call_on_set_gets_one_clear_line_and_changes_nothing(db, capsys, extra, message):
    scout(capsys, *ADD)
    before = (counts(), scout(capsys, "schedule", "show", "probe", "--json")[1])
    status, out, err = scout(capsys, "schedule", "set", "probe", *extra)
    assert (status, out) == (1, "")
    assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert (counts(), scout(capsys, "schedule", "show", "probe", "--json")[1]) == before


@pytest.mark.parametrize(
    "task", ["celery.starmap", "celery.chord", "celery.ping", "scheduler.tasks.nope"]
)
def test_only_the_service_s_own_tasks_and_backend_cleanup_may_be_scheduled(db, capsys, task):
    status, _, err = scout(
        capsys, "schedule", "add", "x", "--task", task, "--every", "5s",
        "--kwargs", '{"task": {}, "it": []}',
    )  # fmt: skip
    assert status == 1 and f"unknown task {task!r}" in err and err.count("\n") == 1
    assert counts() == (0, 0)


def test_a_task_s_own_arguments_and_every_known_option_are_accepted(db, capsys):
    options = {"queue": "mail", "expires": 600, "priority": 3, "countdown": 1.5,
               "soft_time_limit": 60, "time_limit": 90}  # fmt: skip
    status, out, err = scout(
        capsys, "schedule", "add", "send", "--task", "scheduler.tasks.alerts.send_digests",
        "--every", "1h", "--args", "[1]", "--kwargs", '{"subscriber_ids": [2, 3]}',
        "--options", json.dumps(options),
    )  # fmt: skip
    assert (status, err) == (0, "") and "added" in out
    shown = json.loads(scout(capsys, "schedule", "show", "send", "--json")[1])
    assert (shown["args"], shown["kwargs"], shown["options"]) == (
        [1],
        {"subscriber_ids": [2, 3]},
        options,
    )


def test_run_refuses_and_list_flags_an_entry_stored_with_bad_options_before_the_checks(
    db, capsys, client
):
    scout(capsys, *ADD)
    with Session.begin() as session:  # what an edit could store before the checks existed
        session.scalars(select(ScheduleEntry)).one().options = {"headers": "x", "retry": False}
    status, out, err = scout(capsys, "schedule", "run", "probe")
    assert (status, out) == (1, "") and "bad option 'headers'" in err and err.count("\n") == 1
    assert client.llen("celery") == 0
    shown = json.loads(scout(capsys, "schedule", "show", "probe", "--json")[1])
    assert shown["problem"].startswith("skipped by beat until edited: bad option 'headers'")
    assert shown["next_run"] is None and shown["enabled"] is True
    listed = scout(capsys, "schedule", "list")[1]
    assert "probe: skipped by beat until edited: bad option 'headers'" in listed
    scout(capsys, "schedule", "set", "probe", "--options", '{"queue": "celery"}')
    assert json.loads(scout(capsys, "schedule", "show", "probe", "--json")[1])["problem"] is None


def test_every_edit_is_in_the_history_with_who_and_what_changed(db, capsys):
    scout(capsys, *ADD)
    scout(capsys, "schedule", "set", "probe", "--cron", "*/5 * * * *", "--by", "bob")
    scout(capsys, "schedule", "disable", "probe", "--by", "carol")
    scout(capsys, "schedule", "enable", "probe")
    scout(capsys, "schedule", "remove", "probe", "--by", "dave")
    edits = json.loads(scout(capsys, "schedule", "history", "--json")[1])
    assert [(e["action"], e["by"]) for e in reversed(edits)] == [
        ("add", "alice"),
        ("set", "bob"),
        ("disable", "carol"),
        ("enable", getpass.getuser()),
        ("remove", "dave"),
    ]
    assert edits[3]["before"]["schedule"] == {"every": 30}
    assert edits[3]["after"]["schedule"] == {"cron": "*/5 * * * *"}
    assert edits[0]["action"] == "remove" and edits[0]["after"] is None
    table = scout(capsys, "schedule", "history", "probe")[1]
    assert "schedule: every 30s -> cron */5 * * * *" in table and "enabled: True -> False" in table


def test_an_edit_nudges_beat_through_redis_after_it_commits(db, capsys, client, monkeypatch):
    # A channel of its own: every test run on this Redis server nudges the shared one.
    channel = f"{beat_lock.NUDGE_CHANNEL}:test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(beat_lock, "NUDGE_CHANNEL", channel)
    listener = client.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel)
    deadline = time.monotonic() + 30
    while not client.pubsub_numsub(channel)[0][1]:  # subscribed, as Redis sees it
        assert time.monotonic() < deadline, "Redis did not subscribe the listener in 30 s"
        time.sleep(0.01)
    scout(capsys, *ADD)
    message = None
    while message is None and time.monotonic() < deadline:
        message = listener.get_message(timeout=1)  # None for the subscribe confirmation too
    listener.close()
    assert message is not None and message["channel"] == channel.encode()


def test_run_sends_the_task_now_and_logs_it_without_touching_the_rhythm(db, capsys, client, worker):
    scout(capsys, *ADD)
    status, out, _ = scout(capsys, "schedule", "run", "probe", "--by", "erin")
    assert status == 0 and "sent now" in out
    task_id = out.strip().removesuffix(")").rsplit(" ", 1)[-1]
    assert AsyncResult(task_id, app=celery_app).get(timeout=20) is None  # the worker ran it
    edit = json.loads(scout(capsys, "schedule", "history", "probe", "--json")[1])[0]
    assert (edit["action"], edit["by"], edit["after"]["task"]) == (
        "run",
        "erin",
        "celery.backend_cleanup",
    )
    shown = json.loads(scout(capsys, "schedule", "show", "probe", "--json")[1])
    assert (shown["run_count"], shown["last_run_at"]) == (0, None)


def test_set_changes_args_and_queue_without_touching_the_schedule(db, capsys):
    scout(capsys, *ADD)
    before = json.loads(scout(capsys, "schedule", "show", "probe", "--json")[1])
    status, out, _ = scout(
        capsys, "schedule", "set", "probe", "--kwargs", "{}", "--queue", "scrape"
    )
    assert status == 0 and "changed: kwargs" in out
    after = json.loads(scout(capsys, "schedule", "show", "probe", "--json")[1])
    assert (after["kwargs"], after["options"]) == ({}, {"queue": "scrape"})
    assert (after["schedule"], after["anchored_at"]) == (before["schedule"], before["anchored_at"])
    edit = json.loads(scout(capsys, "schedule", "history", "probe", "--json")[1])[0]
    assert (edit["action"], edit["before"]["options"], edit["after"]["options"]) == (
        "update",
        {"queue": "celery"},
        {"queue": "scrape"},
    )


def test_history_summaries_say_what_changed_in_one_line() -> None:
    from scheduler.beat.view import summarize

    spec = {"task": "t", "schedule": {"every": 30}, "args": [], "enabled": True}
    assert summarize(None, spec) == "t every 30s"
    assert summarize(spec, None) == "removed"
    assert summarize(None, {"task": "t", "task_id": "abc"}) == "task abc"
    assert summarize(spec, {**spec, "args": [1], "enabled": False}) == (
        "args: [] -> [1]; enabled: True -> False"
    )
    assert summarize(spec, spec) == "no change"


def test_a_fresh_scout_process_knows_the_queues_the_worker_consumes(sqlite_db):
    # In its own process no app is built yet: the queues must come from the app the CLI builds.
    import os
    import subprocess
    import sys
    from pathlib import Path

    scout = str(Path(sys.executable).parent / "scout")
    add = [scout, "schedule", "add", "nightly-probe", "--task"]
    add += ["scheduler.tasks.catalogue.scrape_catalogue", "--every", "3600s", "--queue", "scrape"]
    result = subprocess.run(
        add, env={**os.environ, "DATABASE_URL": sqlite_db}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "nightly-probe" in result.stdout
