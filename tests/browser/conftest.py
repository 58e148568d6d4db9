"""Fixtures of the browser tests: the whole service as production runs it, and Chromium.

One stack per database for this folder's tests (starting one takes seconds; pytest runs every
test of one database before it starts the other's, and stops the last when the folder is done),
one fresh browser profile per test. What the
processes printed is kept in instance/browser-logs/<database>/ after each run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config import PROJECT_ROOT
from tests.support import services
from tests.support.browser import Browser, require_browser, start_chrome
from tests.support.stack import Stack, running_stack

LOGS = PROJECT_ROOT / "instance" / "browser-logs"


@pytest.fixture(scope="session")
def chromium() -> None:
    """Chromium and its driver are here (else skip, or fail under CI)."""
    require_browser()


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def stack(
    request: pytest.FixtureRequest, chromium: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The web, a worker, the store and a mail sink on a freshly migrated database."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("browser-db")
        with running_stack(f"sqlite:///{folder / 'scout.db'}", LOGS / "sqlite") as running:
            yield running
        return
    services.require_postgres()
    with services.fresh_postgres_database() as url:
        with running_stack(url, LOGS / "postgresql") as running:
            yield running


@pytest.fixture
def browser(stack: Stack, chromium: None, tmp_path: Path) -> Iterator[Browser]:
    """A fresh headless Chromium (its own profile: no cookie of another test) on the stack."""
    driver = start_chrome(tmp_path / "chromium-profile")
    try:
        yield Browser(driver, stack.url)
    finally:
        driver.quit()
