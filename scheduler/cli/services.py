"""The CLI's doors to the database and the broker, turning outages into one clear line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from config import Config, redact_url
from scheduler.cli.output import CLIError


def cli_config() -> Config:
    """Return the Config of the app this process built, building it from the environment first.

    The scout command builds it from the environment on first use; a caller that built the
    app already (main(config=...), a test) has its Config used.
    """
    from config import get_config
    from scheduler.app import bound_config, create_app

    config = bound_config()
    if config is None:
        config = get_config()
        create_app(config)
    return config


def open_database() -> Config:
    """Bind the database session (and the Celery app) to the CLI's Config; return the Config."""
    return cli_config()


@contextmanager
def transaction() -> Iterator[Any]:
    """One transaction for a command; a WatchError becomes a CLIError and nothing is stored."""
    from models.base import Session
    from scheduler.alerts.inputs import WatchError

    open_database()
    try:
        with Session.begin() as session:
            yield session
    except WatchError as exc:
        raise CLIError(str(exc)) from None


def send_task(name: str, *args: Any, **options: Any) -> Any:
    """Queue task name on the broker; raises CLIError when Redis cannot be reached."""
    import redis
    from kombu.exceptions import OperationalError

    from scheduler.app import celery as app

    config = cli_config()
    where = redact_url(config.redis_url)
    try:  # ask first: Celery's own reconnect loop logs and raises with a traceback
        redis.Redis.from_url(config.redis_url, socket_connect_timeout=3).ping()
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
