"""The Celery app for `celery -A scheduler.celery_app worker|beat`: an entry point.

It reads the environment once, builds the Flask app from that Config and exposes the Celery
app bound to it. A bad setting ends the process with one line naming the variable.
"""

from __future__ import annotations

import logging
import sys

from celery.signals import after_setup_logger, after_setup_task_logger

from config import ConfigError, get_config
from scheduler.app import celery as app
from scheduler.app import create_app

try:
    CONFIG = get_config()
except ConfigError as exc:
    sys.exit(f"configuration error: {exc}")

flask_app = create_app(CONFIG)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _apply_log_level(logger: logging.Logger, **_kwargs: object) -> None:
    # LOG_LEVEL rules the worker and beat; the Procfile passes no --loglevel of its own.
    logger.setLevel(CONFIG.log_level)


__all__ = ["CONFIG", "app", "flask_app"]
