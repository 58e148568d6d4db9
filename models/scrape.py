"""Scrape runs and the pages each fetched: the record of what worked and what failed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ScrapeRun(Base):
    """One scrape of the catalogue, from the first page to the chord's callback."""

    __tablename__ = "scrape_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # "running" | "ok" | "partial" | "failed"
    status: Mapped[str] = mapped_column(String(10), default="running")
    total_count: Mapped[int | None]
    pages_total: Mapped[int] = mapped_column(default=0)
    pages_ok: Mapped[int] = mapped_column(default=0)
    pages_failed: Mapped[int] = mapped_column(default=0)
    rows_seen: Mapped[int] = mapped_column(default=0)
    rows_new: Mapped[int] = mapped_column(default=0)
    rows_changed: Mapped[int] = mapped_column(default=0)
    rows_bad: Mapped[int] = mapped_column(default=0)
    error_summary: Mapped[str | None] = mapped_column(Text)


class ScrapePage(Base):
    """One search-results page of a run; written once per (run, start), however often retried."""

    __tablename__ = "scrape_pages"
    __table_args__ = (UniqueConstraint("run_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scrape_runs.id", ondelete="CASCADE"))
    start: Mapped[int]
    status: Mapped[str] = mapped_column(String(10))  # "ok" | "failed"
    rows_seen: Mapped[int] = mapped_column(default=0)
    rows_new: Mapped[int] = mapped_column(default=0)
    rows_changed: Mapped[int] = mapped_column(default=0)
    rows_bad: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime]
