"""The simulated store: real markup that parses to its own truth, controls, faults and stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from config import PROJECT_ROOT
from scheduler.catalogue.parse import parse_search_response
from scheduler.cli import main
from storesim.data import SPECIAL_TITLES, Sale, currency_for
from storesim.faults import parse_fault
from storesim.store import SimStore, game_truth, start_store

LOCALES = [
    ("us", "english"),
    ("de", "english"),
    ("pl", "english"),
    ("cn", "english"),
    ("ru", "english"),
    ("gb", "english"),
    ("ru", "russian"),
]


def search(
    store: SimStore, start: int = 0, count: int = 100, **params: object
) -> requests.Response:
    query = {"query": "", "start": start, "count": count, "infinite": 1, "cc": "us", "l": "english"}
    query.update(params)
    return requests.get(f"{store.url}/search/results/", params=query, timeout=5)


def control(store: SimStore, spec: object) -> requests.Response:
    return requests.post(f"{store.url}/_sim/control", json=spec, timeout=5)


def truth_fields(item: object) -> tuple[object, ...]:
    names = ("kind", "steam_id", "appids", "title", "final_cents", "original_cents")
    names += ("discount_pct", "is_free", "price_text")
    return tuple(getattr(item, name) for name in names)


@pytest.mark.parametrize("layout", ["2015", "2023"])
@pytest.mark.parametrize(("cc", "language"), LOCALES)
def test_every_served_row_parses_to_the_truth_of_its_game(
    store: SimStore, layout: str, cc: str, language: str
) -> None:
    store.set_layout(layout)
    for start in (0, 100, 900):
        page = parse_search_response(search(store, start, cc=cc, l=language).text, start)
        expected = [store.truth(i, cc=cc, language=language) for i in range(start, start + 100)]
        assert page.bad_rows == []
        assert page.total_count == 1000
        assert [listing.itemkey for listing in page.listings] == [t.itemkey for t in expected]
        assert [truth_fields(x) for x in page.listings] == [truth_fields(t) for t in expected]
        assert all(listing.price_ok for listing in page.listings)


def test_the_catalogue_holds_every_kind_of_row_the_real_store_serves() -> None:
    games = [game_truth(i, seed=1) for i in range(1000)]
    assert {g.kind for g in games} == {"app", "sub", "bundle"}
    assert sum(g.kind == "app" for g in games) > 700
    assert any(g.kind == "sub" and len(g.appids) > 1 for g in games)
    assert any(g.is_free and g.price_attr == 0 for g in games)
    assert any(g.is_free and g.price_attr and g.price_attr > 0 for g in games)  # the trap
    assert any(g.final_cents is None and g.price_attr is None for g in games)
    assert any(g.final_cents is None and g.price_attr == 0 for g in games)  # never a price of 0
    assert any(g.discount_pct and g.kind == "bundle" for g in games)
    titles = "\n".join(g.title for g in games)
    assert all(special in titles for special in SPECIAL_TITLES)
    assert len({g.itemkey for g in games}) == 1000


def test_bundle_prices_are_not_original_times_discount() -> None:
    bundles = [g for g in (game_truth(i, seed=1) for i in range(2000)) if g.kind == "bundle"]
    discounted = [g for g in bundles if g.discount_pct]
    assert any(
        g.final_cents != (g.original_cents * (100 - g.discount_pct) + 50) // 100
        for g in discounted
        if g.original_cents
    )


def test_the_truth_is_deterministic_and_an_epoch_changes_only_discounts() -> None:
    first = [game_truth(i, seed=5, epoch=1) for i in range(500)]
    assert first == [game_truth(i, seed=5, epoch=1) for i in range(500)]
    second = [game_truth(i, seed=5, epoch=2) for i in range(500)]
    assert [(g.itemkey, g.title, g.is_free) for g in first] == [
        (g.itemkey, g.title, g.is_free) for g in second
    ]
    changed = [a for a, b in zip(first, second, strict=True) if a.final_cents != b.final_cents]
    assert 50 < len(changed) < 400
    assert first != [game_truth(i, seed=6, epoch=1) for i in range(500)]


def test_a_sale_puts_every_nth_game_at_its_discount_and_ending_it_restores_prices(
    store: SimStore,
) -> None:
    before = [store.truth(i) for i in range(100)]
    store.set_sale(every=3, pct=50, offset=1)
    on_sale = [store.truth(i) for i in range(100)]
    page = parse_search_response(search(store, 0).text, 0)
    assert [truth_fields(x) for x in page.listings] == [truth_fields(t) for t in on_sale]
    paid = [t for t in on_sale if t.index % 3 == 1 and t.final_cents and not t.is_free]
    assert paid and all(t.discount_pct == 50 for t in paid)
    assert [t for t in on_sale if t.index % 3 != 1] == [t for t in before if t.index % 3 != 1]
    store.set_sale(None)
    assert [store.truth(i) for i in range(100)] == before
    assert on_sale[4] == game_truth(4, seed=1, sale=Sale(every=3, pct=50, offset=1))


def test_prices_are_written_in_the_currency_of_the_cc_param(store: SimStore) -> None:
    samples = {
        "us": "$",
        "gb": "£",
        "de": "€",
        "pl": "zł",
        "cn": "¥ ",
        "ru": " p\u0443\u0431.",  # Latin p, as Steam writes it
    }
    for cc, mark in samples.items():
        html = search(store, 0, cc=cc).json()["results_html"]
        assert mark in html, cc
    assert "Free to Play" in search(store, 0).text or "Free" in search(store, 0).text
    assert "Бесплатно" in search(store, 0, cc="ru", l="russian").json()["results_html"]


def test_the_json_answer_is_shaped_and_escaped_like_the_real_store(store: SimStore) -> None:
    response = search(store, 200, 50)
    assert response.headers["Content-Type"].startswith("application/json")
    assert '"results_html":"' in response.text and "\\/" in response.text
    assert "\\u" in search(store, 0).text  # non-ASCII titles are \u-escaped
    body = response.json()
    assert (body["success"], body["total_count"], body["start"]) == (1, 1000, 200)
    assert body["results_html"].count('class="search_result_row') == 50


def test_count_is_capped_at_100_and_pages_past_the_end_are_empty(store: SimStore) -> None:
    assert search(store, 0, 500).json()["results_html"].count("search_result_row ") == 100
    assert search(store, 950, 100).json()["results_html"].count("search_result_row ") == 50
    assert search(store, 1000, 100).json()["results_html"] == ""


def test_a_request_without_infinite_gets_a_plain_html_page(store: SimStore) -> None:
    response = requests.get(f"{store.url}/search/results/?start=0&count=10", timeout=5)
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.count('class="search_result_row') == 10


def test_a_fault_aimed_at_one_page_fails_it_every_time_while_others_succeed(
    store: SimStore,
) -> None:
    assert control(store, {"faults": [{"start": 300, "kind": "500", "times": 99}]}).ok
    assert [search(store, 300).status_code for _ in range(3)] == [500, 500, 500]
    assert search(store, 200).status_code == 200
    assert search(store, 400).status_code == 200
    stats = requests.get(f"{store.url}/_sim/stats", timeout=5).json()
    assert stats["by_start"] == {"300": 3, "200": 1, "400": 1}
    assert stats["by_status"] == {"500": 3, "200": 2}
    assert stats["state"]["faults"][0]["times"] == 96


def test_a_429_says_when_to_come_back_in_seconds_or_as_an_http_date(store: SimStore) -> None:
    store.set_faults({"kind": "429", "retry_after": 7}, {"kind": "429", "retry_after_date": 60})
    assert search(store).headers["Retry-After"] == "7"
    assert search(store).headers["Retry-After"].endswith(" GMT")
    assert search(store).status_code == 200


def test_probability_faults_repeat_exactly_with_the_same_fault_seed(store: SimStore) -> None:
    def pattern() -> list[int]:
        return [search(store, 0, 5).status_code for _ in range(20)]

    spec = {"fault_seed": 42, "faults": [{"kind": "503", "probability": 0.5, "times": -1}]}
    control(store, {"clear_faults": True, **spec})
    first = pattern()
    control(store, {"clear_faults": True, **spec})
    assert pattern() == first
    assert 503 in first and 200 in first


def test_broken_answers_each_break_in_their_own_way(store: SimStore) -> None:
    store.set_faults({"kind": "truncated"})
    page = parse_search_response(search(store).text, 0)
    assert 0 < len(page.listings) < 100
    store.set_faults({"kind": "json_error"})
    assert search(store).json() == {"success": 2}
    store.set_faults({"kind": "garbled"})
    with pytest.raises(ValueError):
        search(store).json()
    store.set_faults({"kind": "empty", "start": 500})
    assert search(store, 500).json()["results_html"] == ""
    assert search(store, 500).json()["results_html"] != ""
    store.set_faults({"kind": "cut"})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        search(store)
    store.set_faults({"kind": "down"})
    with pytest.raises(requests.ConnectionError):
        search(store)
    assert search(store).status_code == 200


def test_a_slow_fault_delays_the_answer(store: SimStore) -> None:
    store.set_faults({"kind": "slow", "delay": 0.6})
    began = time.monotonic()
    assert search(store).status_code == 200
    assert time.monotonic() - began >= 0.6
    assert store.stats()["by_status"] == {"slow": 1}


def test_a_bad_control_answers_400_with_one_line(store: SimStore) -> None:
    for spec in (
        {"faults": [{"kind": "explode"}]},
        {"sale": {"every": 0, "pct": 50}},
        {"layout": "1999"},
        {"warp": 9},
        [],
    ):
        response = control(store, spec)
        assert response.status_code == 400
        assert "\n" not in response.json()["error"]
    assert store.state()["faults"] == []


def test_reset_brings_back_the_first_store_and_zero_counts(store: SimStore) -> None:
    control(store, {"epoch": 3, "layout": "2023", "sale": {"every": 2, "pct": 10}})
    control(store, {"faults": [{"kind": "500", "times": -1}]})
    search(store)
    state = control(store, {"reset": True}).json()
    assert (state["epoch"], state["layout"], state["sale"], state["faults"]) == (
        1,
        "2015",
        None,
        [],
    )
    assert store.request_count == 0
    assert search(store).status_code == 200
    assert store.request_count == 1


def test_the_store_sim_command_prints_its_url_and_stops_on_sigterm() -> None:
    command = [sys.executable, "-c", "from scheduler.cli import main; raise SystemExit(main())"]
    args = ["store-sim", "--games", "50", "--port", "0", "--layout", "2023"]
    proc = subprocess.Popen(
        command + args, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        url = line.rsplit(" at ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:")
        body = requests.get(f"{url}/search/results/?infinite=1&count=5", timeout=5).json()
        assert body["total_count"] == 50 and "discount_block" in body["results_html"]
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.communicate(timeout=10)


def test_the_development_install_serves_scout_store_sim_from_any_folder(tmp_path) -> None:
    # The console script, not the checkout on sys.path: storesim is installed beside scout.
    scout = Path(sys.executable).parent / "scout"
    args = [str(scout), "store-sim", "--games", "20", "--port", "0"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().rsplit(" at ", 1)[1].strip()
        assert requests.get(f"{url}/search/results/?infinite=1", timeout=5).json()["total_count"]
        assert requests.get(f"{url}/_sim/stats", timeout=5).status_code == 200
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.communicate(timeout=10)


def test_the_store_sim_command_says_in_one_line_when_the_port_is_taken(
    store: SimStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store-sim", "--port", str(store.port)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"cannot listen on 127.0.0.1:{store.port}" in err


def test_the_store_sim_command_rejects_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["store-sim", "--port", "70000"])
    assert exited.value.code == 2
    assert "argument --port: 70000 is not between 0 and 65535" in capsys.readouterr().err


def test_a_second_store_runs_beside_the_first_and_stops_cleanly(store: SimStore) -> None:
    other = start_store(games=10, seed=9, layout="2023")
    try:
        assert other.url != store.url
        assert json.loads(search(other, 0, 10).text)["total_count"] == 10
    finally:
        other.stop()
    with pytest.raises(requests.ConnectionError):
        search(other)


def test_prices_are_formatted_like_the_captures_for_each_currency() -> None:
    assert currency_for("us").render(1999) == "$19.99"
    assert currency_for("gb").render(999) == "£9.99"
    assert currency_for("de").render(1999) == "19,99€"
    assert currency_for("FR").code == "EUR"
    assert currency_for("pl").render(17499) == "174,99zł"
    assert currency_for("cn").render(37900) == "¥ 379.00"
    assert currency_for("ru").render(44900) == "449 p\u0443\u0431."
    assert currency_for("ru").render(65967) == "659,67 p\u0443\u0431."
    assert currency_for("zz").code == "USD"


def test_sub_and_bundle_rows_carry_their_own_ids_and_the_free_trap_a_paid_price(
    store: SimStore,
) -> None:
    games = [store.truth(i) for i in range(1000)]
    sub = next(g for g in games if g.kind == "sub" and len(g.appids) > 1)
    bundle = next(g for g in games if g.kind == "bundle")
    trap = next(g for g in games if g.is_free and g.price_attr)
    for game, marks in (
        (sub, [f'data-ds-packageid="{sub.steam_id}"', f'data-ds-appid="{sub.appids[0]},']),
        (bundle, [f'data-ds-bundleid="{bundle.steam_id}"']),
        (trap, [f'data-price-final="{trap.price_attr}"', trap.price_text]),
    ):
        html = search(store, game.index, 1).json()["results_html"]
        assert all(mark in html for mark in marks), game
    assert "data-ds-appid" not in search(store, bundle.index, 1).json()["results_html"]


def test_the_stats_count_parallel_clients_exactly(store: SimStore) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda n: search(store, (n % 10) * 100).status_code, range(40)))
    assert statuses == [200] * 40
    stats = requests.get(f"{store.url}/_sim/stats", timeout=5).json()
    assert stats["total"] == 40 and stats["by_status"] == {"200": 40}
    assert stats["by_start"] == {str(s): 4 for s in range(0, 1000, 100)}
    control(store, {"reset_stats": True})
    assert store.stats()["total"] == 0 and store.stats()["times"] == []


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"kind": "500", "colour": "red"}, "unknown fields"),
        ({"kind": "302"}, "fault kind '302'"),
        ({"kind": "slow", "delay": -1}, "fault delay=-1"),
        ({"kind": "429", "probability": 2}, "fault probability=2"),
        ("500", "must be an object"),
    ],
)
def test_a_malformed_fault_is_refused_with_what_is_wrong(spec: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_fault(spec)


def test_fault_times_default_to_one_and_minus_one_or_null_mean_forever() -> None:
    assert parse_fault({"kind": "500"}).times == 1
    assert parse_fault({"kind": "500", "times": 3}).times == 3
    assert parse_fault({"kind": "500", "times": -1}).times is None
    assert parse_fault({"kind": "500", "times": None}).times is None
    assert parse_fault({"kind": "429", "retry_after": 5}).retry_after == "5"
