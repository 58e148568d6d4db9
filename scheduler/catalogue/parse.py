"""Parse the store's search results into Listings (imports nothing of ours).

lxml is BeautifulSoup's own backend; the hot path uses lxml's API directly, skipping
BeautifulSoup's object layer, which is ~15x faster (bench/parse.py: ~21,000 rows/s against
~1,200-1,500). tests/support/bs4_parser.py reads rows the plain BeautifulSoup way through the
same row logic (read_rows): the reference the tests hold lxml to, the benchmark's baseline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml import etree

from scheduler.catalogue.texts import (
    Price,
    clean_title,
    collapse,
    read_ids,
    read_itemkey,
    read_price,
)


class ParseError(Exception):
    """A store answer that is not a search-results page; str() is one line."""


@dataclass(frozen=True, slots=True)
class Listing:
    """One store row. Prices are integers in minor units as the store gives them (data-price-final).

    final_cents is None when the row shows no price (unreleased, empty block). price_ok is False
    when the row shows a price we could not read: persistence then keeps the last good price.
    """

    itemkey: str  # "App_440", "Sub_54029", "Bundle_232"
    kind: str  # "app" | "sub" | "bundle"
    steam_id: int
    appids: tuple[int, ...]
    title: str
    final_cents: int | None
    original_cents: int | None
    discount_pct: int
    is_free: bool
    price_text: str
    price_ok: bool = True


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One answer of search/results/?infinite=1: its rows and a line per row we could not read."""

    start: int
    total_count: int
    listings: list[Listing]
    bad_rows: list[str]


MAX_TOTAL = 10_000_000
_FoundOf = Callable[[Any], dict]
_TextOf = Callable[[Any], str]
_SplitOf = Callable[[Any], tuple[str, str]]
ROW_CLASSES = frozenset({"search_result_row", "tab_item"})
STRUCK_TAGS = frozenset({"strike", "s", "del"})
PART_CLASSES = frozenset({
    "title", "tab_item_name",  # search row title / tab item title
    "search_price_discount_combined", "search_discount", "search_price",  # 2015-2022
    "discount_block", "discount_pct", "discount_original_price", "discount_final_price",  # 2023+
})  # fmt: skip
_RESULTS_COUNT = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' search_results_count ')]"
)
_RESULTS_CONTAINER = "//*[@id='search_result_container']"
_FIRST_NUMBER = re.compile(r"\d[\d.,'’\s]*")
# A complete opening tag of a row; one after the last </a> was cut off.
_ROW_START = re.compile(
    r"<a\s[^>]*\bclass\s*=\s*[\"'][^\"'>]*\b(?:search_result_row|tab_item)\b[^>]*>", re.I
)


def parse_listings(html: str) -> tuple[list[Listing], list[str]]:
    """Return every row of a search/tab page in document order and a line per unreadable row."""
    root = _lxml_root(html)
    rows = [] if root is None else [a for a in root.iter("a") if _is_row(a.get("class"))]
    return read_rows(rows, _lxml_found, _lxml_text, _lxml_split_struck, html)


def parse_search_response(body: str | bytes, start: int) -> SearchPage:
    """Return the rows of one search/results/?infinite=1 answer; raise ParseError if broken."""
    data = _load_response(body)
    listings, bad_rows = parse_listings(data["results_html"])
    total = data["total_count"]
    if not listings and start < total:  # only past the end may a page be empty
        found = f" ({len(bad_rows)} unreadable)" if bad_rows else ""
        raise ParseError(
            f"search page at start={start} has no readable rows{found} but total_count={total}"
        )
    return SearchPage(start=start, total_count=total, listings=listings, bad_rows=bad_rows)


