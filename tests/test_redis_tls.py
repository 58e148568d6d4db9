"""Heroku Redis: a `rediss://` URL with a self-signed certificate carries a real worker and beat."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from scheduler.beat.lock import LOCK_KEY
from storesim.store import SimStore
from tests.support.processes import (
    Proc,
    migrate_with,
    run_scout,
    scout_env,
    start_beat,
    start_worker,
    wait_until,
)
from tests.support.smtp import free_port, make_certificate

pytestmark = pytest.mark.slow


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[str]:
    """A private redis-server that speaks only TLS, with a self-signed certificate; its URL."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    cert, key = make_certificate(tmp_path)
    port = free_port()
    args = ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"]
    args += ["--tls-cert-file", str(cert), "--tls-key-file", str(key)]
    args += ["--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"]
    args += ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    server = Proc(args, {})
    try:
        server.wait_for("Ready to accept connections", timeout=10)
        yield f"rediss://127.0.0.1:{port}/0"
    finally:
        server.stop()


def test_a_worker_and_beat_run_over_rediss_with_a_self_signed_certificate(
    tls_redis: str, tmp_path: Path, store: SimStore
) -> None:
    with pytest.raises(redis.ConnectionError):  # it really is TLS only, and self-signed
        redis.Redis.from_url(tls_redis, ssl_cert_reqs="required", socket_timeout=3).ping()
    env = scout_env(
        REDIS_URL=tls_redis,  # as Heroku sets it: no ssl_cert_reqs in the URL
        DATABASE_URL=f"sqlite:///{tmp_path / 'scout.db'}",
        STORE_URL=store.url,
    )
    env.pop("REDIS_SSL_CERT_REQS", None)
    migrate_with(env)
    worker = start_worker(env)
    beat = start_beat(env)
    try:
        out = run_scout(["scrape", "--wait"], env)
        assert "run 1: ok" in out and "rows seen: 1000" in out
        assert store.request_count == 10
        beat.wait_for("beat lock: acquired", timeout=30)
        client = redis.Redis.from_url(tls_redis, ssl_cert_reqs="none")
        holder = wait_until(lambda: client.get(LOCK_KEY), 10, "the beat lock in the TLS Redis")
        assert str(beat.popen.pid).encode() in holder  # type: ignore[operator]
    finally:
        beat.stop()
        worker.stop()
    assert "Traceback" not in worker.text, worker.text[-3000:]
