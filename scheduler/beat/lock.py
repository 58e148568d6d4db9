"""Redis coordination for beat: the one-active-beat lock and the edit nudge.

The lock is `SET key token NX PX ttl`, renewed by compare-and-set each tick. A beat that
dies keeps it for at most ttl, so a standby polling once a second takes over within
ttl + 1 s. A beat that finds the token changed or gone stops firing at once.
The nudge is a pub/sub message sent after an edit commits; the database stays the truth,
beat also checks it every tick, so a lost nudge only costs latency.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid

import redis

LOCK_KEY = "scout:beat:lock"
NUDGE_CHANNEL = "scout:schedule:nudge"

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""

logger = logging.getLogger(__name__)


class BeatLock:
    """A Redis lock held by at most one beat; hold() acquires or renews it."""

    def __init__(self, client: redis.Redis, ttl: float, key: str = LOCK_KEY) -> None:
        self.client = client
        self.ttl_ms = int(ttl * 1000)
        self.key = key
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def hold(self) -> bool:
        """Return True if this beat holds the lock now (acquiring or renewing it)."""
        try:
            if self.held:
                ok = bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))
            else:
                ok = bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
        except redis.RedisError as exc:
            logger.warning("beat lock: Redis unreachable (%s); not firing", exc)
            ok = False
        if self.held and not ok:
            logger.warning("beat lock: lost %s; standing by", self.key)
        elif ok and not self.held:
            logger.info("beat lock: acquired %s as %s", self.key, self.token)
        self.held = ok
        return ok

    def still_held(self) -> bool:
        """Return True if this beat holds the lock, asking Redis (one round trip) to be sure."""
        return self.held and self.hold()

    def holder(self) -> str | None:
        """Return the token of whichever beat holds the lock, or None."""
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def release(self) -> None:
        """Give the lock up if this beat still holds it, so a standby takes over at once."""
        if not self.held:
            return
        self.held = False
        try:
            self._release(keys=[self.key], args=[self.token])
        except redis.RedisError as exc:
            logger.warning("beat lock: could not release (%s); it expires by itself", exc)


def nudge(client: redis.Redis, version: int) -> bool:
    """Tell running beats the schedule changed; returns False if Redis could not be reached."""
    try:
        client.publish(NUDGE_CHANNEL, str(version))
        return True
    except redis.RedisError:
        return False


class NudgeListener:
    """Waits for nudges; wait() returns early when one arrives, or after the timeout."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._pubsub: redis.client.PubSub | None = None
        self._waiting = False
        self._close_requested = False

    def wait(self, timeout: float) -> bool:
        """Block up to timeout seconds; return True if a nudge arrived."""
        self._waiting = True
        try:
            if self._pubsub is None:
                self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(NUDGE_CHANNEL)
            message = self._pubsub.get_message(timeout=timeout)
            nudged = message is not None
            while message is not None:  # coalesce a burst of edits into one reload
                message = self._pubsub.get_message(timeout=0)
            return nudged
        except redis.RedisError:
            self._drop()
            time.sleep(timeout)
            return False
        finally:
            self._waiting = False
            if self._close_requested:
                self._drop()

    def close(self) -> None:
        """Unsubscribe and drop the connection (once wait() has returned, if it is running)."""
        self._close_requested = True
        # Beat's SIGTERM handler calls this while wait() is reading the socket: closing it
        # under the reader turns the handler's SystemExit into "I/O operation on closed file".
        if not self._waiting:
            self._drop()

    def _drop(self) -> None:
        if self._pubsub is not None:
            pubsub, self._pubsub = self._pubsub, None
            try:
                pubsub.close()
            except redis.RedisError:
                pass
