"""The beat schedule in the database: its entries and the log of every edit made to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Dialect, Index, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from models.base import Base


@dataclass(frozen=True)
class UnreadableJSON:
    """What a JSON column holds when its stored text is not JSON (SQLite, edited by hand)."""

    text: str
    error: str


class LenientJSON(TypeDecorator[Any]):
    """JSON that reads a value which is not JSON as UnreadableJSON instead of failing the query.

    SQLite keeps JSON as text, so a row written by hand may hold anything; one such row must
    not stop every other entry from loading (beat skips it, `scout schedule` says why).
    """

    impl = JSON
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        parse = super().result_processor(dialect, coltype)
        if parse is None:  # the driver parses JSON itself (PostgreSQL keeps it valid)
            return None

        def process(value: Any) -> Any:
            try:
                return parse(value)
            except (ValueError, TypeError) as exc:  # not JSON, or not text at all
                return UnreadableJSON(str(value), str(exc))

        return process


class ScheduleEntry(Base):
    """One periodic task: a crontab (five fields, app timezone) or an interval in seconds.

    Runs are counted from the later of last_run_at (when beat last sent the task) and
    anchored_at (when the entry was created, its schedule changed or it was re-enabled),
    so an edit never makes an entry fire at once.
    """

    __tablename__ = "schedule_entries"
    __table_args__ = (
        CheckConstraint("(interval_seconds IS NULL) <> (cron_minute IS NULL)", name="one_schedule"),
        CheckConstraint(
            "interval_seconds IS NULL OR interval_seconds > 0", name="positive_interval"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    task: Mapped[str] = mapped_column(String(200))
    cron_minute: Mapped[str | None] = mapped_column(String(64))
    cron_hour: Mapped[str | None] = mapped_column(String(64))
    cron_day_of_month: Mapped[str | None] = mapped_column(String(64))
    cron_month_of_year: Mapped[str | None] = mapped_column(String(64))
    cron_day_of_week: Mapped[str | None] = mapped_column(String(64))
    interval_seconds: Mapped[int | None]
    args: Mapped[list[Any]] = mapped_column(LenientJSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(LenientJSON, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(LenientJSON, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    last_run_at: Mapped[datetime | None]
    run_count: Mapped[int] = mapped_column(default=0)
    anchored_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The id of the task beat sent at last_run_at: how that run ended (the admin console).
    last_task_id: Mapped[str | None] = mapped_column(String(64))


class ScheduleEdit(Base):
    """One change to the schedule: who, when, before and after; version orders the changes.

    version is unique and grows by one per edit in commit order, so beat reloads exactly the
    entries named by edits newer than the version it last saw.
    """

    __tablename__ = "schedule_edits"
    __table_args__ = (Index("ix_schedule_edits_entry_name", "entry_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(120))
    entry_name: Mapped[str] = mapped_column(String(200))
    # "seed" | "add" | "set" | "update" | "enable" | "disable" | "remove" | "run"
    action: Mapped[str] = mapped_column(String(10))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
