"""`scout schedule`: list, show and edit the beat schedule while beat runs; every edit is logged.

An edit is validated, committed with its log row, then beat is nudged through Redis; a running
beat applies it within a second (the database is the truth if the nudge is lost).
`run NAME` sends the entry's task at once from here, without waiting for beat, and logs it;
the entry's own rhythm (last run, run count) is left alone.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.beat import admin, view
from scheduler.beat import entries as store
from scheduler.beat.calls import CallRules
from scheduler.beat.timing import ScheduleError
from scheduler.cli.arguments import int_between
from scheduler.cli.output import CLIError, print_json, print_table, terminal_safe

LIST_COLUMNS = ("name", "schedule", "in_words", "enabled", "next_run", "last_run_at", "run_count")
HISTORY_COLUMNS = ("version", "at", "by", "entry", "action", "change")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `scout schedule ...` to the scout parser."""
    parser = subparsers.add_parser("schedule", help="show and edit the beat schedule")
    actions = parser.add_subparsers(dest="schedule_action", metavar="ACTION", required=True)
    _reader(actions, "list", "every entry, its schedule and next run", cmd_list)
    _reader(actions, "show", "one entry in full", cmd_show).add_argument("name")
    history = _reader(actions, "history", "who changed what, newest first", cmd_history)
    history.add_argument("name", nargs="?", help="only this entry")
    history.add_argument(
        "--limit", type=int_between(1, 1_000_000), default=50, help="at most N edits (50)"
    )
    add = _editor(actions, "add", "add an entry", cmd_add)
    _schedule_and_call_options(add, adding=True)
    add.add_argument("--disabled", action="store_true", help="add it disabled")
    setp = _editor(actions, "set", "change an entry's schedule (or task, args, options)", cmd_set)
    _schedule_and_call_options(setp, adding=False)
    _editor(actions, "enable", "let an entry fire again", cmd_toggle).set_defaults(enabled=True)
    _editor(actions, "disable", "stop an entry firing", cmd_toggle).set_defaults(enabled=False)
    _editor(actions, "remove", "delete an entry", cmd_remove)
    _editor(actions, "run", "send an entry's task now", cmd_run)


def _reader(actions: Any, name: str, text: str, func: Any) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=text)
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=func)
    return parser


def _editor(actions: Any, name: str, text: str, func: Any) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=text)
    parser.add_argument("name")
    parser.add_argument("--by", default=None, help="who makes the edit (default: OS user)")
    parser.set_defaults(func=func)
    return parser


def _schedule_and_call_options(parser: argparse.ArgumentParser, adding: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=adding)
    group.add_argument("--cron", metavar='"m h dom mon dow"', help="crontab in the app timezone")
    group.add_argument("--every", metavar="INTERVAL", help="interval such as 30s, 5m, 2h")
    parser.add_argument("--task", required=adding, help="registered task name")
    parser.add_argument("--args", help="JSON list of arguments")
    parser.add_argument("--kwargs", help="JSON object of keyword arguments")
    parser.add_argument("--options", help="JSON object of send options")
    parser.add_argument("--queue", help="queue to send to (default: the task's route)")
    parser.add_argument("--expires", help="drop a run not started in time, e.g. 5m")


def _change(args: argparse.Namespace) -> admin.Change:
    """Return the edit the options ask for (scheduler.beat.admin: the web's check too)."""
    with _plainly():
        return admin.read_change(
            cron=args.cron,
            every=args.every,
            task=args.task,
            args=args.args,
            kwargs=args.kwargs,
            options=args.options,
            queue=args.queue,
            expires=args.expires,
        )


@contextmanager
def _plainly() -> Iterator[None]:
    """Turn a refused edit or unknown name into one CLI line."""
    try:
        yield
    except ScheduleError as exc:
        raise CLIError(str(exc)) from None


@contextmanager
def _reading() -> Iterator[Any]:
    from models.base import Session
    from scheduler.cli.services import open_database

    open_database()
    with _plainly(), Session() as session:
        yield session


def _edit(work: Any) -> Any:
    """Commit one edit and nudge beat; a refused edit becomes one CLI line."""
    from scheduler.cli.services import open_database

    config = open_database()
    with _plainly():
        result, nudged = admin.apply_edit(work, config.redis_url)
    if not nudged:
        print("note: Redis unreachable; beat picks the edit up from the database in a second")
    return result


