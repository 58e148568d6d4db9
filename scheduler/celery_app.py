"""The Celery app: Redis as broker and result backend, set up for tasks that run twice safely.

Every task of this project is idempotent by design (see README, "Exactly once"), so the
app-wide defaults are acks_late with reject_on_worker_lost: a worker killed mid-task never
loses the task, and running it again changes nothing that was already done.
"""

from __future__ import annotations

import logging
import sys

from celery import Celery
from celery.signals import worker_process_init

from config import ConfigError, get_config
from models.base import configure_engine, get_engine

try:
    CONFIG = get_config()
except ConfigError as exc:
    sys.exit(f"configuration error: {exc}")

# Redis re-delivers a message that was not acknowledged after this long: it must outlive the
# longest task (a chunk of store pages: hard limit 1 h) and any retry countdown, and it is how
# long the work of a SIGKILLed worker waits before another worker picks it up.
VISIBILITY_TIMEOUT = CONFIG.broker_visibility_timeout
# kombu's Redis transport looks for unacknowledged messages past the visibility timeout only on
# every unacked_restore_throttle-th run of a timer firing every unacked_restore_interval
# seconds: 10 x 10 s by default, so a killed worker's task came back ~100 s late whatever the
# timeout. Scanning on every tick (one ZRANGE) makes redelivery due within timeout + interval.
BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": VISIBILITY_TIMEOUT,
    "unacked_restore_interval": max(1, min(10, VISIBILITY_TIMEOUT // 5)),
    "unacked_restore_throttle": 1,
}

app = Celery("scout", include=["scheduler.tasks"])
app.conf.update(
    broker_url=CONFIG.redis_url,
    result_backend=CONFIG.redis_url,
    broker_connection_retry_on_startup=True,
    broker_transport_options=BROKER_TRANSPORT_OPTIONS,
    result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    timezone=CONFIG.timezone,
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
    task_routes={
        "scheduler.tasks.catalogue.*": {"queue": "scrape"},
        "scheduler.tasks.alerts.send_*": {"queue": "mail"},
    },
    beat_max_loop_interval=CONFIG.beat_max_loop_interval,
    beat_cron_starting_deadline=3600,
)

configure_engine(CONFIG.database_url)


@worker_process_init.connect
def _fresh_connections_after_fork(**_kwargs: object) -> None:
    # A forked child must not reuse the parent's pooled sockets.
    get_engine().dispose(close=False)


logging.getLogger("urllib3").setLevel(logging.WARNING)
