"""The parser against hostile store answers: control characters, absurd figures, empty pages.

The last tests are property-based (hypothesis): whatever the store sends, the parser answers
with rows or a ParseError, never a negative or absurd price, never a paid price for a row that
shows none, and never a title a terminal would obey.
"""

from __future__ import annotations

import json
import unicodedata
from html import escape

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scheduler.catalogue.parse import (
    Listing,
    ParseError,
    parse_listings,
    parse_search_html,
    parse_search_response,
)
from scheduler.catalogue.texts import MAX_CENTS, MAX_ID, clean_title, parse_price_text
from tests.support.bs4_parser import parse_listings_bs4
from tests.support.pages import discount_block, new_row, old_row, page, response

BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def obeyed_by_a_terminal(text: str) -> list[str]:
    """Return the characters of text that a terminal would act on instead of showing."""
    return [c for c in text if unicodedata.category(c) == "Cc" or c in BIDI]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Red \x1b[31mAlert\x1b[0m 2", "Red Alert 2"),  # colours
        ("\x1b]0;you are hacked\x07Portal", "Portal"),  # OSC: sets the window title
        ("\x1b]52;c;ZWNobyBoaQ==\x1b\\Doom", "Doom"),  # OSC 52: writes the clipboard
        ("\x1bPq#0;2;0;0;0\x1b\\Quake", "Quake"),  # DCS (sixel)
        ("Half\x9b2JLife", "HalfLife"),  # 8-bit CSI: clear screen
        ("gnp.\u202eexe", "gnp.exe"),  # bidi override
        ("A\u2066B\u2069C", "ABC"),  # bidi isolates
        ("Nul\x00l\x07\x08\x7f", "Null"),  # NUL, BEL, backspace, DEL
        ("Tab\tNew\nLine\r\n", "Tab New Line"),  # whitespace controls collapse to a space
        ("Left ⇆ Right™ 日本語 Ёж", "Left ⇆ Right™ 日本語 Ёж"),  # printable text stays
        ("Say â€\x9cHiâ€\x9d Now", "Say â€Hiâ€ Now"),  # mojibake: C1 dropped, nothing swallowed
        ("\x1b", ""),
    ],
)
def test_titles_lose_escape_sequences_and_control_characters(raw: str, clean: str) -> None:
    assert clean_title(raw) == clean


@pytest.mark.parametrize("markup", ["\x1b[2J", "&#27;[2J", "&#x1b;]0;x&#7;", "&#x202e;", "\x9b2J"])
def test_a_row_title_with_control_characters_is_read_without_them(markup: str) -> None:
    html = page(old_row("App_7", title=f"Evil{markup} Game"), new_row("App_8", f"B{markup}"))
    for listings, _ in (parse_listings(html), parse_listings_bs4(html)):
        assert [x.title for x in listings] == ["Evil Game", "B"]


def test_a_title_of_only_control_characters_is_a_row_without_a_title() -> None:
    listings, bad = parse_listings(page(old_row("App_7", title="\x1b[0m\u202e")))
    assert listings == [] and bad == ["row 1 (App_7): no title"]


@pytest.mark.parametrize("price_final", ["9" * 30, str(MAX_CENTS + 1), "9" * 5000])
def test_an_absurd_data_price_final_is_ignored_for_the_visible_price(price_final: str) -> None:
    row = only_row(old_row("App_7", price_final=price_final, price="$1.00"))
    assert (row.final_cents, row.price_ok) == (100, True)


@pytest.mark.parametrize(
    ("price_final", "text", "pct"),
    [
        (None, "$" + "9" * 5000, ""),  # int() of 5,000 digits raises ValueError
        (None, f"${MAX_CENTS // 100 + 1}.00", ""),
        ("9" * 30, "$" + "9" * 30, ""),
        ("1999", "$19.99", "-900%"),
    ],
)
def test_an_absurd_figure_is_an_unreadable_price_not_a_price(
    price_final: str | None, text: str, pct: str
) -> None:
    row = only_row(old_row("App_7", price_final=price_final, price=text, pct=pct))
    assert (row.final_cents, row.original_cents, row.price_ok) == (None, None, False)


def only_row(html: str) -> Listing:
    (row,), bad = parse_listings(page(html))
    assert bad == []
    return row


