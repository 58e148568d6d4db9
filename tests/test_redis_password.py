"""A Redis that asks for a password: REDIS_URL as providers write it carries a real worker and beat.

The password is given in the query (?password=, which redis-py reads and kombu choked on) or
before the host with an unencoded @; either way it never shows in any output, even while
Redis is down.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from scheduler.beat.lock import LOCK_KEY
from storesim.store import SimStore
from tests.support.processes import (
    BIN,
    Proc,
    migrate_with,
    run_scout,
    scout_env,
    start_beat,
    start_worker,
    wait_until,
)
from tests.support.smtp import free_port

pytestmark = pytest.mark.slow
SECRET = "s3cret-Zq8"
FORMS = {
    # (the server's password, REDIS_URL as an admin may paste it; {port} filled in)
    "query": (
        f"p@ss:{SECRET}/?&",
        "redis://127.0.0.1:{port}/0?password=p%40ss%3A" + SECRET + "%2F%3F%26",
    ),
    "at-in-password": (f"p@ss:{SECRET}", "redis://:p@ss:" + SECRET + "@127.0.0.1:{port}/0"),
}


@pytest.fixture(params=sorted(FORMS))
def password_redis(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Proc, str, str]]:
    """A private redis-server that refuses clients without its password; (it, password, URL)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    password, url = FORMS[request.param]
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--requirepass", password, "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    server = Proc(args, {})
    try:
        server.wait_for("Ready to accept connections", timeout=10)
        yield server, password, url.format(port=port)
    finally:
        server.stop()


def test_a_worker_and_beat_run_on_a_redis_with_a_password_and_never_show_it(
    password_redis: tuple[Proc, str, str], tmp_path: Path, store: SimStore
) -> None:
    server, password, url = password_redis
    port = int(url.split("127.0.0.1:")[1].split("/")[0])
    with pytest.raises(redis.AuthenticationError):  # it really wants the password
        redis.Redis(port=port, socket_timeout=3).ping()
    env = scout_env(
        REDIS_URL=url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'scout.db'}",
        STORE_URL=store.url,
    )
    migrate_with(env)
    worker = start_worker(env)
    beat = start_beat(env)
    outputs = []
    try:
        outputs.append(run_scout(["scrape", "--wait"], env))
        assert "run 1: ok" in outputs[-1] and "rows seen: 1000" in outputs[-1]
        beat.wait_for("beat lock: acquired", timeout=60)
        client = redis.Redis(port=port, password=password)
        wait_until(lambda: client.get(LOCK_KEY), 30, "the beat lock in the password Redis")
        status = subprocess.run(
            [str(BIN / "scout"), "status"], env=env, capture_output=True, text=True, timeout=60
        )
        outputs.append(status.stdout + status.stderr)
        assert "workers: worker1@" in outputs[-1], outputs[-1]
        server.stop()  # Redis goes away: every process says so, still without the password
        worker.wait_for("Cannot connect to redis://", timeout=60)
        beat.wait_for("Redis unreachable", timeout=60)
        down = subprocess.run(
            [str(BIN / "scout"), "scrape"], env=env, capture_output=True, text=True, timeout=60
        )
        outputs.append(down.stdout + down.stderr)
        assert (
            down.returncode == 1
            and f"cannot reach Redis at redis://:***@127.0.0.1:{port}/0" in (down.stderr)
        )
    finally:
        beat.stop()
        worker.stop()
    for text in [*outputs, worker.text, beat.text]:
        assert SECRET not in text, text[-3000:]
    assert "Traceback" not in worker.text, worker.text[-3000:]
