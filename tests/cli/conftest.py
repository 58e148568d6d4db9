"""Fixtures of the CLI tests."""

from __future__ import annotations

import pytest

from models.base import Session
from tests.support.catalogue import add_game


@pytest.fixture
def catalogue(db: str) -> str:
    """Two games in the catalogue: App_440 at 19.99 USD and Sub_54029 at 9.99 USD."""
    with Session.begin() as session:
        add_game(session, 440, 1999, title="Team Fortress 2")
        add_game(session, 54029, 999, kind="sub", title="Orange Box")
    return db