def test_an_absurd_discount_attribute_is_unreadable() -> None:
    block = discount_block("1999", "$19.99", "$39.99", discount="5000")
    row = only_row(new_row("App_7", block=block))
    assert (row.final_cents, row.discount_pct, row.price_ok) == (None, 0, False)


@pytest.mark.parametrize("key", [f"App_{MAX_ID + 1}", "App_" + "9" * 5000, "Sub_" + "1" * 25])
def test_an_item_id_past_steams_32_bits_is_a_bad_row(key: str) -> None:
    listings, bad = parse_listings(page(old_row(key)))
    assert listings == [] and len(bad) == 1 and "no item key" in bad[0] and len(bad[0]) < 200


@pytest.mark.parametrize("total", [10**12, 10**100])
def test_an_absurd_total_count_is_a_parse_error_not_a_plan_of_billions_of_pages(total) -> None:
    with pytest.raises(ParseError, match="no usable total_count"):
        parse_search_response(response(page(old_row("App_1")), total=total), 0)


# Steam's search page when nothing matches: the results count reads 0 ("0 results match your
# search.", in the page language) and the rows container is empty; older pages put "No results
# were returned for that query." in #search_result_container instead (as two public scrapers,
# mygamewishlist's ScrapingSteam.java and steam_spider_handler.py, test for).
ZERO_RESULTS = [
    """<!DOCTYPE html><html><head><title>Steam Search</title></head><body>
    <div id="search_result_container" data-panel="{}">
      <div class="search_results_count">0 results match your search.</div>
      <div id="search_resultsRows"></div>
    </div></body></html>""",
    """<html><body><div class="search_results_count">0 个匹配的搜索结果。</div>
    <div id="search_resultsRows">\n</div></body></html>""",
    """<html><body><div id="search_result_container">
      No results were returned for that query.
    </div></body></html>""",
]


@pytest.mark.parametrize("html", ZERO_RESULTS, ids=["2020s", "zh", "older"])
def test_a_search_page_with_zero_results_is_an_empty_page_of_total_zero(html: str) -> None:
    result = parse_search_html(html)
    assert (result.total_count, result.listings, result.bad_rows) == (0, [], [])


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><body><h1>Site Error</h1></body></html>",
        '<div class="search_results_count">1,234 results match your search.</div>',
        '<div id="search_result_container"></div>',  # the page holds nothing at all
        page(old_row(None)),  # rows, none readable
    ],
)
def test_a_page_without_rows_that_does_not_say_it_is_empty_is_a_parse_error(html: str) -> None:
    with pytest.raises(ParseError, match="no store rows found"):
        parse_search_html(html)


def test_an_infinite_scroll_answer_of_zero_results_is_an_empty_page() -> None:
    body = json.dumps(
        {
            "success": 1,
            "results_html": "\r\n<!-- List Items -->\r\n<!-- End List Items -->\r\n",
            "total_count": 0,
            "start": 0,
        }
    )
    result = parse_search_response(body, 0)
    assert (result.total_count, result.listings, result.bad_rows) == (0, [], [])


# --- property-based -----------------------------------------------------------------------------

PRICE_TEXTS = st.one_of(
    st.sampled_from(
        ["$19.99", "¥ 379.00", "449 pуб.", "1.299,00€", "₩ 21,500", "Free to Play", "Бесплатно"]
    ),
    st.sampled_from(["", " ", "\n\t", "Coming soon", "-", "$-5.00", "-$1", "0", "$0.00"]),
    st.text(st.sampled_from("0123456789.,'’ $€-−%\u00a0"), max_size=30),
    st.text(max_size=30),
)
ATTRS = st.one_of(
    st.none(),
    st.sampled_from(["0", "1999", "-1999", " 42 ", "1e9", "9" * 25, "١٢٣", ""]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.text(max_size=12).map(escape),  # attribute values arrive quoted
)
TITLES = st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["\x1b[31mRed", "\x1b]0;t\x07", "a\u202eb", "&#27;[2J", "&#x9b;", "&lt;b&gt;", "<b>x</b>"]
)


