"""What a schedule entry may send: tasks, their arguments, send options and plain JSON."""

from __future__ import annotations

import pytest

from scheduler.app import celery as app
from scheduler.beat.calls import CallRules, app_queues, check_call, parse_json_text
from scheduler.beat.timing import ScheduleError
from tests.support.procfile import processes


@pytest.fixture(scope="module")
def rules() -> CallRules:
    app.loader.import_default_modules()
    return CallRules.from_app(app)


def test_the_queues_allowed_are_exactly_the_ones_the_procfile_worker_consumes() -> None:
    worker = processes()["worker"]
    consumed = set(worker[worker.index("-Q") + 1].split(","))
    assert app_queues(app) == consumed


def test_a_countdown_must_stay_under_the_visibility_timeout(rules: CallRules) -> None:
    assert rules.max_countdown == app.conf.broker_transport_options["visibility_timeout"]
    tight = CallRules(rules.tasks, rules.queues, max_countdown=30)
    check_call("celery.backend_cleanup", [], {}, {"countdown": 29}, tight)
    with pytest.raises(ScheduleError, match="visibility timeout"):
        check_call("celery.backend_cleanup", [], {}, {"countdown": 30}, tight)


@pytest.mark.parametrize(
    ("task", "args", "kwargs"),
    [
        ("scheduler.tasks.alerts.send_digests", [1, [2]], {}),
        ("scheduler.tasks.alerts.send_digests", [], {"run_id": 1, "subscriber_ids": []}),
        ("scheduler.tasks.catalogue.scrape_catalogue", [], {}),
        ("celery.backend_cleanup", [], {}),
    ],
)
def test_a_task_s_own_signature_is_accepted(rules, task, args, kwargs) -> None:
    check_call(task, args, kwargs, {"queue": "celery"}, rules)


@pytest.mark.parametrize(
    ("task", "args", "kwargs", "message"),
    [
        ("scheduler.tasks.alerts.send_digests", [1], {}, "does not take these arguments"),
        (
            "scheduler.tasks.alerts.send_digests",
            [1, 2, 3, 4, 5],
            {},
            "does not take these arguments",
        ),
        ("scheduler.tasks.catalogue.scrape_catalogue", [], {"self": 1}, "does not take"),
        ("celery.chord", [], {}, "unknown task"),
        ("scheduler.tasks.alerts", [], {}, "unknown task"),
        ("celery.backend_cleanup\n", [], {}, "control or invalid characters"),
    ],
)
def test_other_tasks_and_arguments_are_refused(rules, task, args, kwargs, message) -> None:
    with pytest.raises(ScheduleError, match=message):
        check_call(task, args, kwargs, {}, rules)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NaN", "NaN is not a JSON number"),
        ("[-Infinity]", "Infinity is not a JSON number"),
        ("1" * 5000, "not valid JSON"),  # longer than int() reads
        ("[" * 100_000, "at most 10000"),
        ("[" * 9000, "not valid JSON"),  # deeper than the parser recurses
    ],
)
def test_json_text_that_is_not_finite_or_small_is_refused_with_one_line(text, message) -> None:
    with pytest.raises(ScheduleError, match=message) as caught:
        parse_json_text(text)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200
