"""Fixtures of the alerts tests."""

from __future__ import annotations

import pytest

from models import Session
from tests.support.alerts import add_game


@pytest.fixture
def catalogue(db: str) -> None:
    """Three games on sale at $4.99, $3.99 and $7.49."""
    with Session.begin() as session:
        add_game(session, 620, "Portal 2", price=499)
        add_game(session, 400, "Portal", price=399)
        add_game(session, 220, "Half-Life 2", price=749)
