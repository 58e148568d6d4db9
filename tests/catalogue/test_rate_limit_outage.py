"""A Redis restart under the rate limiter is waited out like a 503, not a failed page at once."""

from __future__ import annotations

import threading
import time

from scheduler.catalogue.client import StoreClient
from tests.support.faults import RedisServer


def test_a_page_fetched_while_the_limiters_redis_restarts_lands_after_a_retry(store) -> None:
    server = RedisServer().start()
    client = StoreClient(
        store.url,
        "us",
        "english",
        max_retries=5,
        backoff_base=0.4,
        backoff_max=2.0,
        rate_limit="1000/second",
        redis_url=server.url,
    )
    try:
        server.stop()
        # Full-jitter waits of up to 0.4, 0.8, 1.6, 2, 2 s: the server is back long before.
        threading.Timer(0.3, server.start).start()
        began = time.monotonic()
        body = client.fetch_search_page(0, 10)
        assert "total_count" in body
        assert time.monotonic() - began >= 0.3
        assert store.request_count == 1
    finally:
        client.close()
        time.sleep(0.5)
        server.close()
