"""Polite HTTP: one session, timeouts, retries with backoff and jitter, Retry-After, a shared rate.

The care every client of Steam takes (the store's search pages and appdetails, the Web API and
community pages of the wishlist import). Imports nothing of ours but the limiter's Slot, and
takes plain values. Choices:
- Retries: 429, 5xx, connection errors, timeouts and bodies cut short, with exponential backoff
  and full jitter (a random wait in [0, min(backoff_max, backoff_base * 2**retry)]). Any other
  4xx is final. max_retries counts retries, so a request is tried at most max_retries + 1 times.
- Retry-After (seconds or an HTTP-date) replaces the backoff even when it exceeds backoff_max:
  the server said when to come back, and coming back sooner only earns another 429. When it asks
  for more than retry_after_max the client does not park a worker that long: it raises
  FetchError at once with .retry_after set, so the caller can come back later.
- Every attempt first takes a slot of a shared rate (take_slot, scheduler.catalogue.limiter) and
  gives it back once its answer is in; a Redis error there is retried like a 503.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import redis
import requests

from scheduler.catalogue.limiter import Slot

log = logging.getLogger(__name__)
C = TypeVar("C", bound="PoliteClient")

RETRY_AFTER_MAX = 300.0
_RETRIABLE = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class FetchError(Exception):
    """An answer could not be fetched; str() is one line (what, cause, attempts, URL)."""

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


class PoliteClient:
    """One HTTP session that fetches politely (see the module docstring); one per process."""

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        user_agent: str = "SteamScout/0.1",
        retry_after_max: float = RETRY_AFTER_MAX,
    ) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.retry_after_max = retry_after_max
        # A slot stays in flight at most this long: a request that outlives its timeouts this
        # much is long over, and a killed worker's slot frees itself then.
        self.lease = 3 * (connect_timeout + read_timeout) + 10
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent

    def backoff(self, retry: int) -> float:
        """Return the full-jitter wait before retry number `retry` (0-based)."""
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**retry))

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
                reason = f"rate limiter unavailable: {one_line(exc)}"
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
            log.warning("%s: could not free its rate-limit slot (%s)", what, one_line(exc))

    def _attempt(
        self, url: str, params: dict[str, str | int]
    ) -> tuple[int | None, float | None, str, str | None]:
        """Make one request; return (status, retry_after, reason, body or None on failure)."""
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
            body = response.content
        except _RETRIABLE as exc:
            return None, None, one_line(exc), None
        if response.status_code == 200:
            response.encoding = response.encoding or "utf-8"
            return 200, None, "ok", body.decode(response.encoding, errors="replace")
        retry_after = None
        if response.status_code in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return response.status_code, retry_after, f"HTTP {response.status_code}", None

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()


def one_line(exc: BaseException) -> str:
    """Return an exception as one short line: its type and its first 200 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"


_clients: dict[tuple[object, ...], Any] = {}
_clients_lock = threading.Lock()


def per_process(factory: type[C], **settings: Any) -> C:
    """Return this process's client of factory for these settings (a forked child builds its
    own, so no two processes share a connection)."""
    key = (os.getpid(), factory, *sorted(settings.items()))
    with _clients_lock:
        client: C | None = _clients.get(key)
        if client is None:
            client = _clients[key] = factory(**settings)
        return client
