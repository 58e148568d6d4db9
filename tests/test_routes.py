"""Each task goes to the queue the README's "Scaling out" names for it, as the router reads it."""

from __future__ import annotations

import re

from config import PROJECT_ROOT
from scheduler.app import celery


def readme_queues() -> dict[str, set[str]]:
    """Return the task names the README lists under each queue (celery: the rest)."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Scaling out", 1)[1].split("\n## ", 1)[0]
    named = dict(re.findall(r"`(scrape|mail|celery)` \(([^)]*)\)", section))
    return {queue: set(re.findall(r"`(\w+)`", text)) for queue, text in named.items()}


def routed_queue(task: str) -> str:
    """Return the queue Celery's router picks for task, sent with no queue of its own."""
    return str(celery.amqp.router.route({}, task)["queue"].name)


def test_every_task_goes_to_the_queue_the_readme_names() -> None:
    queues = readme_queues()
    assert queues["scrape"] == {"scrape_catalogue", "scrape_pages", "finish_scrape"}
    assert "send_digests" in queues["mail"]
    celery.loader.import_default_modules()  # the worker's imports: every task registered
    ours = sorted(name for name in celery.tasks if name.startswith("scheduler.tasks."))
    assert len(ours) >= 9
    for name in ours:
        short = name.rsplit(".", 1)[1]
        expected = next((q for q in ("scrape", "mail") if short in queues[q]), "celery")
        assert routed_queue(name) == expected, name


def test_the_stalled_scrapes_sweep_runs_on_celery_with_the_other_sweeps() -> None:
    # The scheduler.tasks.catalogue.* route sent it to `scrape`, behind a long scrape's pages,
    # when it was sent without a queue (beat's default entry names one; an edit may not).
    assert routed_queue("scheduler.tasks.catalogue.close_stalled_scrapes") == "celery"
    assert routed_queue("scheduler.tasks.alerts.requeue_stuck_alerts") == "celery"
