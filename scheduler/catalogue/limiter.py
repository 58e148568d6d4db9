"""A request rate shared by every process: a moving window in Redis that counts each request
until its answer is back.

limits parses the rates ("8/second", "10/second;200/minute"); the window is a small Lua script
of ours, because the store counts a request when it arrives, and that is some time after its
slot was taken: milliseconds as a rule, but a worker descheduled on a busy machine sent one
0.4 s late in CI, and the store saw 9 requests within 0.72 s under 8/second. So:
- each window is a sorted set of slots scored on the Redis server's clock (TIME), one clock for
  every worker on every host;
- a slot in flight is scored with the end of its lease, so it fills the window; done() rescores
  it with the moment its answer came back, which is no earlier than its arrival at the store;
- a slot is given only while fewer than the limit remain scored later than now - window.
  Every request that reached the store within a window before this one is still counted then,
  so the store never sees more than the limit in any window, however late requests travel;
- every window of a multi-rate is checked and taken in one atomic call (all slots or none);
- a refused call returns the milliseconds until the oldest answered slot leaves its window
  (or POLL_MS while every slot is in flight), so acquire sleeps that long and never spins;
- a worker killed with a slot in flight holds it to the end of the lease, then it ages out.
redis-py's Script reloads the scripts after NOSCRIPT (a restarted Redis has an empty cache).
A script may write after reading TIME since Redis 5 (it replicates the writes, not the script).
Redis errors propagate as redis.RedisError, which the client retries like a 503.
redis-py's from_url accepts rediss:// but wants ssl_cert_reqs=none|optional|required;
Celery-style CERT_NONE values are translated (redis_py_url).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from limits import RateLimitItem, parse_many

REDIS_TIMEOUT = 10.0  # seconds: a hung Redis call fails (and is retried), it never hangs a page
POLL_MS = 20  # how soon a caller looks again while every slot of a window is in flight
DEFAULT_LEASE = 120.0  # seconds a slot may stay in flight: longer than any request can take

# KEYS: one sorted set of slots per window. ARGV: the lease (us), the slot's token, then the
# limit and the window (us) of each key in turn. Returns 0 when a slot was taken in every window,
# else the milliseconds until one can be.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local lease, token = tonumber(ARGV[1]), ARGV[2]
local wait = 0
for i, key in ipairs(KEYS) do
    local limit, window = tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    if redis.call('ZCARD', key) >= limit then
        local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
        if oldest > now then
            wait = math.max(wait, POLL_US)
        else
            wait = math.max(wait, oldest + window - now)
        end
    end
end
if wait > 0 then
    return math.ceil(wait / 1000)
end
for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, now + lease, token)
    redis.call('PEXPIRE', key, math.ceil((lease + tonumber(ARGV[2 * i + 2])) / 1000))
end
return 0
""".replace("POLL_US", str(POLL_MS * 1000))

# KEYS: the slot's sorted sets. ARGV: its token. Rescores the slot with the time its answer came.
_DONE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
for _, key in ipairs(KEYS) do
    redis.call('ZADD', key, 'XX', now, ARGV[1])
end
return 0
"""


def redis_py_url(redis_url: str) -> str:
    """Return redis_url with a Celery-style ssl_cert_reqs=CERT_NONE turned into redis-py's none."""
    parts = urlsplit(redis_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    fixed = [(k, v.lower().removeprefix("cert_") if k == "ssl_cert_reqs" else v) for k, v in query]
    return urlunsplit(parts._replace(query=urlencode(fixed)))


def _window_key(key: str, item: RateLimitItem) -> str:
    """Return the Redis sorted set of one window: the limiter's key and the rate it holds."""
    return f"scout:slots:{key}:{item.amount}/{item.get_expiry()}s"


@dataclass
class Slot:
    """One request's place in the windows; call done() once its answer (or failure) is back."""

    limit: SharedRateLimit
    token: str
    slept: float = 0.0  # seconds acquire() waited for it

    def done(self) -> None:
        """Count the request from now on, not to the end of its lease."""
        self.limit.finish(self.token)


class SharedRateLimit:
    """A request rate ("5/second", "10/second;200/minute") held across processes via Redis."""

    def __init__(self, rate: str, redis_url: str, key: str, lease: float = DEFAULT_LEASE) -> None:
        self.items = parse_many(rate)
        self.keys = [_window_key(key, item) for item in self.items]
        self.lease_us = round(lease * 1_000_000)
        self.windows: list[int] = []
        for item in self.items:
            self.windows += [item.amount, item.get_expiry() * 1_000_000]
        self.redis = redis.Redis.from_url(
            redis_py_url(redis_url),
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            health_check_interval=30,
        )
        self.take = self.redis.register_script(_TAKE)
        self.give_back = self.redis.register_script(_DONE)

    def wait_ms(self, token: str) -> int:
        """Take a slot in every window if each has one (0), else return the ms until they do."""
        return int(self.take(keys=self.keys, args=[self.lease_us, token, *self.windows]))

    def acquire(self) -> Slot:
        """Take one request slot, sleeping until every window has one; return it."""
        slot = Slot(self, uuid.uuid4().hex)
        while wait := self.wait_ms(slot.token):
            time.sleep(wait / 1000)
            slot.slept += wait / 1000
        return slot

    def try_acquire(self) -> Slot | None:
        """Take one request slot if every window has one now; return it, or None."""
        slot = Slot(self, uuid.uuid4().hex)
        return slot if self.wait_ms(slot.token) == 0 else None

    def finish(self, token: str) -> None:
        """Mark the slot's request answered: it leaves the windows one window from now."""
        self.give_back(keys=self.keys, args=[token])

    def close(self) -> None:
        """Close the connections to Redis."""
        self.redis.close()
