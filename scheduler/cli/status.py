"""scout status: is every process up, and did the last runs work?"""

from __future__ import annotations

import argparse
from typing import Any

from config import redact_url
from scheduler.cli.output import CLIError, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the status command to the scout parser."""
    status = subparsers.add_parser(
        "status", help="workers, beat, queues, last runs; exits 1 when something needs attention"
    )
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.set_defaults(func=cmd_status)


def gather() -> dict[str, Any]:
    """Return the health report (scheduler.status); raises CLIError when Redis cannot be reached."""
    from scheduler.app import celery as app
    from scheduler.cli.services import open_database
    from scheduler.status import gather as gather_report

    config = open_database()
    report = gather_report(config, app)
    if report["redis_error"] is not None:
        raise CLIError(
            f"cannot reach Redis at {redact_url(config.redis_url)}: {report['redis_error']}"
        )
    del report["redis_error"]
    return report


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
