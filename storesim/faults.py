"""Fault injection and request statistics for the simulated store."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from email.utils import formatdate
from typing import Any

BEHAVIOURS = ("slow", "truncated", "cut", "garbled", "json_error", "empty", "down", "null")
ENDPOINTS = ("search", "appdetails", "profile", "wishlist")
_FIELDS = {
    "kind", "times", "start", "probability", "retry_after", "retry_after_date", "delay", "endpoint"
}  # fmt: skip
_MAX_TIMES_KEPT = 20000


@dataclass(slots=True)
class Fault:
    """One injected failure; times None means every matching request, start None every page.

    endpoint None matches every endpoint; "search", "appdetails", "profile" (a community
    profile page) or "wishlist" (GetWishlist) only that one. A fault with a start matches only
    search pages.
    """

    kind: str
    times: int | None = 1
    start: int | None = None
    probability: float = 1.0
    retry_after: str | None = None
    retry_after_date: float | None = None
    delay: float = 0.0
    endpoint: str | None = None

    @property
    def status(self) -> int | None:
        """The HTTP status this fault answers with, or None for a behaviour fault."""
        return int(self.kind) if self.kind.isdigit() else None

    def retry_after_header(self) -> str | None:
        """Return the Retry-After value to send: seconds as given, or an HTTP-date from now."""
        if self.retry_after_date is not None:
            return formatdate(time.time() + self.retry_after_date, usegmt=True)
        return self.retry_after


def _number(spec: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"fault {name}={value!r}: must be a number between {low:g} and {high:g}")
    return value


def parse_fault(spec: Any) -> Fault:
    """Return a Fault from its JSON form; raises ValueError with one line when it is malformed."""
    if not isinstance(spec, dict):
        raise ValueError(f"fault {spec!r}: must be an object")
    unknown = set(spec) - _FIELDS
    if unknown:
        raise ValueError(f"fault has unknown fields {sorted(unknown)}; known: {sorted(_FIELDS)}")
    kind = str(spec.get("kind", ""))
    if kind not in BEHAVIOURS and not (kind.isdigit() and 400 <= int(kind) <= 599):
        raise ValueError(f"fault kind {kind!r}: use an HTTP status 400-599 or one of {BEHAVIOURS}")
    times = _number(spec, "times", -1, 10**9)
    start = _number(spec, "start", 0, 10**9)
    probability = _number(spec, "probability", 0, 1)
    after = spec.get("retry_after")
    endpoint = spec.get("endpoint")
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise ValueError(f"fault endpoint {endpoint!r}: use one of {ENDPOINTS} or leave it out")
    forever = "times" in spec and (spec["times"] is None or times == -1)
    return Fault(
        kind=kind,
        times=None if forever else int(1 if times is None else times),
        start=None if start is None else int(start),
        probability=1.0 if probability is None else float(probability),
        retry_after=None if after is None else str(after),
        retry_after_date=_number(spec, "retry_after_date", 0, 86400),
        delay=_number(spec, "delay", 0, 3600) or 0.0,
        endpoint=endpoint,
    )


class FaultBook:
    """The active faults, in order; the first one that matches a request answers it."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)

    def add(self, faults: list[Fault], replace_all: bool = False) -> None:
        """Append faults (or replace the list with them)."""
        with self._lock:
            self._faults = list(faults) if replace_all else self._faults + list(faults)

    def reseed(self, seed: int) -> None:
        """Restart the random draws for probability faults from seed."""
        with self._lock:
            self._rng = random.Random(seed)

    def pick(self, start: int | None, endpoint: str = "search") -> Fault | None:
        """Return a copy of the fault that answers a request (page start), using it up once."""
        with self._lock:
            for fault in self._faults:
                if fault.start is not None and fault.start != start:
                    continue
                if fault.endpoint is not None and fault.endpoint != endpoint:
                    continue
                if fault.times is not None and fault.times <= 0:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                return replace(fault)
        return None

    def describe(self) -> list[dict[str, Any]]:
        """Return the faults still able to fire, as JSON-able dicts."""
        with self._lock:
            return [asdict(f) for f in self._faults if f.times is None or f.times > 0]


class Stats:
    """Counts of search requests: total, per start, per status, and what the clients sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self.total = 0
            self.by_start: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.user_agents: Counter[str] = Counter()
            self.times: list[float] = []
            self.last_headers: dict[str, str] = {}
            self.last_query = ""
            self.appdetails = 0
            self.appdetails_ids: Counter[int] = Counter()
            self.appdetails_times: list[float] = []
            self.steam: Counter[str] = Counter()
            self.steam_times: list[float] = []

    def record_request(self, start: int, query: str, headers: dict[str, str]) -> None:
        """Count one search request and remember its headers."""
        with self._lock:
            self.total += 1
            self.by_start[str(start)] += 1
            self.user_agents[headers.get("User-Agent", "")] += 1
            self.times.append(time.time())
            del self.times[:-_MAX_TIMES_KEPT]
            self.last_headers = headers
            self.last_query = query

    def record_appdetails(self, appids: list[int]) -> None:
        """Count one appdetails request and the ids it asked for."""
        with self._lock:
            self.appdetails += 1
            self.appdetails_ids.update(appids)
            self.appdetails_times.append(time.time())
            del self.appdetails_times[:-_MAX_TIMES_KEPT]

    def record_steam(self, endpoint: str) -> None:
        """Count one request to a Steam profile page or to GetWishlist."""
        with self._lock:
            self.steam[endpoint] += 1
            self.steam_times.append(time.time())
            del self.steam_times[:-_MAX_TIMES_KEPT]

    def record_status(self, status: str) -> None:
        """Count one answer by its status ("200", "429", or a behaviour such as "down")."""
        with self._lock:
            self.by_status[status] += 1

    def snapshot(self) -> dict[str, Any]:
        """Return every count as a JSON-able dict."""
        with self._lock:
            return {
                "total": self.total,
                "by_start": dict(self.by_start),
                "by_status": dict(self.by_status),
                "user_agents": dict(self.user_agents),
                "times": list(self.times),
                "last_headers": dict(self.last_headers),
                "last_query": self.last_query,
                "appdetails": {
                    "requests": self.appdetails,
                    "ids": sum(self.appdetails_ids.values()),
                    "by_id": {str(k): v for k, v in self.appdetails_ids.items()},
                    "per_second": per_second(self.appdetails_times),
                    "times": list(self.appdetails_times),
                },
                "steam": {
                    "profile": self.steam["profile"],
                    "wishlist": self.steam["wishlist"],
                    "times": list(self.steam_times),
                },
            }


def per_second(times: list[float]) -> dict[str, int]:
    """Return how many of times fall in each whole second, keyed by the second (Unix time)."""
    return {str(second): n for second, n in sorted(Counter(int(t) for t in times).items())}


def most_in_window(times: list[float], window: float) -> int:
    """Return the largest number of times inside any window of `window` seconds."""
    ordered, most, first = sorted(times), 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most
