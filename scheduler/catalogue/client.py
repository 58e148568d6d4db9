"""The polite catalogue client: one HTTP session, timeouts, backoff, a rate shared by all workers.

Imports nothing of ours but its limiter, and takes plain values. Choices:
- Retries: 429, 5xx, connection errors, timeouts and bodies cut short, with exponential backoff
  and full jitter (a random wait in [0, min(backoff_max, backoff_base * 2**retry)]). Any other
  4xx is final. max_retries counts retries, so a page is tried at most max_retries + 1 times.
- Retry-After (seconds or an HTTP-date) replaces the backoff even when it exceeds backoff_max:
  the store said when to come back, and coming back sooner only earns another 429. When it asks
  for more than retry_after_max (300 s by default) the client does not park a worker that long: it
  raises FetchError at once with .retry_after set, so the caller can reschedule the page.
- The rate limit is a moving window in Redis, keyed per store host: at most N requests in any
  window of the given length across every process, with no burst of 2N at a window edge as a
  fixed window allows. A request holds its slot until its answer is back, so the store itself
  never counts more than N in a window, however late a request travels (limiter.py).
- appdetails (many app ids, filters=price_overview) has its own budget, appdetails_rate_limit,
  in its own moving window keyed per store host and port; it never waits for a slot: when the
  window is full it raises BudgetSpent, so a refresh stops and leaves the rest to a later tick.
- The limiter itself (and its rediss:// handling) is scheduler.catalogue.limiter.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit

import redis
import requests

from config import Config
from scheduler.catalogue.limiter import SharedRateLimit, Slot

log = logging.getLogger(__name__)

RETRY_AFTER_MAX = 300.0
AGE_GATE_COOKIES = {
    "birthtime": "470703601",  # 1 Dec 1984: old enough for every age gate
    "lastagecheckage": "1-January-1985",
    "wants_mature_content": "1",
    "mature_content": "1",
}
_RETRIABLE = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class FetchError(Exception):
    """A store answer could not be fetched; str() is one line (what, cause, attempts, URL)."""

    def __init__(
        self,
        url: str,
        start: int,
        reason: str,
        attempts: int,
        status: int | None = None,
        retry_after: float | None = None,
        what: str | None = None,
    ) -> None:
        self.url, self.start, self.reason, self.attempts = url, start, reason, attempts
        self.status, self.retry_after = status, retry_after
        noun = "attempt" if attempts == 1 else "attempts"
        what = what or f"store page start={start}"
        super().__init__(f"{what}: {reason} after {attempts} {noun} ({url})")


class BudgetSpent(FetchError):
    """The shared appdetails budget has no request left in its window; nothing was sent."""


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the seconds a Retry-After value asks to wait (seconds or HTTP-date), or None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if seconds == seconds else None


class StoreClient:
    """Fetches search pages from one store politely; one per process (see get_client)."""

    def __init__(
        self,
        base_url: str,
        country: str,
        language: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        user_agent: str = "SteamScout/0.1",
        rate_limit: str = "1/second",
        appdetails_rate_limit: str = "200/5minutes",
        redis_url: str = "redis://localhost:6379/0",
        retry_after_max: float = RETRY_AFTER_MAX,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.country, self.language = country, language
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.retry_after_max = retry_after_max
        host = urlsplit(self.base_url).hostname or ""
        # A slot stays in flight at most this long: a request that outlives its timeouts this
        # much is long over, and a killed worker's slot frees itself then.
        lease = 3 * (connect_timeout + read_timeout) + 10
        self.rate = SharedRateLimit(rate_limit, redis_url, key=f"store:{host}", lease=lease)
        netloc = urlsplit(self.base_url).netloc
        self.appdetails_rate = SharedRateLimit(
            appdetails_rate_limit, redis_url, key=f"appdetails:{netloc}", lease=lease
        )
        self.session = requests.Session()
        self.session.headers.update(
            {
                "User-Agent": user_agent,
                "Accept": "application/json, text/javascript, */*; q=0.01",
                "X-Requested-With": "XMLHttpRequest",
            }
        )
        for name, value in AGE_GATE_COOKIES.items():
            self.session.cookies.set(name, value, domain=host, path="/")

    def search_params(self, start: int, count: int) -> dict[str, str | int]:
        """Return the query of the infinite-scroll search: every game, package and bundle."""
        return {
            "query": "",
            "start": start,
            "count": count,
            "dynamic_data": "",
            # A name order keeps pages stable while a scrape walks them; relevance reshuffles.
            "sort_by": "Name_ASC",
            "category1": "998,996,21",  # games, bundles, DLC
            "ignore_preferences": 1,
            "infinite": 1,
            "cc": self.country,
            "l": self.language,
        }

    def backoff(self, retry: int) -> float:
        """Return the full-jitter wait before retry number `retry` (0-based)."""
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**retry))

    def fetch_search_page(self, start: int, count: int) -> str:
        """Return the body of one search page; raises FetchError when retries run out."""
        url = f"{self.base_url}/search/results/"
        params = self.search_params(start, count)
        return self._fetch(url, params, start, f"store page start={start}", self.rate.acquire)

    def appdetails_params(self, appids: Sequence[int]) -> dict[str, str | int]:
        """Return the query of appdetails for several apps: prices only, in our country."""
        return {
            "appids": ",".join(str(appid) for appid in appids),
            "filters": "price_overview",
            "cc": self.country,
            "l": self.language,
        }

    def fetch_appdetails(self, appids: Sequence[int]) -> str:
        """Return the body of one appdetails answer for appids.

        Raises BudgetSpent when the shared budget has no slot (nothing sent), FetchError when
        retries run out.
        """
        url = f"{self.base_url}/api/appdetails"
        what = f"appdetails for {len(appids)} apps from {min(appids)}"

        def take_slot() -> Slot:
            slot = self.appdetails_rate.try_acquire()
            if slot is None:
                raise BudgetSpent(url, 0, "budget spent", 0, what=what)
            return slot

        return self._fetch(url, self.appdetails_params(appids), 0, what, take_slot)

    def _fetch(
        self,
        url: str,
        params: dict[str, str | int],
        start: int,
        what: str,
        take_slot: Callable[[], Slot],
    ) -> str:
        """Return one answer's body, retrying politely; raises FetchError when retries run out."""
        full_url = f"{url}?{urlencode(params)}"
        attempts = 0
        while True:
            attempts += 1
            try:
                slot = take_slot()
            except redis.RedisError as exc:
                # Redis restarting or failing over: as transient as a store 503, so retry it.
                reason = f"rate limiter unavailable: {_one_line(exc)}"
                if attempts > self.max_retries:
                    raise FetchError(full_url, start, reason, attempts, what=what) from exc
                wait = self.backoff(attempts - 1)
                log.warning("%s: %s; retry in %.2f s", what, reason, wait)
                time.sleep(wait)
                continue
            try:
                status, retry_after, reason, body = self._attempt(url, params)
            finally:
                self._answered(slot, what)
            if body is not None:
                return body
            fail = (full_url, start, reason, attempts, status)
            if status is not None and status != 429 and status < 500:
                raise FetchError(*fail, what=what)
            if attempts > self.max_retries:
                raise FetchError(*fail, retry_after, what=what)
            if retry_after is not None and retry_after > self.retry_after_max:
                reason += f" (Retry-After {retry_after:.0f} s exceeds {self.retry_after_max:.0f} s)"
                raise FetchError(full_url, start, reason, attempts, status, retry_after, what=what)
            wait = retry_after if retry_after is not None else self.backoff(attempts - 1)
            log.warning("%s: %s; retry in %.2f s", what, reason, wait)
            time.sleep(wait)

    @staticmethod
    def _answered(slot: Slot, what: str) -> None:
        """Tell the limiter the request is over; if Redis is away, its lease ends it later."""
        try:
            slot.done()
        except redis.RedisError as exc:
            log.warning("%s: could not free its rate-limit slot (%s)", what, _one_line(exc))

    def _attempt(
        self, url: str, params: dict[str, str | int]
    ) -> tuple[int | None, float | None, str, str | None]:
        """Make one request; return (status, retry_after, reason, body or None on failure)."""
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
            body = response.content
        except _RETRIABLE as exc:
            return None, None, _one_line(exc), None
        if response.status_code == 200:
            response.encoding = response.encoding or "utf-8"
            return 200, None, "ok", body.decode(response.encoding, errors="replace")
        retry_after = None
        if response.status_code in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return response.status_code, retry_after, f"HTTP {response.status_code}", None

    def close(self) -> None:
        """Close the session's connections and the limiters'."""
        self.session.close()
        self.rate.close()
        self.appdetails_rate.close()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"


_clients: dict[tuple[object, ...], StoreClient] = {}
_clients_lock = threading.Lock()


def client_for(config: Config) -> StoreClient:
    """Return this process's polite store client for config's store settings."""
    return get_client(
        base_url=config.store_url,
        country=config.store_country,
        language=config.store_language,
        connect_timeout=config.store_connect_timeout,
        read_timeout=config.store_read_timeout,
        max_retries=config.store_max_retries,
        backoff_base=config.store_backoff_base,
        backoff_max=config.store_backoff_max,
        user_agent=config.store_user_agent,
        rate_limit=config.store_rate_limit,
        appdetails_rate_limit=config.store_appdetails_rate_limit,
        redis_url=config.redis_url,
    )


def get_client(**settings: object) -> StoreClient:
    """Return this process's StoreClient for these settings (a forked child builds its own)."""
    key = (os.getpid(), *sorted(settings.items()))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = StoreClient(**settings)  # type: ignore[arg-type]
        return client
