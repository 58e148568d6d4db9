"""The CLI's doors to the database and the broker, turning outages into one clear line."""

from __future__ import annotations

from typing import Any

from scheduler.cli.output import CLIError


def open_database() -> None:
    """Bind models.base.Session to the configured database (once per process)."""
    from config import get_config
    from models.base import configure_engine, get_engine

    try:
        get_engine()
    except RuntimeError:
        configure_engine(get_config().database_url)


def send_task(name: str, *args: Any, **options: Any) -> Any:
    """Queue task name on the broker; raises CLIError when Redis cannot be reached."""
    import redis
    from kombu.exceptions import OperationalError

    from scheduler.celery_app import CONFIG, app

    where = redact(CONFIG.redis_url)
    try:  # ask first: Celery's own reconnect loop logs and raises with a traceback
        redis.Redis.from_url(CONFIG.redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise CLIError(f"cannot reach Redis at {where}: {exc}") from None
    try:
        return app.send_task(
            name,
            args=args,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
            **options,
        )
    except (OperationalError, redis.RedisError, RuntimeError) as exc:
        raise CLIError(f"cannot reach Redis at {where}: {exc}") from None


def redact(url: str) -> str:
    """Return url with any password replaced by ***."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
