"""Alert command: check [--wait] queues a check of the watchlists and can follow its run."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from sqlalchemy import select

from scheduler.cli.output import CLIError

POLL_SECONDS = 0.5
NO_WORKER_HINT_AFTER = 15.0
TASK = "scheduler.tasks.alerts.check_watchlists"
FIGURES = ("alerts_new", "subscribers", "sent", "failed", "skipped")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the check command to the scout parser."""
    check = subparsers.add_parser("check", help="check the watchlists now and email price drops")
    check.add_argument(
        "--wait",
        action="store_true",
        help="wait for the emails to go out and print the run's figures",
    )
    check.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="with --wait, give up waiting after SECONDS (3600)",
    )
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    """Queue check_watchlists; with --wait, poll its run in the database until it closes."""
    from scheduler.cli.services import open_database, send_task

    result = send_task(TASK)
    print(f"check queued (task {result.id})")
    if not args.wait:
        return 0
    open_database()
    figures = wait_for_run(result.id, timeout=args.timeout)
    print_figures(figures)
    return 0 if figures["status"] == "done" else 1


def _run_figures(task_id: str) -> dict[str, Any] | None:
    from models import AlertRun, Session

    with Session() as session:
        run = session.scalars(select(AlertRun).where(AlertRun.task_id == task_id)).first()
        if run is None:
            return None
        return {
            "run_id": run.id,
            "status": run.status,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "error_summary": run.error_summary,
            **{name: getattr(run, name) for name in FIGURES},
        }


def wait_for_run(task_id: str, *, timeout: float) -> dict[str, Any]:
    """Return the figures of the task's run once it is closed; raises CLIError on timeout."""
    started = time.monotonic()
    hinted = False
    while True:
        figures = _run_figures(task_id)
        waited = time.monotonic() - started
        if figures is not None and figures["status"] != "running":
            return figures
        if figures is None and waited >= NO_WORKER_HINT_AFTER and not hinted:
            print(
                "no worker has started the check yet; is the worker process running?",
                file=sys.stderr,
            )
            hinted = True
        if waited >= timeout:
            state = "not started" if figures is None else "still running"
            raise CLIError(
                f"gave up waiting after {timeout:g}s: the check is {state} (task {task_id})"
            )
        time.sleep(POLL_SECONDS)


def print_figures(figures: dict[str, Any]) -> None:
    """Print a closed run's figures, one per line."""
    print(f"alert run {figures['run_id']}: {figures['status']}")
    for name in FIGURES:
        print(f"  {name.replace('_', ' ')}: {figures[name]}")
    if figures["finished_at"] and figures["started_at"]:
        seconds = (figures["finished_at"] - figures["started_at"]).total_seconds()
        print(f"  seconds: {seconds:.1f}")
    if figures["error_summary"]:
        print(f"  errors: {figures['error_summary']}")
