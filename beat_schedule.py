"""The default schedule, as plain data: name -> task, schedule, args, kwargs, options.

Seeded into the database scheduler on first start; later edits live in the database.
A schedule is {"cron": "m h dom mon dow"} (in the app timezone) or {"every": seconds}.
"""

from __future__ import annotations

DEFAULT_SCHEDULE: dict[str, dict] = {
    "scrape-catalogue": {
        "task": "scheduler.tasks.catalogue.scrape_catalogue",
        "schedule": {"cron": "0 2 * * *"},
        "args": [],
        "kwargs": {},
        "options": {"queue": "scrape", "expires": 6 * 3600},
    },
}
