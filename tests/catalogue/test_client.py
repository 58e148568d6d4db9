"""The catalogue client against the simulated store over real HTTP, with the real Redis limiter."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from typing import Any

import pytest
import redis

from config import PROJECT_ROOT, normalize_redis_url
from scheduler.catalogue.client import (
    AGE_GATE_COOKIES,
    FetchError,
    StoreClient,
    get_client,
    parse_retry_after,
)
from scheduler.catalogue.limiter import SharedRateLimit, redis_py_url
from scheduler.catalogue.parse import parse_search_response
from storesim.store import SimStore

MakeClient = Callable[..., StoreClient]
FAST = {
    "connect_timeout": 2.0,
    "read_timeout": 2.0,
    "max_retries": 3,
    "backoff_base": 0.05,
    "backoff_max": 0.2,
    "user_agent": "SteamScout-test/1.0 (+https://scout.test)",
    "rate_limit": "1000/second",
}


@pytest.fixture
def make_client(redis_url: str) -> Iterator[Callable[..., StoreClient]]:
    """Build StoreClients with fast test settings; closes their sessions afterwards."""
    made: list[StoreClient] = []

    def build(store: SimStore, redis_url: str = redis_url, **overrides: Any) -> StoreClient:
        settings = {**FAST, "redis_url": redis_url, **overrides}
        made.append(StoreClient(store.url, "us", "english", **settings))
        return made[-1]

    yield build
    for client in made:
        client.close()


def test_it_returns_the_page_body_with_the_real_search_params(
    make_client: MakeClient, store: SimStore
) -> None:
    body = make_client(store).fetch_search_page(100, 50)
    page = parse_search_response(body, 100)
    assert [listing.itemkey for listing in page.listings] == [
        store.truth(i).itemkey for i in range(100, 150)
    ]
    query = store.stats()["last_query"]
    for part in ("start=100", "count=50", "infinite=1", "cc=us", "l=english", "query=&"):
        assert part in query


def test_it_sends_the_user_agent_and_the_age_gate_cookies(
    make_client: MakeClient, store: SimStore
) -> None:
    make_client(store).fetch_search_page(0, 10)
    headers = store.stats()["last_headers"]
    assert headers["User-Agent"] == FAST["user_agent"]
    cookies = dict(part.split("=", 1) for part in headers["Cookie"].split("; "))
    assert cookies == AGE_GATE_COOKIES


def test_it_retries_a_500_then_succeeds(make_client: MakeClient, store: SimStore) -> None:
    store.set_faults({"kind": "500", "times": 2})
    body = make_client(store).fetch_search_page(0, 10)
    assert parse_search_response(body, 0).listings
    assert store.stats()["by_status"] == {"500": 2, "200": 1}


def test_it_retries_a_reset_connection_and_a_body_cut_short(
    make_client: MakeClient, store: SimStore
) -> None:
    store.set_faults({"kind": "down"}, {"kind": "cut"}, {"kind": "503"})
    assert make_client(store).fetch_search_page(0, 10)
    assert store.stats()["by_status"] == {"down": 1, "cut": 1, "503": 1, "200": 1}


def test_it_waits_as_long_as_retry_after_says_on_429(
    make_client: MakeClient, store: SimStore
) -> None:
    store.set_faults({"kind": "429", "retry_after": 1})
    began = time.monotonic()
    make_client(store, backoff_max=0.1).fetch_search_page(0, 10)
    assert time.monotonic() - began >= 1.0
    gap = store.stats()["times"]
    assert gap[1] - gap[0] >= 0.95


def test_it_understands_retry_after_as_an_http_date(
    make_client: MakeClient, store: SimStore
) -> None:
    store.set_faults({"kind": "503", "retry_after_date": 2})
    began = time.monotonic()
    make_client(store, backoff_max=0.1).fetch_search_page(0, 10)
    assert time.monotonic() - began >= 1.0  # an HTTP-date has one-second resolution


def test_it_gives_up_at_once_when_retry_after_is_beyond_the_ceiling(
    make_client: MakeClient, store: SimStore
) -> None:
    store.set_faults({"kind": "429", "retry_after": 3600})
    with pytest.raises(FetchError) as caught:
        make_client(store).fetch_search_page(0, 10)
    assert (caught.value.status, caught.value.retry_after, caught.value.attempts) == (429, 3600, 1)
    assert "exceeds 300 s" in str(caught.value)
    assert store.request_count == 1


def test_it_gives_up_after_max_retries_with_one_clear_line(
    make_client: MakeClient, store: SimStore
) -> None:
    store.set_faults({"kind": "500", "times": -1, "start": 300})
    with pytest.raises(FetchError) as caught:
        make_client(store, max_retries=2).fetch_search_page(300, 100)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("store page start=300: HTTP 500 after 3 attempts (http://127.0.0.1:")
    assert (caught.value.status, caught.value.attempts) == (500, 3)
    assert store.stats()["by_start"] == {"300": 3}


def test_it_does_not_retry_a_404(make_client: MakeClient, store: SimStore) -> None:
    store.set_faults({"kind": "404", "times": -1})
    with pytest.raises(FetchError) as caught:
        make_client(store).fetch_search_page(0, 10)
    assert (caught.value.status, caught.value.attempts) == (404, 1)
    assert store.request_count == 1


def test_max_retries_zero_means_one_try(make_client: MakeClient, store: SimStore) -> None:
    store.set_faults({"kind": "502", "times": -1})
    with pytest.raises(FetchError, match="HTTP 502 after 1 attempt "):
        make_client(store, max_retries=0).fetch_search_page(0, 10)


def test_it_times_out_a_slow_answer_and_retries(make_client: MakeClient, store: SimStore) -> None:
    store.set_faults({"kind": "slow", "delay": 5})
    began = time.monotonic()
    body = make_client(store, read_timeout=0.4).fetch_search_page(0, 10)
    assert parse_search_response(body, 0).listings
    assert time.monotonic() - began < 3
    assert store.stats()["by_status"] == {"slow": 1, "200": 1}


def test_it_raises_fetch_error_when_the_store_is_down(redis_url: str) -> None:
    client = StoreClient("http://127.0.0.1:9", "us", "english", **{**FAST, "redis_url": redis_url})
    with pytest.raises(FetchError, match=r"start=0: ConnectionError: .* after 4 attempts"):
        client.fetch_search_page(0, 10)


def test_it_raises_fetch_error_when_redis_is_unreachable(
    make_client: MakeClient, store: SimStore
) -> None:
    client = make_client(store, "redis://127.0.0.1:1/0")
    with pytest.raises(FetchError, match="rate limiter unavailable"):
        client.fetch_search_page(0, 10)
    assert store.request_count == 0


_WORKER = """
import sys, time
from scheduler.catalogue.client import StoreClient
url, redis_url = sys.argv[1], sys.argv[2]
client = StoreClient(url, "us", "english", connect_timeout=2, read_timeout=5, max_retries=0,
                     backoff_base=0.05, backoff_max=0.2, user_agent="rate-test",
                     rate_limit="5/second", redis_url=redis_url)
