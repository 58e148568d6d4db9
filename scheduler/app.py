"""The app factory: one Flask app (mail, web) built from a Config, with the Celery app bound to it.

As in Flask's own Celery example, tasks run inside the Flask app's context, so Flask-Mail and
the settings are there for them; nothing here reads the environment. Entry points (the Celery
app module, the web process, the CLI, Alembic) load a Config and call ``create_app``; tests build
a Config and do the same.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask
from flask_mail import Mail
from kombu.utils.objects import cached_property

from config import Config
from models.base import configure_engine, get_engine
from scheduler.context import CONFIG_KEY, current_config

__all__ = ["celery", "create_app", "bound_config", "current_config", "bound_flask_app"]


class FlaskTask(Task[Any, Any]):
    """A task that runs inside the app context of the Flask app the Celery app is bound to."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with bound_flask_app().app_context():
            return self.run(*args, **kwargs)


class ScoutCelery(Celery):
    """The Celery app, with the Flask app create_app bound it to."""

    flask_app: Flask | None = None

    @cached_property
    def Beat(self) -> Any:  # noqa: N802 (celery's name)
        """`celery beat`, stopping between calls on SIGTERM (scheduler.beat.stopping)."""
        from scheduler.beat.stopping import StoppableBeat

        return self.subclass_with_self(StoppableBeat)


celery = ScoutCelery("scout", task_cls=FlaskTask, include=["scheduler.tasks"])


def bound_flask_app() -> Flask:
    """Return the Flask app the Celery app is bound to; raises RuntimeError before create_app."""
    if celery.flask_app is None:
        raise RuntimeError("no app: call scheduler.app.create_app(config) first")
    return celery.flask_app


def create_app(config: Config) -> Flask:
    """Return the Flask app for config, with the database, Flask-Mail and the Celery app bound."""
    from scheduler import web

    app = Flask("scheduler.web")
    app.config.update(mail_settings(config))
    app.extensions[CONFIG_KEY] = config
    Mail(app)
    web.init_app(app, config)
    configure_engine(config.database_url)
    configure_celery(celery, config)
    celery.flask_app = app
    app.extensions["celery"] = celery
    return app


def bound_config() -> Config | None:
    """Return the Config of the app the Celery app is bound to, or None before create_app."""
    if celery.flask_app is None:
        return None
    config: Config = celery.flask_app.extensions[CONFIG_KEY]
    return config


def mail_settings(config: Config) -> dict[str, Any]:
    """Return Flask-Mail's settings for config."""
    return {
        "MAIL_SERVER": config.mail_server,
        "MAIL_PORT": config.mail_port,
        "MAIL_USE_TLS": config.mail_use_tls,
        "MAIL_USE_SSL": config.mail_use_ssl,
        "MAIL_USERNAME": config.mail_username,
        "MAIL_PASSWORD": config.mail_password,
        "MAIL_DEFAULT_SENDER": config.mail_default_sender,
        "MAIL_TIMEOUT": config.mail_timeout,
        "MAIL_CA_FILE": config.mail_ca_file,
    }


def configure_celery(app: Celery[Any], config: Config) -> None:
    """Set app up for tasks that run twice safely, on Redis as broker and result backend.

    Every task of this project is idempotent by design (see README, "Exactly once"), so the
    app-wide defaults are acks_late with reject_on_worker_lost: a worker killed mid-task never
    loses the task, and running it again changes nothing that was already done.
    """
    # Redis re-delivers a message that was not acknowledged after this long: it must outlive
    # the longest task (a chunk of store pages: hard limit 1 h) and any retry countdown, and it
    # is how long the work of a SIGKILLed worker waits before another worker picks it up.
    timeout = config.broker_visibility_timeout
    # kombu's Redis transport looks for unacknowledged messages past the visibility timeout only
    # on every unacked_restore_throttle-th run of a timer firing every unacked_restore_interval
    # seconds: 10 x 10 s by default, so a killed worker's task came back ~100 s late whatever
    # the timeout. Scanning on every tick (one ZRANGE) makes redelivery due within timeout +
    # interval.
    transport = {
        "visibility_timeout": timeout,
        "unacked_restore_interval": max(1, min(10, timeout // 5)),
        "unacked_restore_throttle": 1,
    }
    app.conf.update(
        broker_url=config.redis_url,
        result_backend=config.redis_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport,
        result_backend_transport_options={"visibility_timeout": timeout},
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone=config.timezone,
        enable_utc=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        worker_send_task_events=True,
        task_send_sent_event=True,
        result_expires=7 * 86400,
        result_chord_expires=7 * 86400,
        result_extended=True,
        worker_soft_shutdown_timeout=20.0,
        worker_enable_soft_shutdown_on_idle=True,
        worker_hijack_root_logger=True,
        task_default_queue="celery",
        # An exact name wins over a pattern: the stalled-scrapes sweep runs on `celery` with
        # the other sweeps (README, "Scaling out"), not behind a long scrape's pages.
        task_routes={
            "scheduler.tasks.catalogue.close_stalled_scrapes": {"queue": "celery"},
            "scheduler.tasks.catalogue.*": {"queue": "scrape"},
            "scheduler.tasks.alerts.send_*": {"queue": "mail"},
            "scheduler.tasks.accounts.send_*": {"queue": "mail"},
        },
        beat_max_loop_interval=config.beat_max_loop_interval,
        beat_cron_starting_deadline=3600,
    )


@worker_process_init.connect
def _fresh_connections_after_fork(**_kwargs: object) -> None:
    # A forked child must not reuse the parent's pooled sockets.
    get_engine().dispose(close=False)


logging.getLogger("urllib3").setLevel(logging.WARNING)