@st.composite
def rows(draw: st.DrawFn) -> tuple[str, str, str | None]:
    """Return (row html, its visible price text, its struck original or None)."""
    steam_id = draw(st.integers(min_value=0, max_value=2**40) | st.sampled_from([0, 440]))
    key = draw(st.sampled_from(["App", "Sub", "Bundle", "app", "App "])) + f"_{steam_id}"
    title, text = draw(TITLES), draw(PRICE_TEXTS)
    original = draw(st.none() | PRICE_TEXTS)
    pct = draw(st.sampled_from(["", "-10%", "-85%", "-100%", "-900%", "50", "x"]))
    if draw(st.booleans()):
        html = old_row(key, title, draw(ATTRS), text, original, pct, str(steam_id))
    else:
        discount = draw(ATTRS)
        block = discount_block(draw(ATTRS), text, original, discount, pct or None)
        html = new_row(key, title, block)
    return html, text, original


def assert_sane(listing: Listing) -> None:
    for cents in (listing.final_cents, listing.original_cents):
        assert cents is None or 0 <= cents <= MAX_CENTS, listing
    assert 0 <= listing.discount_pct <= 100, listing
    assert 0 <= listing.steam_id <= MAX_ID and all(0 <= a <= MAX_ID for a in listing.appids)
    assert not obeyed_by_a_terminal(listing.title), listing.title
    assert listing.title == listing.title.strip() and "  " not in listing.title
    if listing.is_free:
        assert listing.final_cents == 0
    if not listing.price_ok:
        assert listing.final_cents is None and listing.original_cents is None


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.lists(rows(), min_size=1, max_size=6), st.sampled_from(["", "<a class=", "\x00<"]))
def test_any_generated_page_reads_into_sane_rows_or_bad_row_lines(generated, tail) -> None:
    html = page(*(h for h, _, _ in generated)) + tail
    listings, bad = parse_listings(html)
    for listing in listings:
        assert_sane(listing)
    assert all(isinstance(line, str) and "\n" not in line and len(line) < 300 for line in bad)
    keys = [h.split('data-ds-itemkey="')[1].split('"')[0] for h, _, _ in generated]
    shown = {key: (t, o) for key, (_, t, o) in zip(keys, generated, strict=True)}
    for listing in listings:
        if keys.count(listing.itemkey) != 1:
            continue  # which of the rows with this key it came from is not known here
        text, original = shown.get(listing.itemkey, ("?", "?"))
        if not text.split() and not (original or "").split() and not listing.is_free:
            # no visible price: no price at all, never a paid 0 (or any paid figure)
            assert (listing.final_cents, listing.price_ok) == (None, True), listing


@FUZZ
@given(st.text(max_size=60))
@example("$" + "9" * 5000)
def test_any_price_text_reads_as_a_non_negative_amount_or_none(text: str) -> None:
    amount = parse_price_text(text)
    assert amount is None or 0 <= amount


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@st.composite
def answers(draw: st.DrawFn) -> str | bytes:
    """Return a search answer: well formed, with hostile fields, or not JSON at all."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(st.binary(max_size=200))
    if choice == 1:
        return draw(st.text(max_size=200))
    fields = {
        "success": draw(st.sampled_from([1, 1, 2, True, "1", None])),
        "results_html": draw(
            st.sampled_from(["", page(old_row("App_1")), page(old_row("App_1"))[:80]])
            | st.text(max_size=80)
            | JSON_VALUES
        ),
        "total_count": draw(st.integers(-5, 10**13) | JSON_VALUES),
        "start": draw(st.integers(-5, 10**6)),
    }
    if choice == 3:
        fields = draw(st.dictionaries(st.sampled_from(sorted(fields)), JSON_VALUES)) | {}
    return json.dumps(fields, allow_nan=True)


@FUZZ
@given(answers(), st.integers(min_value=0, max_value=10**6))
def test_any_answer_parses_into_a_page_or_raises_a_one_line_parse_error(body, start) -> None:
    try:
        result = parse_search_response(body, start)
    except ParseError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
        return
    assert 0 <= result.total_count <= 10_000_000
    for listing in result.listings:
        assert_sane(listing)


@FUZZ
@given(st.text(max_size=300) | st.sampled_from(ZERO_RESULTS))
def test_any_html_parses_into_a_page_or_raises_a_parse_error(html: str) -> None:
    try:
        result = parse_search_html(html)
    except ParseError as exc:
        assert "\n" not in str(exc)
        return
    for listing in result.listings:
        assert_sane(listing)