for start in range(0, 1000, 100):
    client.fetch_search_page(start, 5)
"""


def test_the_rate_limit_holds_across_two_processes(store: SimStore, redis_url: str) -> None:
    command = [sys.executable, "-c", _WORKER, store.url, redis_url]
    began = time.monotonic()
    workers = [subprocess.Popen(command, cwd=PROJECT_ROOT) for _ in range(2)]
    assert [worker.wait(timeout=30) for worker in workers] == [0, 0]
    elapsed = time.monotonic() - began
    times = sorted(store.stats()["times"])
    assert len(times) == 20
    # 20 requests at 5/second: batches of 5, each slot counted until its answer came back. The
    # sim stamps arrivals, and counts them in exact 1 s windows.
    assert elapsed >= 3.0 and times[-1] - times[0] >= 3.0
    assert max(sum(1 for t in times if first <= t < first + 1.0) for first in times) <= 5


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = time.time()
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0
    for junk in (None, "", "soon", "Mon, 99 Foo 2020 99:99:99 GMT", "nan"):
        assert parse_retry_after(junk) is None


def test_a_heroku_rediss_url_from_config_works_with_the_limiter() -> None:
    url = normalize_redis_url("rediss://:secret@127.0.0.1:6380/0", "CERT_NONE")
    with pytest.raises(redis.RedisError, match="Invalid SSL Certificate Requirements"):
        redis.Redis.from_url(url).connection_pool.make_connection()
    fixed = redis_py_url(url)
    assert fixed.startswith("rediss://:secret@127.0.0.1:6380/0?") and "ssl_cert_reqs=none" in fixed
    limit = SharedRateLimit("1/second", url, "test:tls")
    assert limit.redis.connection_pool.make_connection().cert_reqs == ssl.CERT_NONE
    assert redis_py_url("redis://127.0.0.1:6379/3") == "redis://127.0.0.1:6379/3"


def test_get_client_keeps_one_client_per_process_and_settings(
    store: SimStore, redis_url: str
) -> None:
    settings = {"base_url": store.url, "country": "us", "language": "english", **FAST}
    first = get_client(**settings, redis_url=redis_url)
    assert get_client(**settings, redis_url=redis_url) is first
    assert get_client(**{**settings, "country": "de"}, redis_url=redis_url) is not first
    first.fetch_search_page(0, 5)
    first.fetch_search_page(100, 5)
    assert len(store.stats()["user_agents"]) == 1


def test_it_asks_for_the_configured_country_and_language(store: SimStore, redis_url: str) -> None:
    client = StoreClient(store.url, "de", "russian", **{**FAST, "redis_url": redis_url})
    try:
        page = parse_search_response(client.fetch_search_page(0, 100), 0)
    finally:
        client.close()
    priced = [x for x in page.listings if x.final_cents and not x.is_free]
    assert priced and all(x.price_text.endswith("€") for x in priced)
    assert any(x.price_text == "Бесплатно" for x in page.listings if x.is_free)
