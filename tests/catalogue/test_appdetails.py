"""The appdetails parser: real captures, every odd answer sorted into its bucket, never a crash."""

from __future__ import annotations

import json

import pytest

from config import PROJECT_ROOT
from scheduler.catalogue.appdetails import (
    AppPrice,
    PriceAnswer,
    answer_from_plain,
    answer_to_plain,
    parse_appdetails,
    to_listings,
)
from scheduler.catalogue.parse import ParseError

# ../shared/ from the lead's checkout, ../../shared/ from a helper's worktree.
CAPTURES = next(
    (p / "shared" / "steam-captures" for p in PROJECT_ROOT.parents if (p / "shared").is_dir()),
    PROJECT_ROOT.parent / "shared" / "steam-captures",
)


def capture(name: str) -> str:
    path = CAPTURES / name
    if not path.is_file():
        pytest.skip(f"{name} not available")
    return path.read_text(encoding="utf-8")


def price(final: int, initial: int | None = None, pct: int = 0, currency: str = "USD") -> dict:
    return {
        "currency": currency,
        "initial": final if initial is None else initial,
        "final": final,
        "discount_percent": pct,
        "initial_formatted": "",
        "final_formatted": f"${final / 100:.2f}",
    }


def test_the_real_free_game_capture_has_no_price_and_keeps_the_stored_one() -> None:
    answer = parse_appdetails(capture("appdetails_2017_440_free.json"), [440], "USD")
    assert answer.no_price == {440} and not answer.prices and not answer.bad


def test_the_real_dlc_capture_data_read_as_a_price() -> None:
    rows = json.loads(capture("appdetails_2024_358150_dlc_rewrapped.json"))
    data = next(row["detail"] for row in rows if row["appid"] == 358150)
    body = json.dumps({"358150": {"success": True, "data": data}})
    answer = parse_appdetails(body, [358150], "USD")
    assert answer.prices == {358150: AppPrice(199, None, 0)}


def test_each_kind_of_entry_lands_in_its_bucket() -> None:
    body = {
        "1": {"success": True, "data": {"price_overview": price(999, 1999, 50)}},
        "2": {"success": True, "data": {"price_overview": price(1999)}},
        "3": {"success": True, "data": []},
        "4": {"success": True, "data": {}},
        "5": {"success": False},
        "6": {"success": True, "data": {"price_overview": price(999, currency="EUR")}},
        "7": {"success": True, "data": {"price_overview": {"currency": "USD", "final": "9.99"}}},
        "8": "yes",
        "9": {"success": True, "data": 5},
        "10": {"success": True, "data": {"price_overview": price(-5)}},
    }
    answer = parse_appdetails(json.dumps(body), range(1, 12), "USD")
    assert answer.prices == {1: AppPrice(999, 1999, 50), 2: AppPrice(1999, None, 0)}
    assert answer.no_price == {3, 4}
    assert answer.unknown == {5}
    assert set(answer.bad) == {6, 7, 8, 9, 10}
    assert "EUR" in answer.bad[6] and "\n" not in "".join(answer.bad.values())
    assert answer.missing == {11}
    assert answer.answered == {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    "body",
    ["null", "[]", "<html><title>Access Denied</title></html>", '{"1": {"succ', "", "\xff\xfe"],
)
def test_a_whole_answer_that_is_not_an_object_by_id_raises_one_line(body: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_appdetails(body, [1], "USD")
    assert "\n" not in str(caught.value)


def test_listings_carry_the_stored_title_and_match_a_search_row_s_shape() -> None:
    body = json.dumps(
        {
            "7": {"success": True, "data": {"price_overview": price(500, 1000, 50)}},
            "8": {"success": True, "data": {"price_overview": price(700)}},
        }
    )
    listings = to_listings(parse_appdetails(body, [7, 8], "USD"), {7: "Seven", 8: "Eight"})
    fields = [(x.itemkey, x.title, x.final_cents, x.original_cents) for x in listings]
    assert [(*f, x.discount_pct) for f, x in zip(fields, listings, strict=True)] == [
        ("App_7", "Seven", 500, 1000, 50),
        ("App_8", "Eight", 700, None, 0),
    ]
    assert all(x.price_ok and not x.is_free for x in listings)


def test_an_answer_survives_the_round_trip_through_a_retrys_json_arguments() -> None:
    answer = PriceAnswer(
        prices={10: AppPrice(499, 1999, 75), 11: AppPrice(999, None, 0)},
        no_price={12},
        unknown={13},
        bad={14: "currency 'EUR', expected USD"},
        missing={15},
    )
    assert answer_from_plain(json.loads(json.dumps(answer_to_plain(answer)))) == answer


def test_a_carried_answer_that_is_not_one_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match="not a stored appdetails answer"):
        answer_from_plain({"prices": [[1, "x", None, 0]]})
