"""The simulated store's Steam side: profile pages and GetWishlist in Steam's shapes, profiles
set over /_sim/control, its faults and its counts; wishlist apps are the catalogue's apps."""

from __future__ import annotations

import time

import pytest
import requests

from scheduler.catalogue.parse import parse_search_response
from storesim.steam import WISHLIST_PATH
from storesim.store import SimStore

WISHLISTER, PRIVATE, EMPTY = 76561198000000001, 76561198000000002, 76561198000000003


def profile_page(store: SimStore, path: str) -> requests.Response:
    return requests.get(f"{store.url}{path}", params={"xml": 1}, timeout=5)


def wishlist(store: SimStore, steamid: object) -> requests.Response:
    return requests.get(f"{store.url}{WISHLIST_PATH}", params={"steamid": steamid}, timeout=5)


def catalogue_apps(store: SimStore) -> set[int]:
    apps: set[int] = set()
    for start in range(0, store.games, 100):
        query = {"start": start, "count": 100, "infinite": 1, "cc": "us", "l": "english"}
        body = requests.get(f"{store.url}/search/results/", params=query, timeout=5).text
        page = parse_search_response(body, start)
        apps |= {item.steam_id for item in page.listings if item.kind == "app"}
    return apps


def test_a_custom_name_and_an_id_answer_the_profiles_xml_page(store):
    by_name = profile_page(store, "/id/WishLister/")
    by_id = profile_page(store, f"/profiles/{WISHLISTER}/")

    assert by_name.status_code == by_id.status_code == 200
    assert by_name.headers["Content-Type"].startswith("text/xml")
    assert f"<steamID64>{WISHLISTER}</steamID64>" in by_name.text
    assert "<privacyState>public</privacyState>" in by_name.text
    assert by_name.text == by_id.text


def test_a_name_nobody_has_answers_steams_error_document_with_200(store):
    response = profile_page(store, "/id/nobody_here/")

    assert response.status_code == 200
    assert response.text.endswith(
        "<response><error><![CDATA[The specified profile could not be found.]]></error></response>"
    )


def test_a_private_profile_still_shows_its_id_but_its_wishlist_answers_empty(store):
    page = profile_page(store, "/id/private_wisher")

    assert f"<steamID64>{PRIVATE}</steamID64>" in page.text
    assert "<privacyState>private</privacyState>" in page.text
    assert wishlist(store, PRIVATE).json() == {"response": {}}
    assert wishlist(store, EMPTY).json() == {"response": {}}
    assert wishlist(store, 76561198999999999).json() == {"response": {}}


def test_a_wishlists_apps_are_the_catalogues_apps_and_its_missing_ids_are_not(store):
    items = wishlist(store, WISHLISTER).json()["response"]["items"]

    assert [set(item) for item in items] == [{"appid", "priority", "date_added"}] * 33
    ids = [item["appid"] for item in items]
    apps = catalogue_apps(store)
    assert set(ids[:30]) <= apps
    assert not set(ids[30:]) & apps and len(set(ids)) == 33
    assert [item["priority"] for item in items] == list(range(33))


def test_profiles_set_over_control_are_served_and_a_reset_forgets_them(store):
    store.control(
        {
            "profiles": [
                {
                    "steamid": "76561198000000042",
                    "name": "ann_w",
                    "appids": [620, 70],
                    "missing": 1,
                },
                {"steamid": str(WISHLISTER), "private": True},
            ]
        }
    )

    ids = [i["appid"] for i in wishlist(store, 76561198000000042).json()["response"]["items"]]
    assert ids[:2] == [620, 70] and len(ids) == 3
    assert "76561198000000042" in profile_page(store, "/id/ann_w/").text
    assert wishlist(store, WISHLISTER).json() == {"response": {}}
    store.control({"reset": True})
    assert "could not be found" in profile_page(store, "/id/ann_w/").text
    assert len(wishlist(store, WISHLISTER).json()["response"]["items"]) == 33


@pytest.mark.parametrize(
    "profile",
    [
        {"name": "x"},
        {"steamid": "123"},
        {"steamid": "76561198000000042", "name": "has space"},
        {"steamid": "76561198000000042", "apps": -1},
        {"steamid": "76561198000000042", "appids": ["440"]},
        {"steamid": "76561198000000042", "colour": "red"},
    ],
)
def test_a_malformed_profile_is_refused_with_one_line(store, profile):
    response = requests.post(f"{store.url}/_sim/control", json={"profiles": [profile]}, timeout=5)

    assert response.status_code == 400 and "profile" in response.json()["error"]


def test_faults_hit_only_the_endpoint_they_name_and_are_counted(store):
    store.set_faults(
        {"kind": "429", "endpoint": "wishlist", "retry_after": "7"},
        {"kind": "garbled", "endpoint": "profile"},
        {"kind": "slow", "endpoint": "wishlist", "delay": 0.5},
    )

    limited = wishlist(store, WISHLISTER)
    garbled = profile_page(store, "/id/wishlister/")
    started = time.monotonic()
    slow = wishlist(store, WISHLISTER)

    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert garbled.status_code == 200 and garbled.text.startswith("<html>")
    assert slow.status_code == 200 and time.monotonic() - started >= 0.5
    assert len(slow.json()["response"]["items"]) == 33
    stats = store.stats()
    assert (stats["steam"]["profile"], stats["steam"]["wishlist"]) == (1, 2)
    assert stats["total"] == 0 and stats["appdetails"]["requests"] == 0
