"""A request rate shared by every process: limits' moving window in Redis (nothing of ours).

Entries are stamped with each client's clock, so the workers' clocks must agree (NTP) to a
fraction of the window. limits hands the Redis URL to redis.from_url, which accepts rediss://
but wants ssl_cert_reqs=none|optional|required; Celery-style CERT_NONE values are translated.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from limits import parse_many
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter


def limits_redis_url(redis_url: str) -> str:
    """Return redis_url with a Celery-style ssl_cert_reqs=CERT_NONE turned into redis-py's none."""
    parts = urlsplit(redis_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    fixed = [(k, v.lower().removeprefix("cert_") if k == "ssl_cert_reqs" else v) for k, v in query]
    return urlunsplit(parts._replace(query=urlencode(fixed)))


class SharedRateLimit:
    """A request rate ("5/second", "10/second;200/minute") held across processes via Redis."""

    def __init__(self, rate: str, redis_url: str, key: str) -> None:
        self.items = parse_many(rate)
        self.key = key
        storage = RedisStorage(
            limits_redis_url(redis_url), key_prefix="scout", wrap_exceptions=True
        )
        self.limiter = MovingWindowRateLimiter(storage)

    def acquire(self) -> float:
        """Take one request slot, sleeping until the window has one; return the seconds slept."""
        slept = 0.0
        for item in self.items:
            while not self.limiter.hit(item, self.key):
                reset_at = self.limiter.get_window_stats(item, self.key).reset_time
                # Sleep until the oldest entry leaves the window; never spin, never oversleep.
                pause = min(max(reset_at - time.time(), 0.005), item.get_expiry())
                time.sleep(pause)
                slept += pause
        return slept

    def try_acquire(self) -> bool:
        """Take one request slot if every window has one now; return whether it was taken."""
        return all(self.limiter.hit(item, self.key) for item in self.items)
