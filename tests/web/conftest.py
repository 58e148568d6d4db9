"""Fixtures of the web's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def fresh_web_limits(scout_app) -> Iterator[None]:
    """Every test starts with no hit counted against the web's limits (they live in Redis)."""
    scout_app.app.extensions["scout-web-limits"].limiter.storage.reset()
    yield
