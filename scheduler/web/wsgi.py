"""The web process's WSGI app, for `gunicorn scheduler.web.wsgi:app`: an entry point.

It reads the environment once; a bad setting ends the process with one line naming the
variable (the Procfile preloads the app, so gunicorn's master prints that line and exits).
"""

from __future__ import annotations

import sys

from config import ConfigError, load_config
from scheduler.app import create_app

try:
    app = create_app(load_config())
except ConfigError as exc:
    sys.exit(f"web: configuration error: {exc}")
