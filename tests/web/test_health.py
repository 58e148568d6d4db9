"""/healthz answers 200 only when the database (migrated) and Redis answer within 2 s; the access
log keeps no token."""

from __future__ import annotations

import os
import re
import shlex
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.error import HTTPError

from alembic import command
from alembic.script import ScriptDirectory
from flask import Flask

from config import PROJECT_ROOT
from tests.support import services
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


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def timed_health(app: Flask) -> tuple[int, str, float]:
    started = time.monotonic()
    response = app.test_client().get("/healthz")
    return response.status_code, response.text, time.monotonic() - started


# The README promises an answer within 2 s; before, a silent database took its 5 s
# connect_timeout and a silent Redis its 2 s after that. 4.5 s leaves a busy machine room.
WITHIN = 4.5


def test_a_database_that_accepts_and_never_answers_gets_503_within_the_2s_budget(scout_app):
    with silent_listener() as port:
        app = scout_app.update(database_url=f"postgresql+psycopg://u:pw@127.0.0.1:{port}/x")
        status, text, seconds = timed_health(app)
    assert (status, text) == (503, "unavailable: database\n")
    assert seconds < WITHIN


def test_a_silent_database_and_a_silent_redis_are_checked_at_once(scout_app):
    with silent_listener() as db_port, silent_listener() as redis_port:
        app = scout_app.update(
            database_url=f"postgresql+psycopg://u:pw@127.0.0.1:{db_port}/x",
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
        )
        status, text, seconds = timed_health(app)
    assert (status, text) == (503, "unavailable: database, redis\n")
    assert seconds < WITHIN


def test_an_unmigrated_database_is_reported_not_migrated(scout_app, tmp_path):
    sqlite3.connect(tmp_path / "empty.db").close()
    app = scout_app.update(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.text) == (503, "unavailable: database (not migrated)\n")


def test_a_database_behind_the_newest_migration_is_reported_not_migrated(scout_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    script = ScriptDirectory.from_config(services.alembic_config(url))
    older = script.get_revision(script.get_current_head()).down_revision
    command.upgrade(services.alembic_config(url), str(older))  # the release step failed after
    response = scout_app.update(database_url=url).test_client().get("/healthz")
    assert (response.status_code, response.text) == (503, "unavailable: database (not migrated)\n")


def test_a_missing_sqlite_file_is_not_migrated_and_is_not_created(scout_app, tmp_path):
    app = scout_app.update(database_url=f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.text) == (503, "unavailable: database (not migrated)\n")
    assert not (tmp_path / "missing").exists()
