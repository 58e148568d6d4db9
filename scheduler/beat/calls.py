"""What an entry may send: the service's own tasks, arguments they accept, known send options.

An entry's task, args, kwargs and options go straight to `send_task`, so they are checked
when an admin edits them and again when beat loads them (rows stored before these checks
existed). Only plain, finite, small JSON is stored: PostgreSQL refuses NaN, and a deep or huge
value would burden every tick and every message.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from models.schedule import UnreadableJSON
from scheduler.beat.timing import FieldError, ScheduleError

OWN_TASKS = "scheduler.tasks."
OTHER_TASKS = frozenset({"celery.backend_cleanup"})
MAX_JSON_CHARS = 10_000
MAX_DEPTH = 8
MAX_TEXT = 200
DAY = 86_400


@dataclass(frozen=True)
class Bound:
    """A numeric option: int only, or any finite number, between low and high."""

    low: float
    high: float
    whole: bool = False


# What makes sense for a periodic send; everything else (retry, producer, headers, link,
# exchange, args inside options, ...) is beat's business or would bypass these checks.
NUMERIC_OPTIONS: dict[str, Bound] = {
    "expires": Bound(1, 7 * DAY),
    "countdown": Bound(0, 3600),
    "priority": Bound(0, 9, whole=True),
    "soft_time_limit": Bound(1, DAY),
    "time_limit": Bound(1, DAY),
}
OPTION_KEYS = ("queue", *NUMERIC_OPTIONS)


@dataclass(frozen=True)
class CallRules:
    """The tasks (name -> signature) and queues an entry may use; None skips that check."""

    tasks: Mapping[str, inspect.Signature] | None = None
    queues: frozenset[str] | None = None
    max_countdown: float | None = None

    @classmethod
    def from_app(cls, app: Any, check_queues: bool = True) -> CallRules:
        """Return the rules for this Celery app: its own tasks, the queues its routes name."""
        # Signatures are read once: beat checks every row on each full load.
        tasks = {n: inspect.signature(t.run) for n, t in app.tasks.items() if allowed_task_name(n)}
        transport = app.conf.broker_transport_options or {}
        # A countdown longer than the visibility timeout makes Redis deliver the task twice.
        visibility = transport.get("visibility_timeout")
        return cls(tasks, app_queues(app) if check_queues else None, visibility)


def allowed_task_name(name: str) -> bool:
    """Return True for the service's own tasks and the few Celery ones a schedule may name."""
    return name.startswith(OWN_TASKS) or name in OTHER_TASKS


def app_queues(app: Any) -> frozenset[str]:
    """Return the queues the worker consumes: the default one and every routed one."""
    queues = {app.conf.task_default_queue}
    routes = app.conf.task_routes or {}
    if isinstance(routes, Mapping):
        queues |= {r["queue"] for r in routes.values() if isinstance(r, Mapping) and "queue" in r}
    queues |= {q.name for q in app.conf.task_queues or ()}
    return frozenset(queues)


def check_call(task: Any, args: Any, kwargs: Any, options: Any, rules: CallRules | None) -> None:
    """Raise ScheduleError unless task, args, kwargs and options may be sent by beat; a
    FieldError when the fault is in one of args, kwargs or options (a form marks that field)."""
    rules = rules or CallRules()
    check_text("task", task)
    for label, value in (("args", args), ("kwargs", kwargs), ("options", options)):
        if isinstance(value, UnreadableJSON):  # a row written by hand (SQLite keeps text)
            raise FieldError(f"bad {label}: stored text {short(value.text)} is not JSON", label)
    if not isinstance(args, list):
        raise FieldError(f"bad args {short(args)}: must be a JSON list", "args")
    for label, value in (("kwargs", kwargs), ("options", options)):
        if not isinstance(value, dict):
            raise FieldError(f"bad {label} {short(value)}: must be a JSON object", label)
        with _in_field(label):
            check_plain_json(label, value)
    with _in_field("args"):
        check_plain_json("args", args)
    with _in_field("options"):
        check_options(options, rules)
    if rules.tasks is not None:
        check_task(task, args, kwargs, rules.tasks)


@contextmanager
def _in_field(name: str) -> Iterator[None]:
    """Turn a ScheduleError raised inside into a FieldError of the field name."""
    try:
        yield
    except FieldError:
        raise
    except ScheduleError as exc:
        raise FieldError(str(exc), name) from None


def check_task(
    name: str, args: list[Any], kwargs: dict[str, Any], tasks: Mapping[str, inspect.Signature]
) -> None:
    """Raise ScheduleError unless name is an allowed task that accepts args and kwargs."""
    if not allowed_task_name(name) or name not in tasks:
        raise ScheduleError(
            f"unknown task {short(name)}: a schedule may send the registered {OWN_TASKS}* "
            f"tasks and {', '.join(sorted(OTHER_TASKS))}"
        )
    try:
        tasks[name].bind(*args, **kwargs)
    except TypeError as exc:
        field = "kwargs" if kwargs and not args else "args"
        raise FieldError(f"task {name} does not take these arguments: {exc}", field) from None


