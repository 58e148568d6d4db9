"""The polite catalogue client: search pages and appdetails from the store.

Timeouts, backoff with jitter, Retry-After and the retry loop are scheduler.catalogue.polite's
(shared with the wishlist import's Steam client). Here:
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

from collections.abc import Sequence
from urllib.parse import urlsplit

from config import Config
from scheduler.catalogue.limiter import SharedRateLimit, Slot
from scheduler.catalogue.polite import RETRY_AFTER_MAX, PoliteClient, per_process
from scheduler.catalogue.polite import FetchError as FetchError  # re-exported: callers' import
from scheduler.catalogue.polite import parse_retry_after as parse_retry_after

AGE_GATE_COOKIES = {
    "birthtime": "470703601",  # 1 Dec 1984: old enough for every age gate
    "lastagecheckage": "1-January-1985",
    "wants_mature_content": "1",
    "mature_content": "1",
}


class BudgetSpent(FetchError):
    """The shared appdetails budget has no request left in its window; nothing was sent."""


class StoreClient(PoliteClient):
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
        super().__init__(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            user_agent=user_agent,
            retry_after_max=retry_after_max,
        )
        self.base_url = base_url.rstrip("/")
        self.country, self.language = country, language
        host = urlsplit(self.base_url).hostname or ""
        self.rate = SharedRateLimit(rate_limit, redis_url, key=f"store:{host}", lease=self.lease)
        netloc = urlsplit(self.base_url).netloc
        self.appdetails_rate = SharedRateLimit(
            appdetails_rate_limit, redis_url, key=f"appdetails:{netloc}", lease=self.lease
        )
        self.session.headers.update(
            {
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

    def close(self) -> None:
        """Close the session's connections and the limiters'."""
        super().close()
        self.rate.close()
        self.appdetails_rate.close()


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
    return per_process(StoreClient, **settings)
