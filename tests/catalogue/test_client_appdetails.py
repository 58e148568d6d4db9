"""The store client's appdetails fetch: the same session and backoff, its own shared budget."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scheduler.catalogue.appdetails import parse_appdetails
from scheduler.catalogue.client import BudgetSpent, FetchError, StoreClient
from storesim.store import SimStore

FAST: dict[str, Any] = {
    "connect_timeout": 2.0,
    "read_timeout": 2.0,
    "max_retries": 3,
    "backoff_base": 0.05,
    "backoff_max": 0.2,
    "user_agent": "SteamScout-test/1.0",
    "rate_limit": "1000/second",
}


@pytest.fixture
def client(store: SimStore, redis_url: str) -> Iterator[StoreClient]:
    made = StoreClient(
        store.url, "us", "english", **FAST, redis_url=redis_url, appdetails_rate_limit="3/minute"
    )
    yield made
    made.close()


def test_it_asks_for_many_apps_prices_only_in_the_configured_country(client, store) -> None:
    ids = [1000 + i for i in range(20)]
    answer = parse_appdetails(client.fetch_appdetails(ids), ids, "USD")
    assert answer.answered == set(ids) and answer.prices and not answer.bad
    query = store.stats()["appdetails"]
    assert (query["requests"], query["ids"]) == (1, 20)


def test_the_appdetails_budget_is_never_waited_for_nor_exceeded(client, store) -> None:
    for _ in range(3):
        client.fetch_appdetails([1000])
    with pytest.raises(BudgetSpent) as caught:
        client.fetch_appdetails([1000])
    assert "budget spent" in str(caught.value) and "\n" not in str(caught.value)
    assert store.stats()["appdetails"]["requests"] == 3
    client.fetch_search_page(0, 10)  # search pages have their own budget


def test_a_429_is_retried_after_retry_after_and_each_try_spends_budget(client, store) -> None:
    store.set_faults({"kind": "429", "retry_after": "0.2", "endpoint": "appdetails"})
    assert '"1000"' in client.fetch_appdetails([1000])
    assert store.stats()["by_status"] == {"429": 1, "200": 1}
    client.fetch_appdetails([1000])
    with pytest.raises(BudgetSpent):
        client.fetch_appdetails([1000])


def test_a_500_that_keeps_coming_gives_up_with_one_line(store, redis_url) -> None:
    store.set_faults({"kind": "500", "times": -1, "endpoint": "appdetails"})
    settings = {**FAST, "max_retries": 1, "redis_url": redis_url}
    client = StoreClient(store.url, "us", "english", **settings)
    with pytest.raises(FetchError) as caught:
        client.fetch_appdetails([1000, 1001])
    message = str(caught.value)
    assert message.startswith("appdetails for 2 apps from 1000: HTTP 500 after 2 attempts")
    client.close()
