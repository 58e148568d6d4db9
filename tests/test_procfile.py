"""The Procfile runs beat with the database scheduler, apart from the worker."""

from __future__ import annotations

from celery.utils.imports import symbol_by_name

from scheduler.beat.scheduler import DatabaseScheduler
from tests.support.procfile import processes


def test_beat_runs_the_database_scheduler() -> None:
    beat = processes()["beat"]
    assert beat[:4] == ["celery", "-A", "scheduler.celery_app", "beat"]
    assert symbol_by_name(beat[beat.index("-S") + 1]) is DatabaseScheduler


def test_the_worker_never_runs_an_embedded_beat_and_migrations_run_on_release() -> None:
    procs = processes()
    worker = procs["worker"]
    assert "worker" in worker and "-B" not in worker and "--beat" not in worker
    assert "REMAP_SIGTERM=SIGQUIT" in worker and "-E" in worker
    assert procs["release"] == ["alembic", "upgrade", "head"]
