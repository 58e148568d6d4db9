"""The Steam client against the simulated store over real HTTP: the store client's care, and
a rate of its own shared by every process through Redis."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from scheduler.catalogue.polite import FetchError
from scheduler.wishlist.answers import GarbageAnswer, ProfileAnswer, ProfileNotFound
from scheduler.wishlist.profile import ProfileRef
from scheduler.wishlist.steam import SteamClient, Wishlist, failure_reason, read_wishlist
from storesim.faults import most_in_window
from storesim.store import SimStore
from tests.support.wishlist import PRIVATE, WISHLISTER

FAST = {
    "connect_timeout": 2.0,
    "read_timeout": 2.0,
    "max_retries": 2,
    "backoff_base": 0.05,
    "backoff_max": 0.2,
}


@pytest.fixture
def make_client(redis_url: str) -> Iterator[Callable[..., SteamClient]]:
    made: list[SteamClient] = []

    def build(store: SimStore, **overrides: Any) -> SteamClient:
        settings = {**FAST, "rate_limit": "1000/second", "redis_url": redis_url, **overrides}
        made.append(SteamClient(store.url, store.url, **settings))
        return made[-1]

    yield build
    for client in made:
        client.close()


def test_it_resolves_a_custom_name_and_reads_the_wishlist(make_client, store):
    client = make_client(store)

    assert client.resolve("wishlister") == ProfileAnswer(WISHLISTER, private=False)
    assert len(client.wishlist(WISHLISTER)) == 33
    assert read_wishlist(client, ProfileRef(name="private_wisher")) == Wishlist(PRIVATE, True, [])


def test_an_unknown_name_is_profile_not_found(make_client, store):
    with pytest.raises(ProfileNotFound):
        make_client(store).resolve("nobody_has_this")


def test_a_429_waits_its_retry_after_and_one_too_long_fails_at_once(make_client, store):
    client = make_client(store)
    store.set_faults({"kind": "429", "endpoint": "wishlist", "retry_after": "1"})
    started = time.monotonic()
    assert len(client.wishlist(WISHLISTER)) == 33
    assert time.monotonic() - started >= 1.0

    store.set_faults({"kind": "429", "endpoint": "wishlist", "retry_after": "3600"})
    with pytest.raises(FetchError) as refused:
        client.wishlist(WISHLISTER)
    assert refused.value.retry_after == 3600 and refused.value.attempts == 1


def test_a_slow_answer_times_out_and_is_asked_again(make_client, store):
    client = make_client(store, read_timeout=0.5)
    store.set_faults({"kind": "slow", "endpoint": "profile", "delay": 2})

    assert client.resolve("wishlister").steamid == WISHLISTER
    assert store.stats()["steam"]["profile"] == 2


def test_steam_down_is_a_fetch_error_after_its_retries_with_one_line(make_client, store):
    store.set_faults({"kind": "down", "endpoint": "wishlist", "times": -1})

    with pytest.raises(FetchError) as down:
        make_client(store).wishlist(WISHLISTER)

    assert down.value.attempts == 3
    line = failure_reason(down.value, ProfileRef(steamid=WISHLISTER))
    assert line.startswith("Steam unreachable: no answer after 3 attempts (ConnectionError")
    assert "\n" not in line


@pytest.mark.parametrize("kind", ["garbled", "json_error", "null", "empty"])
def test_garbage_is_a_garbage_answer(make_client, store, kind):
    store.set_faults({"kind": kind, "endpoint": "wishlist"})

    with pytest.raises(GarbageAnswer):
        make_client(store).wishlist(WISHLISTER)


def test_clients_in_several_processes_share_one_rate_of_their_own(make_client, store):
    # Two clients stand for two worker processes: one Redis window counts them both, and the
    # store's own budget is another window, untouched.
    clients = [make_client(store, rate_limit="4/second") for _ in range(2)]
    before = set(clients[0].rate.redis.keys("scout:slots:*"))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: clients[n % 2].wishlist(WISHLISTER), range(12)))

    arrivals = store.stats()["steam"]["times"]
    assert len(arrivals) == 12 and most_in_window(arrivals, 1.0) <= 4
    host = store.url.removeprefix("http://")
    assert clients[0].rate.keys == clients[1].rate.keys == [f"scout:slots:steam:{host}:4/1s"]
    assert set(clients[0].rate.redis.keys("scout:slots:*")) - before <= {
        f"scout:slots:steam:{host}:4/1s".encode()
    }