def _by(args: argparse.Namespace) -> str:
    return args.by or getpass.getuser()


def _now() -> Any:
    from models.base import utcnow

    return utcnow()


def _rules() -> CallRules:
    """Return the checks an edit must pass, for the app this process builds from its Config."""
    from scheduler.cli.services import cli_config

    cli_config()  # the queues the worker consumes come with the app the Config builds
    return admin.call_rules()


def _loading_rules() -> CallRules:
    from scheduler.cli.services import cli_config

    with _plainly():
        cli_config()
        return admin.beat_rules()


def _tz() -> ZoneInfo:
    from scheduler.cli.services import cli_config

    return ZoneInfo(cli_config().timezone)


def cmd_list(args: argparse.Namespace) -> int:
    """Print every entry with its schedule in words, next run, last run and run count."""
    tz, rules = _tz(), _loading_rules()
    with _reading() as session:
        rows = [view.entry_row(e, tz, rules) for e in store.all_entries(session)]
    if args.json:
        print_json(rows)
    else:
        print_table(
            [view.local_times(r, tz) for r in rows], LIST_COLUMNS, empty="no schedule entries"
        )
        for row in rows:
            if row["problem"]:
                print(f"{row['name']}: {row['problem']}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print one entry in full."""
    tz, rules = _tz(), _loading_rules()
    with _reading() as session:
        row = view.entry_row(store.get_entry(session, args.name), tz, rules)
    if args.json:
        print_json(row)
    else:
        # Stored text (a row written by hand) is shown escaped, never obeyed by the terminal.
        print("\n".join(terminal_safe(line) for line in view.entry_lines(row, tz)))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """Print the edit log, newest first."""
    with _reading() as session:
        rows = [
            view.edit_row(e) for e in store.edit_history(session, args.name, max(1, args.limit))
        ]
    if args.json:
        print_json(rows)
        return 0
    tz = _tz()
    changes = [
        {**view.local_times(r, tz), "change": view.summarize(r["before"], r["after"])} for r in rows
    ]
    print_table(changes, HISTORY_COLUMNS, empty="no schedule edits")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    """Add an entry after checking the task, the schedule and the JSON fields."""
    change = _change(args)
    timing = change.timing
    if timing is None:  # argparse requires one of them; an empty text is refused above
        raise CLIError("give --cron or --every")
    spec = {
        "task": args.task,
        "schedule": timing.as_spec(),
        "args": change.call.get("args", []),
        "kwargs": change.call.get("kwargs", {}),
        "options": admin.merged_options({}, change.options, change.queue, change.expires),
        "enabled": not args.disabled,
    }
    with _plainly():
        rules = _rules()
    entry = _edit(lambda s: store.add_entry(s, args.name, spec, _by(args), _now(), rules))
    print(view.confirmation(entry, f"added: {args.task}, {timing}", _tz()))
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    """Change the schedule (re-anchored: counted from now) and/or the task, args and options."""
    change = _change(args)
    if change.empty:
        raise CLIError(
            "nothing to change: give --cron or --every, or --task, --args, --kwargs, "
            "--options, --queue or --expires"
        )
    with _plainly():
        rules = _rules() if change.changes_call else None
    entry, _ = _edit(lambda s: admin.apply_change(s, args.name, change, _by(args), _now(), rules))
    print(view.confirmation(entry, f"changed: {change.described()}", _tz()))
    return 0


def cmd_toggle(args: argparse.Namespace) -> int:
    """Enable (it next fires counted from now) or disable an entry."""
    entry = _edit(lambda s: store.edit_entry(s, args.name, _by(args), _now(), enabled=args.enabled))
    print(view.confirmation(entry, "enabled" if args.enabled else "disabled", _tz()))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """Delete an entry; beat drops it within a second."""
    _edit(lambda s: store.remove_entry(s, args.name, _by(args), _now()))
    print(f"schedule entry {args.name!r} removed")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Send the entry's task now (from this process) and log who did it."""
    from scheduler.cli.services import open_database, send_task

    def send(task: str, call_args: list[Any], kwargs: dict[str, Any], options: Any) -> str:
        return str(send_task(task, *call_args, **{**options, "kwargs": kwargs}).id)

    with _plainly():
        rules = _rules()
        config = open_database()
        task, task_id = admin.run_now(args.name, _by(args), _now(), rules, send, config.redis_url)
    print(f"schedule entry {args.name!r}: {task} sent now (task {task_id})")
    return 0
