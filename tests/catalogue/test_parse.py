"""The catalogue parser: real captures, every layout rule, broken answers, and lxml vs bs4."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.catalogue.parse import (
    Listing,
    ParseError,
    SearchPage,
    parse_listings,
    parse_search_response,
)
from scheduler.catalogue.texts import parse_price_text
from tests.support.bs4_parser import parse_listings_bs4
from tests.support.pages import (
    discount_block,
    new_row,
    old_row,
    page,
    response,
    tab_item,
)

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "steam-captures"
EXPECTED = sorted(CAPTURES.glob("*.expected.json")) if CAPTURES.is_dir() else []
needs_captures = pytest.mark.skipif(
    not CAPTURES.is_dir(), reason=f"real Steam captures not found at {CAPTURES}"
)
ROOT = Path(__file__).resolve().parents[2]


def only(html: str) -> Listing:
    """Return the single listing of html, asserting nothing was reported bad."""
    listings, bad = parse_listings(html)
    assert bad == []
    assert len(listings) == 1
    return listings[0]


# --- real captures ----------------------------------------------------------------------------


@needs_captures
@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_every_row_of_a_real_capture_matches_its_expected_file(expected_file: Path) -> None:
    html = expected_file.with_name(expected_file.name.replace(".expected.json", ".html"))
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    listings, bad = parse_listings(html.read_text(encoding="utf-8"))
    assert bad == []
    assert [x.itemkey for x in listings] == [e["itemkey"] for e in expected]
    for got, want in zip(listings, expected, strict=True):
        assert (got.kind, got.title, got.is_free) == (want["kind"], want["title"], want["is_free"])
        assert got.price_text == want["price_text"]
        prices = (want["final_cents"], want["original_cents"], want["discount_pct"])
        assert (got.final_cents, got.original_cents, got.discount_pct) == prices, got.itemkey
        assert got.price_ok
        if want["kind"] == "app":
            assert got.appids == (want["appid"],) and got.steam_id == want["appid"]
        elif want["kind"] == "sub":
            assert list(got.appids) == want["appid"] and got.steam_id == want["packageid"]
        else:
            assert got.steam_id == want["bundleid"]
            assert (list(got.appids) or None) == want["appid"]


@needs_captures
def test_the_captures_cover_app_sub_bundle_and_discounted_rows_in_both_layouts() -> None:
    rows = [e for f in EXPECTED for e in json.loads(f.read_text(encoding="utf-8"))]
    assert {e["kind"] for e in rows} == {"app", "sub", "bundle"}
    assert any(e["original_cents"] for e in rows)
    assert (CAPTURES / "sg_2024_tab_item.html").read_text().count("discount_block") == 1


@needs_captures
@pytest.mark.parametrize("features", ["html.parser", "lxml"])
@pytest.mark.parametrize("capture", [f.name.split(".")[0] for f in EXPECTED])
def test_lxml_and_beautifulsoup_read_every_capture_the_same(capture: str, features: str) -> None:
    html = (CAPTURES / f"{capture}.html").read_text(encoding="utf-8")
    assert parse_listings_bs4(html, features) == parse_listings(html)


@needs_captures
@pytest.mark.parametrize("cut_every", [997, 1361])
def test_a_capture_cut_anywhere_yields_only_rows_identical_to_the_whole_page(
    cut_every: int,
) -> None:
    html = (CAPTURES / "cn_2022_search_topsellers.html").read_text(encoding="utf-8")
    whole, _ = parse_listings(html)
    for cut in range(0, len(html), cut_every):
        listings, _ = parse_listings(html[:cut])
        assert listings == whole[: len(listings)], f"cut at {cut}"


@needs_captures
def test_lxml_and_beautifulsoup_agree_on_a_capture_cut_short() -> None:
    html = (CAPTURES / "cn_2022_search_topsellers.html").read_text(encoding="utf-8")
    for cut in range(5000, len(html), 15013):
        assert parse_listings_bs4(html[:cut]) == parse_listings(html[:cut]), f"cut at {cut}"


# --- both layouts, kinds and titles ------------------------------------------------------------


def test_an_old_layout_row_takes_its_price_from_data_price_final() -> None:
    got = only(page(old_row("App_440", "Team Fortress", "37900", "¥ 379.00")))
    assert (got.itemkey, got.kind, got.steam_id, got.appids) == ("App_440", "app", 440, (440,))
    assert (got.final_cents, got.original_cents, got.discount_pct) == (37900, None, 0)
    assert (got.is_free, got.price_ok, got.price_text) == (False, True, "¥ 379.00")


def test_a_discounted_old_layout_row_reads_the_struck_original_and_the_discount() -> None:
    got = only(page(old_row(price_final="2445", price="¥ 24.45", original="¥ 163.00", pct="-85%")))
    assert (got.final_cents, got.original_cents, got.discount_pct) == (2445, 16300, 85)
    assert got.price_text == "¥ 24.45"


def test_a_2023_row_reads_the_discount_block() -> None:
    block = discount_block("1665", "S$16.65", "S$18.50", discount="10", pct_text="-10%")
    got = only(page(new_row("App_1928540", "Horticular", block)))
    assert (got.final_cents, got.original_cents, got.discount_pct) == (1665, 1850, 10)
    assert got.price_text == "S$16.65"


def test_a_discount_block_without_data_discount_takes_the_pct_label() -> None:
    block = discount_block("750", "$7.50", "$10.00", discount=None, pct_text="-25%")
    assert only(page(new_row(block=block))).discount_pct == 25


def test_a_tab_item_takes_its_title_from_tab_item_name() -> None:
    got = only(page(tab_item("App_30", "  Tab\n   Game  ")))
    assert (got.title, got.final_cents) == ("Tab Game", 1999)


def test_a_sub_row_lists_every_appid_and_is_keyed_on_its_package() -> None:
    extra = 'data-ds-packageid="320795"'
    got = only(page(old_row("Sub_320795", "Batman", appid="35140,200260,208650", extra=extra)))
    assert (got.kind, got.steam_id, got.appids) == ("sub", 320795, (35140, 200260, 208650))


def test_a_bundle_row_takes_data_price_final_as_it_is_not_original_times_discount() -> None:
    row = old_row(
        "Bundle_13560",
        "Deluxe",
        "15937",
        "¥ 159.37",
        "¥ 491.00",
        "-68%",
        extra='data-ds-bundleid="13560"',
    )
    got = only(page(row))
    assert (got.kind, got.steam_id, got.appids) == ("bundle", 13560, ())
    assert (got.final_cents, got.original_cents, got.discount_pct) == (15937, 49100, 68)


def test_titles_collapse_runs_of_whitespace() -> None:
    got = only(page(old_row(title="\n  Sid Meier’s\t Civilization®\u00a0 VI \n")))
    assert got.title == "Sid Meier’s Civilization® VI"


def test_rows_come_back_in_document_order_across_layouts() -> None:
    html = page(old_row("App_1"), tab_item("App_2"), new_row("Sub_3"), old_row("Bundle_4"))
    listings, bad = parse_listings(html)
    assert [x.itemkey for x in listings] == ["App_1", "App_2", "Sub_3", "Bundle_4"]
    assert bad == []


def test_rows_from_before_item_keys_get_one_from_their_ids() -> None:
    rows = [old_row(None, appid="440"), old_row(None, appid="730", extra='data-ds-packageid="7"')]
    assert [x.itemkey for x in parse_listings(page(*rows))[0]] == ["App_440", "Sub_7"]


def test_rows_without_an_item_key_or_a_title_are_reported_not_listed() -> None:
    html = page(old_row(None), old_row("App_1"), old_row("Wishlist_9"), old_row("App_2", " "))
    listings, bad = parse_listings(html)
    assert [x.itemkey for x in listings] == ["App_1"]
    assert len(bad) == 3 and all("\n" not in line for line in bad)
    assert bad[0].startswith("row 1:") and "App_2" in bad[2]


# --- free, no price, unreadable price ----------------------------------------------------------


def test_a_free_row_is_free_even_when_data_price_final_carries_a_package_price() -> None:
    got = only(page(old_row("App_730", "Counter-Strike", "9600", "Free to Play")))
    assert (got.is_free, got.final_cents, got.price_ok) == (True, 0, True)
    assert got.price_text == "Free to Play"


@pytest.mark.parametrize(
    "label",
    [
        "Free",
        "Free to Play",
        "Free To Play",
        "FREE",
        "Play for Free!",
        "Бесплатно",
        "Gratuito",
        "Kostenlos",
        "免费",
        "免費",
        "無料",
        "무료",
        "Grátis",
        "Gratuit",
        "Darmowe",
        "Zdarma",
    ],
)
def test_a_free_label_in_any_store_language_makes_the_row_free(label: str) -> None:
    for html in (
        old_row(price_final="0", price=label),
        new_row(block=discount_block("2000", label)),
    ):
        got = only(page(html))
        assert (got.is_free, got.final_cents, got.original_cents) == (True, 0, None), label


def test_a_free_class_makes_the_row_free_whatever_its_text() -> None:
    block = discount_block("0", "Spielen", final_class="free")
    assert only(page(tab_item(block=block))).is_free
    assert only(page(old_row(price_final="1999", price="Spielen", price_class="free"))).is_free


def test_a_free_row_keeps_a_struck_original_of_a_giveaway() -> None:
    block = discount_block("0", "Free", "$19.99", discount="100", pct_text="-100%")
    got = only(page(new_row(block=block)))
    want = (True, 0, 1999, 100)
    assert (got.is_free, got.final_cents, got.original_cents, got.discount_pct) == want


@pytest.mark.parametrize(
    "html",
    [
        old_row(price_final="0", price=""),
        old_row(price_final=None, price="  \n "),
        new_row(block='<div class="discount_block empty" data-price-final="0"></div>'),
        tab_item(block=discount_block("0", "", discount="0")),
        tab_item(block=""),
    ],
    ids=["old-empty-0", "old-empty", "new-empty-block", "tab-empty-final", "tab-no-block"],
)
def test_a_row_with_no_visible_price_has_no_price_never_a_paid_zero(html: str) -> None:
    got = only(page(html))
    want = (None, None, False, True)
    assert (got.final_cents, got.original_cents, got.is_free, got.price_ok) == want


def test_a_row_without_data_price_final_reads_its_visible_price() -> None:
    got = only(page(old_row(price_final=None, price="1.299,00€", original="1.999,00€", pct="-35%")))
    want = (129900, 199900, 35, True)
    assert (got.final_cents, got.original_cents, got.discount_pct, got.price_ok) == want


@pytest.mark.parametrize(
    "html",
    [
        old_row(price_final=None, price="Coming soon"),
        old_row(price_final="", price="$1.2.3"),
        old_row(price_final="abc", price="19,99 € 29,99 €"),
        old_row(price_final="1999", price="Pre-Purchase"),
        old_row(price_final="999", price="$9.99", original="$1,2,3,4.5"),
        old_row(price_final="999", price="$9.99", original="$19.99", pct="-lots"),
        old_row(price_final="0", price="$19.99"),
    ],
    ids=[
        "words",
        "bad-number",
        "two-amounts",
        "paid-text-without-amount",
        "bad-original",
        "bad-pct",
        "paid-text-over-zero",
    ],
)
def test_a_row_with_a_price_we_cannot_read_is_listed_with_price_ok_false_and_no_prices(
    html: str,
) -> None:
    got = only(page(html))
    want = (False, None, None, 0)
    assert (got.price_ok, got.final_cents, got.original_cents, got.discount_pct) == want
    assert got.price_text and not got.is_free


# --- price texts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("449 pуб.", 44900),
        ("659,67 pуб.", 65967),
        ("$19.99", 1999),
        ("174,99zł", 17499),
        ("¥ 379.00", 37900),
        ("S$18.50", 1850),
        ("1.299,00€", 129900),
        ("₩ 21,500", 2150000),
        ("¥ 1,980", 198000),
        ("$1,299.99", 129999),
        ("Rp 150 000", 15000000),
        ("165.000₫", 16500000),
        ("CLP$ 9.500", 950000),
        ("1 299,00 pуб.", 129900),
        ("1\u00a0299,00\u00a0₽", 129900),
        ("CHF 1'234.50", 123450),
        ("R$ 37,99", 3799),
        ("ARS$ 1.299,99", 129999),
        ("₹ 529", 52900),
        ("19,9 €", 1990),
        ("0,99€", 99),
        ("1,234,567", 123456700),
        ("£15.99", 1599),
        ("NT$ 398", 39800),
        ("12.345.678,90", 1234567890),
    ],
)
def test_price_texts_in_the_stores_currency_formats_read_in_minor_units(
    text: str, cents: int
) -> None:
    assert parse_price_text(text) == cents


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Free",
        "Coming soon",
        "$19.99 $9.99",
        "1.299.00",
        "1,234.567",
        "1.2.3",
        "12,34,5",
        "1,29,999",
    ],
)
def test_price_texts_without_exactly_one_clear_amount_read_as_none(text: str) -> None:
    assert parse_price_text(text) is None


@pytest.mark.parametrize(
    ("original", "cents"),
    [("449 pуб.", 44900), ("659,67 pуб.", 65967), ("₩ 21,500", 2150000), ("1.299,00€", 129900)],
)
def test_the_original_price_is_read_from_the_struck_text_in_any_format(
    original: str, cents: int
) -> None:
    got = only(page(old_row(price_final="100", price="1", original=original)))
    assert got.original_cents == cents
    block = discount_block("100", "1", original, discount="50")
    assert only(page(tab_item(block=block))).original_cents == cents


# --- garbage and truncated HTML -----------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "\x00\x01\x02",
        "<<<>>>",
        "</a></a></div>",
        "not html at all",
        "<a class=",
        '<?xml version="1.0" encoding="utf-8"?><root/>',
        "<div>" * 3000,
        bytes(range(256)).decode("latin-1"),
        "x\ud800y",
        '<a class="search_result_row"></a>' * 3,
    ],
    ids=[
        "empty",
        "blank",
        "control",
        "brackets",
        "closers",
        "text",
        "open-attr",
        "xml",
        "deep",
        "all-bytes",
        "surrogate",
        "empty-rows",
    ],
)
def test_garbage_html_yields_no_listings_and_never_raises(html: str) -> None:
    listings, bad = parse_listings(html)
    assert listings == []
    assert parse_listings_bs4(html)[0] == []
    assert all(isinstance(line, str) and "\n" not in line for line in bad)


def test_random_noise_around_rows_never_raises_and_keeps_the_rows() -> None:
    rng = random.Random(7)
    for _ in range(200):
        noise = "".join(rng.choice("<>/\"'=&;ab \n\x00é") for _ in range(rng.randint(0, 40)))
        listings, _ = parse_listings(page(old_row("App_1")) + noise)
        assert len(listings) <= 1


@needs_captures
def test_pages_stitched_from_random_pieces_of_a_capture_never_raise() -> None:
    html = (CAPTURES / "cn_2022_search_topsellers.html").read_text(encoding="utf-8")
    rng = random.Random(11)
    pieces = ['<?xml version="1.0" encoding="utf-8"?>', "\x00", "\ud800", "<", "</a>", "&#0;"]
    for _ in range(150):
        spans = [(p := rng.randrange(len(html)), p + rng.randint(0, 3000)) for _ in range(4)]
        junk = [html[a:b] for a, b in spans] + rng.sample(pieces, 2)
        rng.shuffle(junk)
        text = "".join(junk)
        for listings, bad in (parse_listings(text), parse_listings_bs4(text)):
            assert all(isinstance(x, Listing) for x in listings)
            assert all(isinstance(line, str) and "\n" not in line for line in bad)


def test_a_page_cut_inside_a_row_keeps_the_complete_rows_and_reports_the_cut_one() -> None:
    whole = page(
        old_row("App_1"),
        old_row("App_2", price_final="2445", price="¥ 24.45", original="¥ 163.00", pct="-85%"),
    )
    cut = whole[: whole.index("¥ 24.45") + 3]  # ends "¥ 2": never a price of 2
    listings, bad = parse_listings(cut)
    assert [x.itemkey for x in listings] == ["App_1"]
    assert len(bad) == 1 and "App_2" in bad[0] and "cut off" in bad[0]
    assert parse_listings_bs4(cut) == (listings, bad)


def test_a_page_cut_inside_a_tag_keeps_the_complete_rows_and_notes_the_damage() -> None:
    whole = page(old_row("App_1"), old_row("App_2"))
    cut = whole[: whole.index('data-ds-itemkey="App_2"') + 10]
    listings, bad = parse_listings(cut)
    assert [x.itemkey for x in listings] == ["App_1"]
    assert len(bad) == 1 and "truncated" in bad[0]


# --- search/results JSON answers ----------------------------------------------------------------


def test_a_search_response_returns_its_rows_and_counts() -> None:
    body = response(page(old_row("App_1"), tab_item("Sub_2")), total=9624, start=50)
    result = parse_search_response(body, 50)
    assert result == SearchPage(start=50, total_count=9624, listings=result.listings, bad_rows=[])
    assert [x.itemkey for x in result.listings] == ["App_1", "Sub_2"]
    assert parse_search_response(body.encode("utf-8"), 50) == result


@needs_captures
def test_a_search_response_wrapping_a_real_capture_returns_all_its_rows() -> None:
    html = (CAPTURES / "cn_2022_search_topsellers.html").read_text(encoding="utf-8")
    result = parse_search_response(response(html), 0)
    assert (len(result.listings), result.bad_rows) == (50, [])


@pytest.mark.parametrize(
    "body",
    [
        "",
        "<html><body>Access denied</body></html>",
        '{"success": 1, "results_html": "<a',
        b"\xff\xfe\x00garbage",
        "null",
        "[1, 2]",
        "42",
        "[" * 100_000,
    ],
    ids=["empty", "html", "cut-json", "bytes", "null", "list", "number", "deep"],
)
def test_a_body_that_is_not_a_json_object_is_a_parse_error(body: str | bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_search_response(body, 0)
    assert "\n" not in str(caught.value) and str(caught.value)


@pytest.mark.parametrize(
    "data",
    [
        {"success": 2},
        {"success": 42, "results_html": "", "total_count": 0},
        {"success": 1},
        {"success": 1, "results_html": None, "total_count": 10},
        {"success": 1, "results_html": "<div></div>"},
        {"success": 1, "results_html": "<div></div>", "total_count": "9624"},
        {"results_html": "<div></div>", "total_count": 1},
    ],
    ids=["success-2", "success-42", "no-html", "null-html", "no-total", "text-total", "no-success"],
)
def test_a_json_error_body_is_a_parse_error(data: dict) -> None:
    with pytest.raises(ParseError) as caught:
        parse_search_response(json.dumps(data), 0)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("html", ["", "\n", "<div></div>", "<!-- List Items -->", "garbage"])
def test_an_empty_page_in_mid_catalogue_is_a_parse_error(html: str) -> None:
    with pytest.raises(ParseError, match=r"start=100 .*total_count=9624"):
        parse_search_response(response(html, total=9624, start=100), 100)


@pytest.mark.parametrize(("start", "total"), [(9624, 9624), (9650, 9624), (0, 0)])
def test_an_empty_page_at_or_after_the_end_of_the_catalogue_is_fine(start: int, total: int) -> None:
    result = parse_search_response(response("\n", total=total, start=start), start)
    assert (result.listings, result.bad_rows, result.total_count) == ([], [], total)


def test_a_page_of_only_unreadable_rows_in_mid_catalogue_is_a_parse_error() -> None:
    body = response(page(old_row(None), old_row("App_2", title="")), total=100)
    with pytest.raises(ParseError, match="2 unreadable"):
        parse_search_response(body, 0)


def test_truncated_html_that_yields_nothing_in_mid_catalogue_is_a_parse_error() -> None:
    html = page(old_row("App_1"))
    with pytest.raises(ParseError):
        parse_search_response(response(html[: html.index("search_price ")]), 0)


def test_truncated_html_that_yields_some_rows_returns_them_and_notes_the_damage() -> None:
    html = page(old_row("App_1"), old_row("App_2"), old_row("App_3"))
    result = parse_search_response(response(html[: html.index("App_3") + 200]), 0)
    assert [x.itemkey for x in result.listings] == ["App_1", "App_2"]
    assert len(result.bad_rows) == 1 and "App_3" in result.bad_rows[0]


# --- lxml and BeautifulSoup agree ---------------------------------------------------------------

TITLES = [
    "Portal 2",
    "  Dead\n Cells ",
    "暖雪 Warm Snow",
    "Sid Meier’s Civilization® VI",
    "Tom &amp; Jerry",
    "Ориджин",
]
PRICES = [
    ("1999", "$19.99", "$39.99"),
    ("37900", "¥ 379.00", "¥ 758.00"),
    ("44900", "449 pуб.", "898 pуб."),
    ("129900", "1.299,00€", "2.598,00€"),
    ("2150000", "₩ 21,500", "₩ 43,000"),
    ("9600", "Free to Play", None),
    ("0", "", None),
    (None, "Coming soon", None),
    ("1999", "Kostenlos", None),
]


def random_row(rng: random.Random, n: int) -> str:
    """Return one row in a random layout, kind, title and price."""
    final, text, original = rng.choice(PRICES)
    discounted = original is not None and rng.random() < 0.5
    orig = original if discounted else None
    pct = rng.choice(["-10%", "-50%", "-85%"]) if discounted else ""
    kind = rng.choice(["App", "App", "Sub", "Bundle"])
    key, title = f"{kind}_{n}", rng.choice(TITLES)
    appid = ",".join(str(n + i) for i in range(rng.randint(1, 4))) if kind == "Sub" else str(n)
    layout = rng.choice(["old", "new", "tab"])
    if layout == "old":
        return old_row(key, title, final, text, orig, pct, appid)
    block = discount_block(final, text, orig, pct.strip("-%") or "0", pct or None)
    return (new_row if layout == "new" else tab_item)(key, title, block)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("features", ["html.parser", "lxml"])
def test_lxml_and_beautifulsoup_read_generated_pages_the_same(seed: int, features: str) -> None:
    rng = random.Random(seed)
    html = page(*(random_row(rng, 1000 + i) for i in range(60)))
    listings, bad = parse_listings(html)
    assert len(listings) == 60 and bad == []
    assert parse_listings_bs4(html, features) == (listings, bad)
    assert {x.price_ok for x in listings} <= {True, False}


def test_the_parser_imports_nothing_of_ours() -> None:
    code = (
        "import sys, scheduler.catalogue.parse; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('config', 'models', 'scheduler', 'tests', 'bench')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    loaded = ["scheduler", "scheduler.catalogue", "scheduler.catalogue.parse"]
    assert out.strip() == str([*loaded, "scheduler.catalogue.texts"])
