"""Property-based fuzzing of schedule edits: any text either applies or gets one line.

Every argument goes through `scout schedule add/set` as an admin would type it. A refused
edit exits non-zero with exactly one line on stderr and stores nothing; an accepted one
stores an entry that `scout schedule list` can show and beat can plan.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from models import ScheduleEdit, ScheduleEntry, Session
from scheduler.beat.admin import call_rules
from scheduler.beat.calls import OPTION_KEYS
from scheduler.beat.due import DueQueue
from scheduler.cli import main

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TASKS = [
    "celery.backend_cleanup",
    "scheduler.tasks.alerts.send_digests",
    "scheduler.tasks.catalogue.scrape_pages",
    "celery.starmap",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
option_keys = st.sampled_from([*OPTION_KEYS, "retry", "headers", "producer", "args", "link"])
option_values = st.sampled_from(["celery", "mail", "scrape", "nosuchqueue", ""]) | scalars
options = st.dictionaries(option_keys, option_values, max_size=4).map(json.dumps)
cron_tokens = st.sampled_from(
    ["*", "*/5", "*/0", "0", "59", "60", "1-5", "5-1", "mon", "sun-mon", "L", "?", "1,2", ",", "-"]
)
crons = st.lists(cron_tokens | st.text(max_size=6), max_size=7).map(" ".join) | st.text()
everys = st.builds(
    lambda n, u: f"{n}{u}", st.integers(-5, 10**15), st.sampled_from(["", "s", "m", "h", "d", "x"])
) | st.text(max_size=12)
json_texts = json_values.map(lambda v: json.dumps(v)) | st.text(max_size=30)


def counts() -> tuple[int, int]:
    with Session() as session:
        return (
            session.scalar(select(func.count()).select_from(ScheduleEntry)),
            session.scalar(select(func.count()).select_from(ScheduleEdit)),
        )


def scout(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def assert_applied_or_refused(capsys, argv: list[str], before: tuple[int, int]) -> bool:
    """Run the edit; return True if it applied. A refusal is one line and stores nothing."""
    status, out, err = scout(capsys, argv)
    event("applied" if status == 0 else "refused")
    assert "Traceback" not in out + err
    if status == 0:
        assert out.count("\n") == 1 and "schedule entry" in out, (argv, out, err)
        return True
    assert out == "" and err.count("\n") == 1 and err.startswith("scout: error: "), (argv, err)
    assert counts() == before, argv
    return False


def assert_usable() -> None:
    """Everything stored can be listed and planned by beat."""
    assert main(["schedule", "list", "--json"]) == 0
    rules, queue = call_rules(), DueQueue(ZoneInfo("UTC"))
    with Session() as session:
        for row in session.scalars(select(ScheduleEntry)):
            assert queue.admit(row, rules) is None, row.name


def forget_entries() -> None:
    with Session.begin() as session:
        session.execute(delete(ScheduleEdit))
        session.execute(delete(ScheduleEntry))


VALID_ADD = {"task": "celery.backend_cleanup", "every": "30s", "args": "[]", "kwargs": "{}"}
queues = st.sampled_from(["celery", "mail", "scrape", "nosuchqueue", ""]) | st.text(max_size=12)
FIELD_VALUES = {
    "cron": st.sampled_from(["*/5 * * * *", "0 2 * * mon-fri", "0 0 31 2 *"]) | crons,
    "every": st.sampled_from(["30s", "2h", "366d", "367d", "0s"]) | everys,
    "task": st.sampled_from(TASKS) | st.text(max_size=20),
    "args": st.sampled_from(["[]", "[1]", "[1, [2]]"]) | json_texts,
    "kwargs": st.sampled_from(["{}", '{"run_id": 1}', '{"subscriber_ids": []}']) | json_texts,
    "options": st.sampled_from(['{"queue": "mail", "expires": 60}', "{}"]) | options | json_texts,
    "queue": queues,
    "expires": st.sampled_from(["5m", "1d", "8d"]) | everys,
}
FIELDS = list(FIELD_VALUES)
edits = st.sampled_from(FIELDS).flatmap(lambda f: st.tuples(st.just(f), FIELD_VALUES[f]))


@FUZZ
@given(changes=st.lists(edits, min_size=1, max_size=3))
def test_any_add_applies_or_gets_one_line_and_stores_nothing(db, capsys, changes):
    fields = dict(changes)
    given_fields = {**VALID_ADD, **fields}
    if "cron" in fields:  # --cron and --every are exclusive
        given_fields.pop("every", None)
    argv = ["schedule", "add", "fuzz", "--by=fuzz"]
    argv += [f"--{key}={value}" for key, value in given_fields.items()]
    if assert_applied_or_refused(capsys, argv, counts()):
        assert_usable()
        capsys.readouterr()
        forget_entries()


@pytest.fixture
def probe(db, capsys):
    argv = ["schedule", "add", "probe", "--task=celery.backend_cleanup", "--every=30s"]
    assert main(argv) == 0
    capsys.readouterr()


@FUZZ
@given(
    field=st.sampled_from(
        ["cron", "every", "task", "args", "kwargs", "options", "queue", "expires"]
    ),
    value=crons | everys | json_texts | options,
)
def test_any_set_applies_or_gets_one_line_and_changes_nothing(probe, db, capsys, field, value):
    shown = ["schedule", "show", "probe", "--json"]
    before = (counts(), scout(capsys, shown)[1])
    argv = ["schedule", "set", "probe", f"--{field}={value}", "--by=fuzz"]
    if assert_applied_or_refused(capsys, argv, before[0]):
        assert_usable()
    else:
        assert scout(capsys, shown)[1] == before[1]
