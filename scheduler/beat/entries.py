"""The schedule in the database: seed defaults, validated edits with their log, runs, changes.

Every edit writes a ScheduleEdit row whose version is one more than the highest committed one;
the unique index makes a concurrent editor fail and retry, so versions commit in order and
beat reloads exactly the entries named by edits newer than the version it has seen.
Helpers take the session first and never commit; `in_transaction` runs one unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as SessionType

from models.base import Session
from models.schedule import ScheduleEdit, ScheduleEntry
from scheduler.beat.calls import CallRules, check_text, short
from scheduler.beat.spec import as_spec, check_fields, check_name, set_timing
from scheduler.beat.timing import ScheduleError, Timing, parse_timing

T = TypeVar("T")


class EntryNotFound(ScheduleError):
    """No schedule entry has this name."""


def in_transaction(work: Callable[[SessionType], T], attempts: int = 3) -> T:
    """Run work(session) in one transaction, retrying when a concurrent edit took the version."""
    for attempt in range(attempts):
        try:
            with Session.begin() as session:
                return work(session)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def current_version(session: SessionType) -> int:
    """Return the highest committed schedule version (0 before any edit)."""
    return session.scalar(select(func.max(ScheduleEdit.version))) or 0


def log_edit(
    session: SessionType,
    name: str,
    action: str,
    by: str,
    at: datetime,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> ScheduleEdit:
    """Add an edit row with the next version; raises ScheduleError for a bad `by`."""
    check_text("by", by[:120], 120)
    edit = ScheduleEdit(
        version=current_version(session) + 1,
        at=at,
        by=by[:120],
        entry_name=name,
        action=action,
        before=before,
        after=after,
    )
    session.add(edit)
    session.flush()
    return edit


def get_entry(session: SessionType, name: str) -> ScheduleEntry:
    """Return the entry called name; raises EntryNotFound."""
    try:
        check_name(name)
    except ScheduleError:
        raise EntryNotFound(f"no schedule entry named {short(name)}") from None
    entry = session.scalar(select(ScheduleEntry).where(ScheduleEntry.name == name))
    if entry is None:
        raise EntryNotFound(f"no schedule entry named {name!r} (see `scout schedule list`)")
    return entry


def add_entry(
    session: SessionType,
    name: str,
    spec: Mapping[str, Any],
    by: str,
    at: datetime,
    rules: CallRules | None,
    action: str = "add",
) -> ScheduleEntry:
    """Validate and add an entry from plain data; raises ScheduleError if the name is taken."""
    timing = parse_timing(spec.get("schedule", {}))
    args, kwargs = spec.get("args", []), spec.get("kwargs", {})
    options = spec.get("options", {})
    check_fields(name, spec.get("task", ""), args, kwargs, options, rules)
    if session.scalar(select(ScheduleEntry.id).where(ScheduleEntry.name == name)):
        raise ScheduleError(f"a schedule entry named {name!r} already exists")
    entry = ScheduleEntry(
        name=name,
        task=spec["task"],
        args=args,
        kwargs=kwargs,
        options=options,
        enabled=bool(spec.get("enabled", True)),
        run_count=0,
        anchored_at=at,
        created_at=at,
        updated_at=at,
    )
    set_timing(entry, timing)
    session.add(entry)
    session.flush()
    log_edit(session, name, action, by, at, None, as_spec(entry))
    return entry


def seed_defaults(
    session: SessionType,
    defaults: Mapping[str, Mapping[str, Any]],
    by: str,
    at: datetime,
    rules: CallRules | None = None,
) -> list[str]:
    """Add the defaults no entry or edit has named yet; returns the names added.

    An existing entry is never touched, and a default an admin removed stays removed (its
    edits remain): `scout schedule add` brings it back.
    """
    existing = set(session.scalars(select(ScheduleEntry.name)))
    existing |= set(session.scalars(select(ScheduleEdit.entry_name).distinct()))
    added = []
    for name, spec in defaults.items():
        if name not in existing:
            add_entry(session, name, spec, by, at, rules, action="seed")
            added.append(name)
    return added


def edit_entry(
    session: SessionType,
    name: str,
    by: str,
    at: datetime,
    timing: Timing | None = None,
    enabled: bool | None = None,
) -> ScheduleEntry:
    """Change the schedule or enabled flag; either change re-anchors so nothing fires at once."""
    entry = get_entry(session, name)
    before = as_spec(entry)
    if timing is not None:
        set_timing(entry, timing)
        entry.anchored_at = at
    if enabled is not None:
        if enabled and not entry.enabled:
            entry.anchored_at = at
        entry.enabled = enabled
    action = "set" if timing is not None else ("enable" if enabled else "disable")
    entry.updated_at = at
    session.flush()
    log_edit(session, name, action, by, at, before, as_spec(entry))
    return entry


def update_call(
    session: SessionType,
    name: str,
    by: str,
    at: datetime,
    changes: Mapping[str, Any],
    rules: CallRules | None,
) -> ScheduleEntry:
    """Change task, args, kwargs or options (validated); the entry keeps its rhythm."""
    entry = get_entry(session, name)
    before = as_spec(entry)
    merged = {key: changes.get(key, before[key]) for key in ("task", "args", "kwargs", "options")}
    check_fields(name, merged["task"], merged["args"], merged["kwargs"], merged["options"], rules)
    for key, value in merged.items():
        setattr(entry, key, value)
    entry.updated_at = at
    session.flush()
    log_edit(session, name, "update", by, at, before, as_spec(entry))
    return entry


def remove_entry(session: SessionType, name: str, by: str, at: datetime) -> None:
    """Delete the entry and log it; raises EntryNotFound."""
    entry = get_entry(session, name)
    before = as_spec(entry)
    session.delete(entry)
    session.flush()
    log_edit(session, name, "remove", by, at, before, None)


def record_run(session: SessionType, name: str, at: datetime, task_id: str | None = None) -> bool:
    """Store that beat sent the task (id task_id) at `at`, never moving last_run_at back;
    True if stored."""
    if session.get_bind().dialect.name == "postgresql":
        # Survives a beat crash once committed; only a database crash in the next fraction of
        # a second could lose it, costing one repeated send, never a skipped run.
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    result = session.execute(
        update(ScheduleEntry)
        .where(ScheduleEntry.name == name)
        .where((ScheduleEntry.last_run_at.is_(None)) | (ScheduleEntry.last_run_at < at))
        .values(last_run_at=at, run_count=ScheduleEntry.run_count + 1, last_task_id=task_id)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


def changes_since(session: SessionType, version: int) -> tuple[int, set[str]]:
    """Return the newest version and the names edited after `version` (one index probe if none)."""
    newest = current_version(session)
    if newest <= version:
        return version, set()
    rows = session.execute(
        select(ScheduleEdit.entry_name)
        .where(ScheduleEdit.version > version)
        .where(ScheduleEdit.version <= newest)
    ).scalars()
    return newest, set(rows)


def entries_named(session: SessionType, names: Iterable[str]) -> list[ScheduleEntry]:
    """Return the rows for these names (missing names were removed), in chunks of 500."""
    names = sorted(names)
    found: list[ScheduleEntry] = []
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        found.extend(session.scalars(select(ScheduleEntry).where(ScheduleEntry.name.in_(chunk))))
    return found


def all_entries(session: SessionType) -> list[ScheduleEntry]:
    """Return every entry, by name."""
    return list(session.scalars(select(ScheduleEntry).order_by(ScheduleEntry.name)))


def edit_history(
    session: SessionType, name: str | None = None, limit: int = 50
) -> list[ScheduleEdit]:
    """Return the newest edits first, optionally for one entry."""
    query = select(ScheduleEdit).order_by(ScheduleEdit.version.desc()).limit(limit)
    if name:
        query = query.where(ScheduleEdit.entry_name == name)
    return list(session.scalars(query))
