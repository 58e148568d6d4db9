"""Test runs share the Redis server by claiming db numbers; a killed run's claim is taken over."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.support.services import REDIS_SERVER, claim


@pytest.fixture
def key() -> Iterator[tuple[redis.Redis, str]]:
    """A lock key of this test's own in db 0, where the claims live; deleted afterwards."""
    admin = redis.Redis.from_url(f"{REDIS_SERVER}/0")
    name = f"scout-test-lock:probe-{uuid.uuid4().hex[:8]}"
    yield admin, name
    admin.delete(name)
    admin.close()


def dead_pid() -> int:
    """Return the id of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_claim_left_by_a_killed_run_is_taken_over(key):
    admin, name = key
    admin.set(name, f"{socket.gethostname()}:{dead_pid()}", ex=60)

    assert claim(admin, name)
    assert admin.get(name) == f"{socket.gethostname()}:{os.getpid()}".encode()
    assert admin.ttl(name) > 3600


def test_a_claim_of_a_live_run_or_another_host_is_left_alone(key):
    admin, name = key
    for holder in (f"{socket.gethostname()}:{os.getppid()}", f"elsewhere:{dead_pid()}", "1234"):
        admin.set(name, holder, ex=60)
        assert not claim(admin, name)
        assert admin.get(name) == holder.encode()
