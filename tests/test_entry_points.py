"""Every process a deploy runs says one line, with no traceback and no secret, on a bad setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import PROJECT_ROOT

BIN = Path(sys.executable).parent
SECRET = "dbpass999"
BAD_SETTINGS = [
    {"DATABASE_URL": f"mysql://postgres:{SECRET}@db.example.com/x"},
    {"DATABASE_URL": f"postgresql://postgres:{SECRET}@db.example.com:abc/x"},
    {"REDIS_URL": f"redis://:{SECRET}@redis.example.com:port/0"},
    {"STORE_RATE_LIMIT": "0/second"},
    {"STORE_PAGE_SIZE": "lots"},
    {"TIMEZONE": "Mars/Olympus"},
    {"MAIL_PORT": "99999999999999999999999"},
]
PROCESSES = {
    "web": [str(BIN / "gunicorn"), "--preload", "--bind", "127.0.0.1:0", "scheduler.web.wsgi:app"],
    "release": [str(BIN / "alembic"), "-c", str(PROJECT_ROOT / "alembic.ini"), "upgrade", "head"],
    "worker": [str(BIN / "celery"), "-A", "scheduler.celery_app", "worker", "--pool", "solo"],
    "beat": [str(BIN / "celery"), "-A", "scheduler.celery_app", "beat"],
    "cli": [str(BIN / "scout"), "games"],
}


@pytest.mark.parametrize("process", sorted(PROCESSES))
@pytest.mark.parametrize("setting", BAD_SETTINGS, ids=lambda s: next(iter(s)))
def test_a_bad_setting_stops_the_process_with_one_line_and_no_secret(process, setting, tmp_path):
    result = subprocess.run(
        PROCESSES[process],
        env={**os.environ, **setting},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0, output
    assert "Traceback" not in output
    assert SECRET not in output
    assert len(output.splitlines()) == 1, output
    assert next(iter(setting)) in output


def run_worker_briefly(log_level: str, tmp_path: Path, seconds: float = 6) -> str:
    """Run the Procfile's kind of worker for a few seconds with LOG_LEVEL; return its output."""
    import signal

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
