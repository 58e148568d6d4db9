"""/healthz answers 200 only when the database and Redis answer; the access log keeps no token."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
from urllib.error import HTTPError

from config import PROJECT_ROOT
from tests.support.ports import free_port, wait_for_port


def test_health_check_says_ok_when_the_database_and_redis_answer(sqlite_db, scout_app):
    response = scout_app.app.test_client().get("/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


def test_health_check_fails_when_redis_does_not_answer(sqlite_db, scout_app):
    app = scout_app.update(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.text) == (503, "unavailable: redis\n")
    assert time.monotonic() - started < 5


def test_health_check_fails_when_the_database_does_not_answer(scout_app):
    dead = f"postgresql+psycopg://user:hunter2@127.0.0.1:{free_port()}/scout"
    response = scout_app.update(database_url=dead).test_client().get("/healthz")
    assert (response.status_code, response.text) == (503, "unavailable: database\n")
    assert "hunter2" not in response.text


def web_command(port: int) -> list[str]:
    """Return the Procfile's web command line for port, as the Procfile runs it."""
    line = next(
        line for line in (PROJECT_ROOT / "Procfile").read_text().splitlines() if line[:4] == "web:"
    )
    command = line.partition(":")[2].replace("${PORT:-5000}", str(port))
    command = command.replace("${WEB_CONCURRENCY:-2}", "1")
    return shlex.split(command)


def test_the_access_log_of_the_web_process_keeps_no_token_address_or_query(sqlite_db, tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    bin_dir = os.path.dirname(sys.executable)  # as on Heroku: the app's bin is on PATH
    env = {**os.environ, "DATABASE_URL": sqlite_db, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    with log.open("w") as out:
        web = subprocess.Popen(
            web_command(port), cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(port)
        token = "Zq" + "x" * 40
        for path in (
            f"/unsubscribe/{token}",
            f"/unsubscribe/{token}?utm=1",
            f"/UNSUBSCRIBE/{token}",
            f"/%75nsubscribe/{token}",
            f"/unsubscribe?token={token}",
            f"/sign-in/{token}.abc.def",
            "/?next=/watchlist&email=ann%40example.com",
            "/healthz",
        ):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}",
                headers={"Referer": f"http://127.0.0.1:{port}/unsubscribe/{token}"},
            )
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except HTTPError as exc:
                assert exc.code in (400, 404)
    finally:
        web.terminate()
        web.wait(timeout=30)
    text = log.read_text()
    assert re.search(r'"GET /unsubscribe/\.\.\. HTTP/1\.1" 404', text), text
    assert '"GET /healthz HTTP/1.1" 200' in text
    assert "xxxxxxxx" not in text and "ann" not in text and "example.com" not in text
    assert '"GET /?next=...&email=... HTTP/1.1" 200' in text