def parse_search_html(html: str) -> SearchPage:
    """Return the rows of a search page or fragment; raise ParseError if it shows none.

    A page without rows is the store's own empty answer ("0 results match your search.", or
    "No results were returned for that query." in the results container): total_count 0.
    """
    listings, bad_rows = parse_listings(html)
    root = _lxml_root(html) if not listings else None
    if not listings and (bad_rows or root is None or not _says_no_results(root)):
        found = f" ({len(bad_rows)} unreadable)" if bad_rows else ""
        raise ParseError(f"no store rows found{found}")
    return SearchPage(start=0, total_count=len(listings), listings=listings, bad_rows=bad_rows)


def _says_no_results(root: etree._Element) -> bool:
    """Return whether a page without rows is the store's search page answering zero results."""
    counts = _elements(root, _RESULTS_COUNT)
    if counts:  # "0 results match your search." in any language: the number is what counts
        number = _FIRST_NUMBER.search(collapse(_lxml_text(counts[0])))
        return number is not None and int(re.sub(r"\D", "", number.group())) == 0
    # Older pages: the results container holds a message and nothing else.
    return any(collapse(_lxml_text(el)) for el in _elements(root, _RESULTS_CONTAINER))


def _elements(root: etree._Element, path: str) -> list[etree._Element]:
    """Return the elements an XPath finds (our paths select elements only)."""
    found = root.xpath(path)
    return [el for el in found if isinstance(el, etree._Element)] if isinstance(found, list) else []


def _load_response(body: str | bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, TypeError, RecursionError) as exc:
        head = body[:60] if isinstance(body, str) else body[:60].decode("utf-8", "replace")
        raise ParseError(
            f"search response is not JSON ({type(exc).__name__}): {collapse(head)!r}"
        ) from None
    if not isinstance(data, dict):
        raise ParseError(f"search response is JSON {type(data).__name__}, not an object")
    if "success" not in data:
        raise ParseError("JSON without a success field: not a search/results answer")
    if data.get("success") != 1:
        raise ParseError(f"search response reports failure: success={data.get('success')!r:.40}")
    if not isinstance(data.get("results_html"), str):
        raise ParseError("search response has no results_html")
    total = data.get("total_count")
    # The catalogue holds some 200,000 items; a scrape plans a page per 50 of total_count.
    if not isinstance(total, int) or isinstance(total, bool) or not 0 <= total <= MAX_TOTAL:
        raise ParseError(f"search response has no usable total_count: {total!r:.40}")
    return data


def without_lone_surrogates(html: str) -> str:
    """Return html with lone surrogates (from JSON escapes) replaced; libxml2 stops at one."""
    if not html.isascii():
        try:
            html.encode("utf-8")
        except UnicodeEncodeError:
            return html.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return html


def _lxml_root(html: str) -> etree._Element | None:
    html = without_lone_surrogates(html)
    try:
        return etree.fromstring(html, etree.HTMLParser(remove_comments=True, remove_pis=True))
    except ValueError:  # a str with an XML encoding declaration: hand libxml2 the bytes
        pass
    except etree.ParserError:
        return None
    utf8 = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        return etree.fromstring(html.encode("utf-8"), utf8)
    except etree.ParserError:
        return None


def _is_row(classes: str | None) -> bool:
    return classes is not None and not ROW_CLASSES.isdisjoint(classes.split())


def _lxml_found(row: etree._Element) -> dict[str, etree._Element]:
    """Return the first descendant of row carrying each of PART_CLASSES, by class."""
    found: dict[str, etree._Element] = {}
    for el in row.iterdescendants():
        classes = el.get("class")
        if classes:
            for token in _part_tokens(classes):
                found.setdefault(token, el)
    return found


@lru_cache(maxsize=4096)
def _part_tokens(classes: str) -> tuple[str, ...]:
    """Return the tokens we look for in a class attribute (the same few strings recur per row)."""
    return tuple(token for token in classes.split() if token in PART_CLASSES)


def _lxml_text(el: etree._Element | None) -> str:
    return "" if el is None else "".join(str(text) for text in el.itertext())


