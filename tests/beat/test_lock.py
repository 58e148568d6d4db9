"""The beat lock and the edit nudge, on the test run's real Redis db."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from scheduler.beat import lock as beat_lock
from scheduler.beat.lock import BeatLock, NudgeListener, nudge


@pytest.fixture
def key(redis_client: redis.Redis) -> Iterator[str]:
    name = f"scout:test:lock:{uuid.uuid4().hex[:8]}"
    yield name
    redis_client.delete(name)


@pytest.fixture
def listener(redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> NudgeListener:
    """A NudgeListener that Redis has subscribed, on a channel of this test's own.

    Pub/sub channels ignore the db number, so every test run on this Redis server (and any
    beat they start) nudges the same channel: only a channel of its own lets a test say that
    nothing nudged. Subscribed means Redis says so, not that 50 ms went by.
    """
    channel = f"{beat_lock.NUDGE_CHANNEL}:test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(beat_lock, "NUDGE_CHANNEL", channel)
    waiting = NudgeListener(redis_client)
    waiting.wait(0)  # subscribes
    deadline = time.monotonic() + 30
    while not redis_client.pubsub_numsub(channel)[0][1]:
        assert time.monotonic() < deadline, "Redis did not subscribe the listener in 30 s"
        time.sleep(0.01)
    waiting.wait(0.5)  # reads Redis's confirmation, if the first wait did not
    return waiting


def test_only_one_of_two_beats_holds_the_lock(redis_client, key):
    first, second = BeatLock(redis_client, 10, key), BeatLock(redis_client, 10, key)
    assert first.hold() and not second.hold()
    assert first.hold() and not second.hold()  # renewing keeps it
    assert redis_client.get(key).decode() == first.token


def test_the_lock_expires_after_its_ttl_when_not_renewed(redis_client, key):
    first, second = BeatLock(redis_client, 0.3, key), BeatLock(redis_client, 0.3, key)
    assert first.hold()
    time.sleep(0.4)
    assert second.hold()
    assert not first.still_held()  # the first finds out before its next send


def test_renewal_extends_the_ttl(redis_client, key):
    lock = BeatLock(redis_client, 0.5, key)
    lock.hold()
    for _ in range(4):
        time.sleep(0.2)
        assert lock.hold()
    assert 0 < redis_client.pttl(key) <= 500


def test_release_lets_a_standby_take_over_at_once(redis_client, key):
    first, second = BeatLock(redis_client, 10, key), BeatLock(redis_client, 10, key)
    first.hold()
    first.release()
    assert second.hold()


def test_a_beat_never_releases_or_renews_a_lock_it_lost(redis_client, key):
    first, second = BeatLock(redis_client, 0.2, key), BeatLock(redis_client, 10, key)
    first.hold()
    time.sleep(0.3)
    second.hold()
    assert not first.hold()
    first.held = True  # even if it still believed it held the lock
    first.release()
    assert redis_client.get(key).decode() == second.token


def test_an_unreachable_redis_means_not_firing() -> None:
    dead = redis.Redis(
        host="127.0.0.1", port=9, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    lock = BeatLock(dead, 10, "scout:test:lock:dead")
    assert not lock.hold() and not lock.still_held()


def test_a_nudge_wakes_a_waiting_beat_early(redis_client, listener):
    timer = threading.Timer(0.1, lambda: nudge(redis_client, 1))
    timer.start()
    try:
        assert listener.wait(30)  # True: the nudge woke it; its timeout says False
    finally:
        timer.join(timeout=5)  # the publisher still reads its reply after we are woken
        listener.close()


def test_without_a_nudge_the_wait_ends_at_its_timeout(listener):
    began = time.monotonic()
    assert not listener.wait(0.3)
    listener.close()
    assert 0.25 <= time.monotonic() - began < 5  # it ends, at its timeout or a little after


def test_a_burst_of_nudges_is_one_wake_up(redis_client, listener):
    for version in range(5):
        nudge(redis_client, version)
    time.sleep(0.5)  # Redis has them all in its output to the listener: they reach its socket
    assert listener.wait(1)
    assert not listener.wait(0.1)
    listener.close()


def test_closing_the_listener_from_a_signal_handler_mid_wait_lets_systemexit_through(
    redis_client,
):
    import signal

    listener = NudgeListener(redis_client)
    listener.wait(0.01)  # subscribed; the next wait blocks reading the socket

    def stop(signum: int, frame: object) -> None:  # what celery beat's SIGTERM handler does
        listener.close()
        raise SystemExit()

    previous = signal.signal(signal.SIGALRM, stop)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(SystemExit):
            listener.wait(3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert listener._pubsub is None  # closed once the read unwound
