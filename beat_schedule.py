"""The default schedule, as plain data: name -> task, schedule, args, kwargs, options.

Seeded into the database scheduler (scheduler.beat.scheduler) on first start; a later start adds new
names but never overwrites an entry an admin edited. Edits live in the database
(`scout schedule ...`). A schedule is {"cron": "m h dom mon dow"} in the app timezone
(TIMEZONE) or {"every": seconds}. `expires` drops a run a worker did not start in time, so a
backlog never runs stale copies of the same check.
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
    "check-watchlists": {
        "task": "scheduler.tasks.alerts.check_watchlists",
        "schedule": {"cron": "15 * * * *"},
        "args": [],
        "kwargs": {},
        "options": {"queue": "celery", "expires": 55 * 60},
    },
    # Watched apps' prices from appdetails, alerts for what changed. Each tick spends at most
    # PRICE_REFRESH_REQUESTS of STORE_APPDETAILS_RATE_LIMIT (80 of 200/5minutes: every 120 s
    # that is the whole budget, spread evenly); change both together.
    "refresh-watched-prices": {
        "task": "scheduler.tasks.prices.refresh_watched_prices",
        "schedule": {"every": 120},
        "args": [],
        "kwargs": {},
        "options": {"queue": "celery", "expires": 110},
    },
    # The two sweeps finish what a crash or a broker restart left: every minute, so a run closes
    # within ALERT_STUCK_AFTER / SCRAPE_STALLED_AFTER plus a minute of the fault (README).
    "requeue-stuck-alerts": {
        "task": "scheduler.tasks.alerts.requeue_stuck_alerts",
        "schedule": {"every": 60},
        "args": [],
        "kwargs": {},
        "options": {"queue": "celery", "expires": 50},
    },
    "close-stalled-scrapes": {
        "task": "scheduler.tasks.catalogue.close_stalled_scrapes",
        "schedule": {"every": 60},
        "args": [],
        "kwargs": {},
        "options": {"queue": "celery", "expires": 50},
    },
    # Wishlist imports whose task a broker restart or a killed worker lost are sent again.
    "resume-wishlist-imports": {
        "task": "scheduler.tasks.wishlist.resume_wishlist_imports",
        "schedule": {"every": 60},
        "args": [],
        "kwargs": {},
        "options": {"queue": "celery", "expires": 50},
    },
    # Sign-ups that never opened their link are forgotten after a week (scheduler.accounts).
    "sweep-unconfirmed": {
        "task": "scheduler.tasks.accounts.sweep_unconfirmed",
        "schedule": {"cron": "40 3 * * *"},
        "args": [],
        "kwargs": {},
        "options": {"queue": "celery", "expires": 3600},
    },
}
