"""/admin: what `scout status` shows, refreshed by the browser without JavaScript."""

from __future__ import annotations

from flask import current_app, render_template

from scheduler.context import current_config
from scheduler.status import gather
from scheduler.web.admin import bp

REFRESH_SECONDS = 30


@bp.get("")
def health() -> str:
    """Workers, the beat holding the lock, queues, last runs, prices, problems; Flower's link."""
    config = current_config()
    report = gather(config, current_app.extensions["celery"])
    return render_template(
        "admin_health.html", report=report, flower_url=config.flower_url, refresh=REFRESH_SECONDS
    )
