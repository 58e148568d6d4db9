"""Real `celery worker` processes for tests that need more than the in-process worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery

from config import PROJECT_ROOT

CELERY = str(Path(sys.executable).parent / "celery")


def start_worker(
    env: dict[str, str], log: Path, *, name: str, queues: str = "celery", concurrency: int = 2
) -> subprocess.Popen:
    """Start a worker process named name@%h on queues, logging to log; return it running."""
    return subprocess.Popen(
        [
            CELERY,
            "-A",
            "scheduler.celery_app",
            "worker",
            "--hostname",
            f"{name}@%h",
            "--concurrency",
            str(concurrency),
            "-Q",
            queues,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(client: Celery, count: int, timeout: float = 60) -> list[str]:
    """Return the names of the workers once count of them answer a ping; fails after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = sorted(name for reply in client.control.ping(timeout=0.5) for name in reply)
        if len(names) >= count:
            return names
        time.sleep(0.2)
    raise AssertionError(f"{count} workers did not answer within {timeout}s")


def stop(proc: subprocess.Popen) -> None:
    """SIGKILL the worker's process group (it and its pool) and reap it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
