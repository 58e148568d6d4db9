"""Every process a deploy runs says one line, with no traceback and no secret, on a bad setting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from config import PROJECT_ROOT

BIN = Path(sys.executable).parent
SECRET = "dbpass999"
BAD_SETTINGS = {
    "db-scheme": {"DATABASE_URL": f"mysql://postgres:{SECRET}@db.example.com/x"},
    "db-port": {"DATABASE_URL": f"postgresql://postgres:{SECRET}@db.example.com:abc/x"},
    # An empty port was a ValueError traceback everywhere; port 0 silently meant 5432.
    "db-empty-port": {"DATABASE_URL": f"postgresql://u:{SECRET}@127.0.0.1:/x"},
    "db-port-0": {"DATABASE_URL": f"postgresql://u:{SECRET}@127.0.0.1:0/x"},
    # An unencoded @: SQLAlchemy and libpq took "dbpass999@127.0.0.1" for the host.
    "db-at-in-password": {"DATABASE_URL": f"postgresql://u:p@{SECRET}@127.0.0.1:1/x"},
    "redis-port": {"REDIS_URL": f"redis://:{SECRET}@redis.example.com:port/0"},
    "redis-query": {"REDIS_URL": f"redis://127.0.0.1:6379/9?password={SECRET}&socket_timeout=5"},
    "rate": {"STORE_RATE_LIMIT": "0/second"},
    "rate-overflow": {"STORE_RATE_LIMIT": "5/1000000000000days"},
    "page-size": {"STORE_PAGE_SIZE": "lots"},
    "timezone": {"TIMEZONE": "Mars/Olympus"},
    "mail-port": {"MAIL_PORT": "99999999999999999999999"},
    "flower-auth": {"FLOWER_BASIC_AUTH": f"admin:{SECRET},ops:"},
}
# The six entry points a deploy or an admin runs, and one more scout command.
PROCESSES = {
    "web": [str(BIN / "gunicorn"), "--preload", "--bind", "127.0.0.1:0", "scheduler.web.wsgi:app"],
    "release": [str(BIN / "alembic"), "-c", str(PROJECT_ROOT / "alembic.ini"), "upgrade", "head"],
    "worker": [str(BIN / "celery"), "-A", "scheduler.celery_app", "worker", "--pool", "solo"],
    "beat": [
        *(str(BIN / "celery"), "-A", "scheduler.celery_app", "beat"),
        *("-S", "scheduler.beat.scheduler:DatabaseScheduler"),
    ],
    "status": [str(BIN / "scout"), "status"],
    "migrate": [str(BIN / "scout"), "migrate"],
    "cli": [str(BIN / "scout"), "games"],
}


def stop(process: subprocess.Popen, sig: int) -> None:
    """Signal the process's group (gunicorn's workers too) and reap it; SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


@pytest.mark.parametrize("setting", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_a_bad_setting_stops_every_process_with_one_line_and_no_secret(setting, tmp_path):
    # The processes run side by side: one at a time, this matrix took three minutes.
    running = {
        name: subprocess.Popen(
            args,
            env={**os.environ, **setting},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        for name, args in PROCESSES.items()
    }
    try:
        outputs = {name: p.communicate(timeout=120)[0].strip() for name, p in running.items()}
    finally:  # a process that took the setting runs on: it must not outlive the test
        for process in running.values():
            stop(process, signal.SIGKILL)
    for name, output in outputs.items():
        shown = f"{name}: {output[-2000:]}"
        assert running[name].returncode != 0, shown
        assert "Traceback" not in output, shown
        assert SECRET not in output, shown
        assert len(output.splitlines()) == 1, shown
        assert next(iter(setting)) in output, shown


def run_worker_briefly(log_level: str, tmp_path: Path, seconds: float = 6) -> str:
    """Run the Procfile's kind of worker for a few seconds with LOG_LEVEL; return its output."""
    log = tmp_path / f"worker-{log_level}.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [*PROCESSES["worker"], "-Q", f"log-level-probe-{os.getpid()}"],
            env={**os.environ, "LOG_LEVEL": log_level},
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            worker.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    return log.read_text()


def test_log_level_rules_the_worker_without_a_loglevel_option(tmp_path):
    assert "--loglevel" not in (PROJECT_ROOT / "Procfile").read_text()
    assert "DEBUG/" in run_worker_briefly("DEBUG", tmp_path)
    quiet = run_worker_briefly("WARNING", tmp_path)
    assert "INFO/" not in quiet and "DEBUG/" not in quiet, quiet


# What each long-running process prints once it has tried the service that is out of reach;
# the others end on their own.
REDIS_TRIED = {
    "worker": "Cannot connect to redis://",
    "beat": "Redis unreachable",
    "web": "Booting",
}
DATABASE_TRIED = {"worker": " ready.", "web": "Booting", "beat": "could not read the schedule"}


def outputs_once_tried(
    setting: dict[str, str], tried: dict[str, str], tmp_path: Path
) -> dict[str, str]:
    """Run the six entry points side by side with setting; return what each printed."""
    from tests.support.processes import wait_until

    env = {**os.environ, **setting, "PYTHONUNBUFFERED": "1"}
    logs = {name: tmp_path / f"{name}.log" for name in PROCESSES if name != "cli"}
    running = {}
    for name, log in logs.items():
        with log.open("w") as out:
            running[name] = subprocess.Popen(
                PROCESSES[name],
                env=env,
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    try:
        for name, process in running.items():
            if name in tried:
                wait_until(lambda n=name: tried[n] in logs[n].read_text(), 90, f"{name} to try")
            else:
                process.wait(timeout=90)
    finally:
        for process in running.values():
            stop(process, signal.SIGTERM)
    return {name: log.read_text() for name, log in logs.items()}


@pytest.mark.parametrize(
    "url",
    [f"redis://127.0.0.1:1/9?password={SECRET}", f"redis://:p@{SECRET}@127.0.0.1:1/9"],
    ids=["query", "at-in-password"],
)
def test_redis_out_of_reach_is_named_in_every_process_without_its_password(url, tmp_path):
    # ?password= passed the check, then worker, beat and scout status ended in kombu's
    # "TypeError: dict() got multiple values for keyword argument 'password'".
    outputs = outputs_once_tried({"REDIS_URL": url}, REDIS_TRIED, tmp_path)
    for name, output in outputs.items():
        assert SECRET not in output, f"{name}: {output[-3000:]}"
        assert "Traceback" not in output, f"{name}: {output[-3000:]}"
        if name in ("status", "worker"):
            assert "127.0.0.1:1" in output, f"{name}: {output[-3000:]}"


def test_a_password_in_a_database_urls_query_never_shows_when_the_database_is_out_of_reach(
    tmp_path,
):
    # alembic's FAILED line and scout migrate printed "...?password=dbpass999" whole.
    setting = {"DATABASE_URL": f"postgresql://u@127.0.0.1:1/x?password={SECRET}"}
    outputs = outputs_once_tried(setting, DATABASE_TRIED, tmp_path)
    for name, output in outputs.items():
        assert SECRET not in output, f"{name}: {output[-3000:]}"
    for name in ("release", "migrate"):
        assert "cannot reach the database at postgresql+psycopg://u@127.0.0.1:1/x" in outputs[name]
