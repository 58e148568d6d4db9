"""Running scout in this process, and counting what a command stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.alert import Alert, Subscriber, WatchEntry
from models.base import Session
from scheduler.cli import main

ANN = "ann@example.com"


def scout(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run one scout command in this process; return (status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def counts() -> tuple[int, int, int]:
    """Return how many subscribers, watch entries and alerts are stored."""
    with Session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (Subscriber, WatchEntry, Alert)
        )