def check_options(options: dict[str, Any], rules: CallRules) -> None:
    """Raise ScheduleError unless every option is a known key with a value in range."""
    for key, value in options.items():
        if key == "queue":
            check_queue(value, rules.queues)
        elif key in NUMERIC_OPTIONS:
            check_number(key, value, NUMERIC_OPTIONS[key])
        else:
            raise ScheduleError(
                f"bad option {short(key)}: allowed options are {', '.join(OPTION_KEYS)}"
            )
    countdown = options.get("countdown", 0)
    if rules.max_countdown is not None and countdown >= rules.max_countdown:
        raise ScheduleError(
            f"bad countdown {countdown}: must be under the broker's visibility timeout "
            f"({rules.max_countdown:g}s), or the task would be delivered twice"
        )
    if "expires" in options and options["expires"] <= countdown:
        raise ScheduleError("bad expires: it must be longer than the countdown")
    soft, hard = options.get("soft_time_limit"), options.get("time_limit")
    if soft is not None and hard is not None and soft >= hard:
        raise ScheduleError("bad soft_time_limit: it must be shorter than time_limit")


def check_queue(value: Any, queues: Iterable[str] | None) -> None:
    """Raise ScheduleError unless value names a queue the worker consumes."""
    check_text("queue", value)
    if queues is not None and value not in queues:
        raise ScheduleError(
            f"bad queue {short(value)}: no worker consumes it (queues: {', '.join(sorted(queues))})"
        )


def check_number(key: str, value: Any, bound: Bound) -> None:
    """Raise ScheduleError unless value is a number (whole if required) within bound."""
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or (bound.whole and not isinstance(number, int)) or not math.isfinite(number):
        kind = "a whole number" if bound.whole else "a number of seconds"
        raise ScheduleError(f"bad {key} {short(value)}: must be {kind}")
    if not bound.low <= number <= bound.high:
        raise ScheduleError(f"bad {key} {short(value)}: must be {bound.low:g} to {bound.high:g}")


def check_text(label: str, value: Any, limit: int = MAX_TEXT) -> None:
    """Raise ScheduleError unless value is 1 to limit printable characters."""
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ScheduleError(f"bad {label} {short(value)}: must be 1 to {limit} characters")
    if not value.isprintable() or not _encodable(value):
        raise ScheduleError(f"bad {label} {short(value)}: control or invalid characters")


def check_plain_json(label: str, value: Any) -> None:
    """Raise ScheduleError unless value is finite JSON of bounded depth and size."""
    _walk(label, value, 0)
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:  # e.g. an integer with thousands of digits
        raise ScheduleError(f"bad {label}: not plain JSON ({exc})") from None
    if size > MAX_JSON_CHARS:
        raise ScheduleError(f"bad {label}: {size} characters of JSON, at most {MAX_JSON_CHARS}")


def _walk(label: str, value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ScheduleError(f"bad {label}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ScheduleError(f"bad {label}: NaN and Infinity are not JSON")
    if isinstance(value, str) and not _encodable(value):
        raise ScheduleError(f"bad {label}: text that is not valid Unicode")
    if isinstance(value, list):
        for item in value:
            _walk(label, item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not _encodable(key):
                raise ScheduleError(f"bad {label}: keys must be text")
            _walk(label, item, depth + 1)
    elif value is not None and not isinstance(value, bool | int | float | str):
        raise ScheduleError(f"bad {label}: {type(value).__name__} is not JSON")


def _encodable(text: str) -> bool:
    # Lone surrogates (from undecodable argv bytes or "\ud800" in JSON) are not UTF-8 and
    # NUL is refused by PostgreSQL text columns.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def short(value: Any, limit: int = 60) -> str:
    """Return repr(value) cut to limit characters, for one-line messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_json_text(text: str) -> Any:
    """Return the value of a JSON argument (finite, bounded); raises ScheduleError."""
    if len(text) > MAX_JSON_CHARS:
        raise ScheduleError(f"not valid JSON: {len(text)} characters, at most {MAX_JSON_CHARS}")

    def refuse(constant: str) -> Any:
        raise ScheduleError(f"not valid JSON: {constant} is not a JSON number")

    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise ScheduleError(f"not valid JSON ({exc.msg}): {short(text)}") from None
    except (RecursionError, ValueError) as exc:  # too deep, or an integer too long to read
        if isinstance(exc, ScheduleError):
            raise
        raise ScheduleError(f"not valid JSON: {exc}") from None
