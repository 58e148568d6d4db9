"""The app under test, built by the factory from a Config the way an entry point builds it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Flask

from config import Config
from scheduler.app import create_app


class AppUnderTest:
    """Holds the Config in force and rebuilds the app (database, mail, Celery) when it changes."""

    def __init__(self, base: Config) -> None:
        self.base = base
        self.config = base
        self.app = create_app(base)

    def update(self, **changes: Any) -> Flask:
        """Rebuild the app from the Config in force with changes; return it."""
        self.config = replace(self.config, **changes)
        self.app = create_app(self.config)
        return self.app

    def reset(self) -> None:
        """Go back to the base Config."""
        if self.config != self.base:
            self.config = self.base
            self.app = create_app(self.base)
