"""GET /healthz: 200 when the database and Redis both answer within 2 s, else 503 naming which."""

from __future__ import annotations

from flask import Blueprint, Response

from scheduler.context import current_config
from scheduler.health import ping_database, ping_redis

bp = Blueprint("health", __name__)
HEALTH_TIMEOUT = 2.0  # seconds: a health check must answer before the router gives up


@bp.get("/healthz")
def healthz() -> Response:
    """Return 200 'ok' when the database and Redis both answer, else 503 naming which did not."""
    config = current_config()
    down = [
        name
        for name, answers in (
            ("database", lambda: ping_database(HEALTH_TIMEOUT)),
            ("redis", lambda: ping_redis(config.redis_url, HEALTH_TIMEOUT)),
        )
        if not answers()
    ]
    if down:
        return Response(f"unavailable: {', '.join(down)}\n", status=503, mimetype="text/plain")
    return Response("ok\n", mimetype="text/plain")
