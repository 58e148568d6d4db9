"""The web process's WSGI app, for `gunicorn scheduler.web.wsgi:app`: an entry point.

It reads the environment once; a bad setting ends the process with one line naming the
variable (the Procfile preloads the app, so gunicorn's master prints that line and exits). The
web signs sessions and sign-in links, so it refuses to start without SECRET_KEY.
"""

from __future__ import annotations

import gc
import sys

from config import ConfigError, load_config
from scheduler.app import create_app

try:
    config = load_config()
except ConfigError as exc:
    sys.exit(f"web: configuration error: {exc}")
if not config.secret_key:
    sys.exit(
        "web: configuration error: SECRET_KEY is not set: the web process signs sessions and "
        "sign-in links with it (e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
    )
app = create_app(config)
# Everything loaded so far (the app, Celery, SQLAlchemy: some 100,000 objects) lives as long as
# the process: freeze it out of the collector's sight, so a full collection during a request
# walks only what requests made (a watchlist of 500 rows on PostgreSQL, p95 186 ms before, 92
# after, through bench/web_pages.py's test client in one run), and
# the workers gunicorn forks from this preloaded master share those pages instead of copying
# them when the collector touches them (what the gc module's documentation advises).
gc.freeze()
