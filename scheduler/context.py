"""The Config of the Flask app in context, for tasks and web views.

The app factory (scheduler.app.create_app) stores the Config under CONFIG_KEY; everything that
runs inside the app's context reads it from here, so nothing the factory imports imports the
factory back.
"""

from __future__ import annotations

from flask import current_app

from config import Config

CONFIG_KEY = "scout"


def current_config() -> Config:
    """Return the Config of the Flask app in context; raises RuntimeError outside one."""
    config: Config = current_app.extensions[CONFIG_KEY]
    return config
