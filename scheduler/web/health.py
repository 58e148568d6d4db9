"""GET /healthz: 200 when the database (migrated) and Redis answer within 2 s, else 503."""

from __future__ import annotations

from flask import Blueprint, Response

from scheduler.context import current_config
from scheduler.health import check_services

bp = Blueprint("health", __name__)
HEALTH_TIMEOUT = 2.0  # seconds: a health check must answer before the router gives up


@bp.get("/healthz")
def healthz() -> Response:
    """Return 200 'ok' when the database (migrated) and Redis both answer within
    HEALTH_TIMEOUT, else 503 naming what did not (scheduler.health.check_services)."""
    down = check_services(current_config().redis_url, HEALTH_TIMEOUT)
    if down:
        return Response(f"unavailable: {', '.join(down)}\n", status=503, mimetype="text/plain")
    return Response("ok\n", mimetype="text/plain")
