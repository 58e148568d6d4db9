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