def _lxml_split_struck(el: etree._Element | None) -> tuple[str, str]:
    """Return (text outside struck-through tags, text inside them)."""
    kept: list[str] = []
    struck: list[str] = []

    def walk(node: etree._Element, out: list[str]) -> None:
        if node.text:
            out.append(node.text)
        for child in node:
            walk(child, struck if child.tag in STRUCK_TAGS else out)
            if child.tail:
                out.append(child.tail)

    if el is not None:
        walk(el, kept)
    return "".join(kept), "".join(struck)


def read_rows(
    rows: list, found_of: _FoundOf, text: _TextOf, split_struck: _SplitOf, html: str
) -> tuple[list[Listing], list[str]]:
    """Return the rows' Listings and a line per row without one; drop a row the page cut off.

    Rows may be lxml elements or BeautifulSoup tags (tests/support/bs4_parser.py): the three
    functions read a row's parts, an element's text, and its text in and out of struck tags.
    """
    results = [_read_row(r, found_of(r), text, split_struck, n) for n, r in enumerate(rows, 1)]
    bad_rows: list[str] = []
    if results and _ends_inside_row(html):
        results.pop()
        name = collapse(rows[-1].get("data-ds-itemkey"))[:40] or "no item key"
        bad_rows.append(f"row {len(rows)} ({name}): cut off, the page ends inside it")
    elif results and not html.rstrip().endswith(">"):
        bad_rows.append("the page ends in the middle of a tag or text (truncated?)")
    listings = [r for r in results if isinstance(r, Listing)]
    return listings, [r for r in results if isinstance(r, str)] + bad_rows


def _ends_inside_row(html: str) -> bool:
    last_end = max(html.rfind("</a>"), html.rfind("</A>"))
    return _ROW_START.search(html, last_end + 1) is not None


def _read_row(
    row: Any, found: dict, text: _TextOf, split_struck: _SplitOf, position: int
) -> Listing | str:
    """Return the row's Listing (lxml element or bs4 tag alike), or one line saying why not."""
    raw_key = row.get("data-ds-itemkey")
    ids = (row.get("data-ds-bundleid"), row.get("data-ds-packageid"), row.get("data-ds-appid"))
    key = read_itemkey(raw_key, *ids)
    if key is None:
        return f"row {position}: no item key ({raw_key!r:.60})"
    title = clean_title(text(found.get("title", found.get("tab_item_name"))))
    if not title:
        return f"row {position} ({key.itemkey}): no title"
    price = _read_price(found, text, split_struck)
    return Listing(
        itemkey=key.itemkey,
        kind=key.kind,
        steam_id=key.steam_id,
        appids=(key.steam_id,) if key.kind == "app" else read_ids(ids[2]),
        title=title,
        final_cents=price.final_cents,
        original_cents=price.original_cents,
        discount_pct=price.discount_pct,
        is_free=price.is_free,
        price_text=price.price_text,
        price_ok=price.price_ok,
    )


def _read_price(found: dict, text: _TextOf, split_struck: _SplitOf) -> Price:
    """Return the Price of a 2023+ discount_block if the row has one, else of the 2015 block."""
    blocks = [found[n] for n in ("discount_block", "search_price_discount_combined") if n in found]
    if "discount_block" in found:
        final = found.get("discount_final_price")
        final_text, original_text = text(final), text(found.get("discount_original_price"))
        pct_text = text(found.get("discount_pct"))
    else:
        final = found.get("search_price")
        final_text, original_text = split_struck(final)
        pct_text = text(found.get("search_discount"))
    prices = [b.get("data-price-final") for b in blocks if b.get("data-price-final") is not None]
    return read_price(
        price_final=prices[0] if prices else None,
        discount=blocks[0].get("data-discount") if blocks else None,
        pct_text=pct_text,
        final_text=final_text,
        original_text=original_text,
        free_class=any(_has_class(el, "free") for el in blocks[:1] + [final]),
    )


def _has_class(el: Any, name: str) -> bool:
    classes = None if el is None else el.get("class")  # lxml: a string; bs4: a list
    if not classes:
        return False
    return name in (classes.split() if isinstance(classes, str) else classes)
