"""The simulated store's appdetails: the real shape, the search pages' prices, faults and stats."""

from __future__ import annotations

import time

import requests

from scheduler.catalogue.parse import parse_search_response
from storesim.store import SimStore

PRICE_KEYS = {"currency", "initial", "final", "discount_percent"}
PRICE_KEYS |= {"initial_formatted", "final_formatted"}


def appdetails(store: SimStore, ids: list[int], **params: object) -> requests.Response:
    query: dict[str, object] = {"appids": ",".join(map(str, ids)), "filters": "price_overview"}
    query.update({"cc": "us", "l": "english", **params})
    return requests.get(f"{store.url}/api/appdetails", params=query, timeout=5)


def search_listings(store: SimStore, start: int = 0, count: int = 100) -> dict[int, object]:
    query = {"start": start, "count": count, "infinite": 1, "cc": "us", "l": "english"}
    body = requests.get(f"{store.url}/search/results/", params=query, timeout=5).text
    page = parse_search_response(body, start)
    return {item.steam_id: item for item in page.listings if item.kind == "app"}


def test_every_app_answers_the_price_its_search_row_shows_in_the_real_shape(store) -> None:
    rows = search_listings(store)
    answer = appdetails(store, sorted(rows)).json()
    assert set(answer) == {str(i) for i in rows}
    paid = 0
    for appid, row in rows.items():
        entry = answer[str(appid)]
        assert entry["success"] is True
        if row.is_free or row.final_cents is None:
            assert entry["data"] == []  # the real store's empty PHP array
            continue
        price = entry["data"]["price_overview"]
        assert set(price) == PRICE_KEYS
        assert (price["final"], price["discount_percent"], price["currency"]) == (
            row.final_cents,
            row.discount_pct,
            "USD",
        )
        assert price["initial"] == (row.original_cents or row.final_cents)
        assert price["final_formatted"] == row.price_text
        paid += 1
    assert paid > 50


def test_packages_bundles_and_unknown_ids_answer_success_false(store) -> None:
    sub_appid = store.truth(next(i for i in range(1000) if store.truth(i).kind == "sub")).appids[0]
    answer = appdetails(store, [5, 999_999, sub_appid]).json()
    assert answer == {str(i): {"success": False} for i in (5, 999_999, sub_appid)}


def test_one_id_without_filters_answers_the_whole_object_and_several_answer_null(store) -> None:
    appid = next(store.truth(i).steam_id for i in range(1000) if store.truth(i).kind == "app")
    whole = appdetails(store, [appid], filters="").json()[str(appid)]["data"]
    assert whole["steam_appid"] == appid and "name" in whole and "is_free" in whole
    assert appdetails(store, [appid, appid + 1], filters="").json() is None


def test_a_sale_on_chosen_apps_starts_at_its_moment_on_both_endpoints(store) -> None:
    rows = search_listings(store)
    full = [i for i, r in rows.items() if r.final_cents and not r.is_free and not r.discount_pct]
    paid = full[:3]
    before = {i: rows[i].final_cents for i in paid}
    store.sale_on_apps(paid, pct=80, at=time.time() + 0.6)
    now = appdetails(store, paid).json()
    assert {i: now[str(i)]["data"]["price_overview"]["final"] for i in paid} == before
    time.sleep(0.7)
    later = appdetails(store, paid).json()
    searched = search_listings(store)
    for appid in paid:
        price = later[str(appid)]["data"]["price_overview"]
        assert price["discount_percent"] == 80
        assert price["final"] < before[appid]
        assert searched[appid].final_cents == price["final"]
        assert searched[appid].discount_pct == 80
    others = [i for i in rows if i not in paid]
    assert all(searched[i].final_cents == rows[i].final_cents for i in others)


def test_appdetails_faults_answer_429_500_garbage_and_null_and_spare_search_pages(store) -> None:
    store.set_faults(
        {"kind": "429", "retry_after": "7", "endpoint": "appdetails"},
        {"kind": "500", "endpoint": "appdetails"},
        {"kind": "garbled", "endpoint": "appdetails"},
        {"kind": "null", "endpoint": "appdetails"},
    )
    assert search_listings(store)  # the faults are for appdetails only
    first = appdetails(store, [1000])
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert appdetails(store, [1000]).status_code == 500
    garbled = appdetails(store, [1000])
    assert garbled.status_code == 200 and garbled.text.startswith("<html>")
    assert appdetails(store, [1000]).json() is None
    assert appdetails(store, [1000]).json()["1000"]["success"] is True


def test_stats_count_appdetails_requests_per_second_and_the_ids_asked(store) -> None:
    for _ in range(3):
        appdetails(store, [1000, 1001])
    stats = requests.get(f"{store.url}/_sim/stats", timeout=5).json()["appdetails"]
    assert (stats["requests"], stats["ids"]) == (3, 6)
    assert stats["by_id"] == {"1000": 3, "1001": 3}
    assert sum(stats["per_second"].values()) == 3
    assert store.appdetails_most_in_window(60) == 3
    assert store.stats()["total"] == 0  # search-page counts stay apart


def test_a_malformed_sale_on_apps_is_refused_with_one_line_and_changes_nothing(store) -> None:
    for bad in (
        {"appids": "1005", "pct": 50},
        {"appids": [5], "pct": 50},
        {"appids": [1005], "pct": 150},
        {"appids": [1005], "pct": 50, "at": "soon"},
        {"appids": [1005], "pct": 50, "every": 3},
    ):
        reply = requests.post(f"{store.url}/_sim/control", json={"sale": bad}, timeout=5)
        assert reply.status_code == 400 and "\n" not in reply.json()["error"]
    assert store.state()["sale"] is None and store.state()["pending_sale"] is None


def test_a_scheduled_sale_shows_in_the_state_until_it_starts(store) -> None:
    store.sale_on_apps([1002, 1001], pct=40, at=time.time() + 30)
    state = store.state()
    assert state["sale"] is None
    assert state["pending_sale"][1] == {"appids": [1001, 1002], "pct": 40}
    store.sale_on_apps([1003], pct=10)  # a sale now replaces the scheduled one
    assert store.state()["sale"] == {"appids": [1003], "pct": 10}
    assert store.state()["pending_sale"] is None


def test_a_fault_for_an_unknown_endpoint_is_refused(store) -> None:
    reply = requests.post(
        f"{store.url}/_sim/control",
        json={"faults": [{"kind": "500", "endpoint": "packagedetails"}]},
        timeout=5,
    )
    assert reply.status_code == 400 and "endpoint" in reply.json()["error"]


def test_a_bad_appids_list_answers_400_and_counts_no_request(store) -> None:
    for ids in ("", "1,x", ",".join(["1"] * 1001)):
        reply = requests.get(f"{store.url}/api/appdetails", params={"appids": ids}, timeout=5)
        assert reply.status_code == 400
    assert store.stats()["appdetails"]["requests"] == 0
