"""scout status: is every process up, and did the last runs work?"""

from __future__ import annotations

import argparse
from typing import Any

from config import Config, redact_url
from scheduler.cli.output import CLIError, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the status command to the scout parser."""
    status = subparsers.add_parser(
        "status", help="workers, beat, queues, last runs; exits 1 when something needs attention"
    )
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.set_defaults(func=cmd_status)


def gather() -> dict[str, Any]:
    """Return the health report; raises CLIError when Redis cannot be reached."""
    import redis

    from models import Session, utcnow
    from scheduler.app import celery as app
    from scheduler.beat.lock import LOCK_KEY
    from scheduler.catalogue.refresh import freshness
    from scheduler.cli.services import open_database
    from scheduler.health import broker_health, database_health, problems, schedule_health

    config = open_database()
    client = redis.Redis.from_url(config.redis_url, socket_connect_timeout=3)
    try:
        report: dict[str, Any] = broker_health(client, LOCK_KEY)
    except redis.RedisError as exc:
        raise CLIError(f"cannot reach Redis at {redact_url(config.redis_url)}: {exc}") from None
    replies = app.control.ping(timeout=1.0) or []
    report["workers"] = sorted(name for reply in replies for name in reply)
    with Session() as session:
        report.update(database_health(session, now=utcnow(), stuck_after=config.alert_stuck_after))
        report["prices"] = {
            **freshness(session, now=utcnow()),
            "stale_after": config.price_stale_after,
        }
        report["schedule"] = schedule_health(_schedule_rows(session, config), now=utcnow())
    report["problems"] = problems(report)
    return report


def _schedule_rows(session: Any, config: Config) -> list[dict[str, Any]]:
    """Return the schedule entries as beat sees them (a bad stored row says why it is skipped)."""
    from zoneinfo import ZoneInfo

    from scheduler.beat import admin, view
    from scheduler.beat import entries as store
    from scheduler.beat.timing import ScheduleError

    try:
        rules = admin.beat_rules()
    except ScheduleError:
        rules = None  # the tasks do not load: reported by every schedule command already
    tz = ZoneInfo(config.timezone)
    return [view.entry_row(entry, tz, rules) for entry in store.all_entries(session)]


def cmd_status(args: argparse.Namespace) -> int:
    """Print the health report; exit 1 when it lists problems."""
    report = gather()
    if args.json:
        print_json(report)
    else:
        _print(report)
    return 1 if report["problems"] else 0


def _print(report: dict[str, Any]) -> None:
    from scheduler.health import format_age

    print(f"workers: {', '.join(report['workers']) or 'none'}")
    print(f"beat:    {report['beat'] or 'none holds the lock'}")
    print("queues:  " + ", ".join(f"{k} {v}" for k, v in report["queues"].items()))
    for label, key in (("scrape", "last_scrape"), ("alerts", "last_alert_run")):
        run = report[key]
        when = run and (run["finished_at"] or run["started_at"])
        print(
            f"{label + ':':<8} "
            + (
                f"run {run['id']} {run['status']} at {when:%Y-%m-%d %H:%M} UTC"
                if run
                else "no run yet"
            )
        )
    prices = report["prices"]
    oldest, median = format_age(prices["oldest_age"]), format_age(prices["median_age"])
    print(
        f"prices:  {prices['watched']} watched apps, oldest {oldest}, median {median} "
        f"(stale after {format_age(prices['stale_after'])})"
    )
    for entry in report["schedule"]:
        when = entry["next_run"]
        idle = "skipped by beat" if entry["problem"] else "disabled"
        due = f"next {when:%Y-%m-%d %H:%M:%S} UTC" if when else idle
        print(f"{'entry:':<8} {entry['name']:<24} {due}")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report["alerts"].items())) or "none"
    print(f"outbox:  {counts}")
    for line in report["problems"]:
        print(f"problem: {line}")
    if not report["problems"]:
        print("all good")
