"""A request rate shared by every process: a moving window in Redis, on the Redis server's clock.

limits parses the rates ("8/second", "10/second;200/minute"); taking a slot is one small Lua
script of ours (_TAKE) rather than limits' moving window, because the store counts a request
when it arrives, not when a worker took its slot, and limits cannot allow for the difference:
- limits stamps an entry with the worker's own clock (so the workers' clocks had to agree);
  _TAKE stamps it with the Redis server's TIME, one clock for every worker on every host.
- a slot is taken some milliseconds before the request reaches the store (the reply from Redis,
  the GIL, the HTTP request on the wire), and that delay differs between requests: the fault
  suite's store saw 9 requests within 0.956-0.999 s under limits' 8/second. So every window is
  held TRANSIT_MARGIN longer than the rate says; limits' integer EXPIRE could not hold that.
- every window of a multi-rate is checked and taken in one atomic call: all slots or none, so a
  refused try_acquire wastes no slot of the other windows.
- a refused call returns the milliseconds until the oldest entry leaves its window, so acquire
  sleeps exactly that long and never polls.
redis-py's Script reloads _TAKE after NOSCRIPT (a restarted Redis has an empty script cache).
A script may write after reading TIME since Redis 5 (it replicates the writes, not the script).
Redis errors propagate as redis.RedisError, which the client retries like a 503.
redis-py's from_url accepts rediss:// but wants ssl_cert_reqs=none|optional|required;
Celery-style CERT_NONE values are translated (redis_py_url).
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from limits import RateLimitItem, parse_many

# The spread of the delay between taking a slot and the store receiving the request. Measured
# here with limits' worker-clock stamps: RATE + 1 requests within 0.947-0.999 s (the fault
# suite's store and tests/catalogue/test_limiter.py), a spread of up to 53 ms; with Redis-clock
# stamps and this margin, RATE + 1 within 1.065 s at the tightest (35 ms of the 100 ms used).
# It costs 0.1 s per window: 8/second becomes at most 8 per 1.1 s (9% fewer requests a second
# at the limit; 200/5minutes loses nothing that matters).
TRANSIT_MARGIN = 0.1
REDIS_TIMEOUT = 10.0  # seconds: a hung Redis call fails (and is retried), it never hangs a page

# KEYS: one list of stamps (microseconds of the Redis clock, newest first) per window.
# ARGV: the limit and the window in microseconds, for each key in turn.
# Returns 0 when a slot was taken in every window, else the milliseconds until one can be.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local wait = 0
for i, key in ipairs(KEYS) do
    local limit, window = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
    local oldest = redis.call('LINDEX', key, limit - 1)
    if oldest then
        wait = math.max(wait, tonumber(oldest) + window - now)
    end
end
if wait > 0 then
    return math.ceil(wait / 1000)
end
for i, key in ipairs(KEYS) do
    local limit, window = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
    redis.call('LPUSH', key, now)
    redis.call('LTRIM', key, 0, limit - 1)
    redis.call('PEXPIRE', key, math.ceil(window / 1000))
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
    """Return the Redis list of one window: the limiter's key and the rate it holds."""
    return f"scout:rate:{key}:{item.amount}/{item.get_expiry()}s"


class SharedRateLimit:
    """A request rate ("5/second", "10/second;200/minute") held across processes via Redis."""

    def __init__(self, rate: str, redis_url: str, key: str) -> None:
        self.items = parse_many(rate)
        self.keys = [_window_key(key, item) for item in self.items]
        self.args: list[int] = []
        for item in self.items:
            window_us = round((item.get_expiry() + TRANSIT_MARGIN) * 1_000_000)
            self.args += [item.amount, window_us]
        self.redis = redis.Redis.from_url(
            redis_py_url(redis_url),
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            health_check_interval=30,
        )
        self.take = self.redis.register_script(_TAKE)

    def wait_ms(self) -> int:
        """Take a slot in every window if each has one (0), else return the ms until they do."""
        return int(self.take(keys=self.keys, args=self.args))

    def acquire(self) -> float:
        """Take one request slot, sleeping until every window has one; return the seconds slept."""
        slept = 0.0
        while wait := self.wait_ms():
            time.sleep(wait / 1000)
            slept += wait / 1000
        return slept

    def try_acquire(self) -> bool:
        """Take one request slot if every window has one now; return whether it was taken."""
        return self.wait_ms() == 0

    def close(self) -> None:
        """Close the connections to Redis."""
        self.redis.close()
