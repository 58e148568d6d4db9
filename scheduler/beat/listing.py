"""The schedule as the admin console lists it: one page of entries, each with its schedule in
words, next run, daylight-saving notes and the id of the task beat last sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.schedule import ScheduleEntry
from scheduler.beat import dst, view
from scheduler.beat.calls import CallRules
from scheduler.beat.spec import timing_of
from scheduler.paging import Page, page_of

MAX_QUERY = 200  # an entry name has at most 200 characters


def entry_view(
    entry: ScheduleEntry, tz: ZoneInfo, rules: CallRules | None, now: datetime
) -> dict[str, Any]:
    """Return view.entry_row's row for entry, with its daylight-saving notes and last task id."""
    row = view.entry_row(entry, tz, rules)
    row["dst"] = dst.notes(timing_of(entry), tz, now)
    row["last_task_id"] = entry.last_task_id
    row["cron"] = " ".join(timing_of(entry).cron or ()) or None
    return row


def schedule_page(
    session: Session,
    *,
    tz: ZoneInfo,
    rules: CallRules | None,
    now: datetime,
    number: int,
    size: int,
    query: str = "",
) -> Page[dict[str, Any]]:
    """Return page `number` of the entries (by name; those whose name holds query)."""
    entries = select(ScheduleEntry).order_by(ScheduleEntry.name)
    text = query.strip()[:MAX_QUERY].lower()
    if text:
        entries = entries.where(func.lower(ScheduleEntry.name).contains(text, autoescape=True))
    page = page_of(session, entries, number, size)
    rows = [entry_view(entry, tz, rules, now) for entry in page.items]
    return Page(rows, page.number, page.size, page.total)
