"""Task names are stored data: admins' schedule entries name tasks by them in the database."""

from __future__ import annotations

from scheduler.app import celery as app

# A deployed database keeps firing after an upgrade only while these names stay registered.
# Renaming one needs an Alembic migration that rewrites schedule_entries.task.
STORED_NAMES = {
    "scheduler.tasks.alerts.check_watchlists",
    "scheduler.tasks.alerts.finish_alert_run",
    "scheduler.tasks.alerts.requeue_stuck_alerts",
    "scheduler.tasks.alerts.send_digests",
    "scheduler.tasks.catalogue.close_stalled_scrapes",
    "scheduler.tasks.catalogue.finish_scrape",
    "scheduler.tasks.catalogue.scrape_catalogue",
    "scheduler.tasks.catalogue.scrape_pages",
    "scheduler.tasks.prices.refresh_watched_prices",
}


def test_every_task_name_that_a_database_may_store_is_still_registered() -> None:
    import scheduler.tasks  # noqa: F401

    ours = {name for name in app.tasks if name.startswith("scheduler.")}
    assert STORED_NAMES <= ours


def test_every_task_names_itself_explicitly_so_moving_its_module_keeps_the_name() -> None:
    import inspect

    import scheduler.tasks  # noqa: F401

    for name in sorted(n for n in app.tasks if n.startswith("scheduler.")):
        source = inspect.getsource(inspect.getmodule(app.tasks[name].run))
        assert f'name="{name}"' in source, name
