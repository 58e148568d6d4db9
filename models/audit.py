"""What admins did to subscribers from the admin console: who, when, which action, on whom.

The subscriber is named by id only, never by address: deleting a subscriber must leave nothing
about them in any table, and an id of a deleted row says nothing about the person. So this
table has no foreign key to subscribers (the row outlives the subscriber it names).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class AdminAction(Base):
    """One admin action on a subscriber: "unsubscribe" or "delete", with what it changed."""

    __tablename__ = "admin_actions"
    __table_args__ = (Index("ix_admin_actions_subscriber_id", "subscriber_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(254))  # the admin's address (ADMIN_EMAILS)
    action: Mapped[str] = mapped_column(String(20))
    subscriber_id: Mapped[int]
    # Counts only (e.g. {"watches": 2, "alerts": 5}): nothing here may identify the person.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
