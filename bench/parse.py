"""Parse speed: lxml's own API (the hot path) against BeautifulSoup on html.parser and on lxml.

Run: .venv/bin/python bench/parse.py [--pages 20] [--seed 1]. Prints rows/s, each the median
of 5 runs over the same generated pages (100 rows each, both layouts), in one process. Time is
this process's CPU time, so rows/s is per core and other load on the machine matters less.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduler.catalogue.parse import Listing, parse_listings  # noqa: E402
from tests.support.bs4_parser import parse_listings_bs4  # noqa: E402

RUNS = 5
ROWS_PER_PAGE = 100
Parser = Callable[[str], tuple[list[Listing], list[str]]]

PARSERS: dict[str, Parser] = {
    "lxml": parse_listings,
    "bs4(html.parser)": lambda html: parse_listings_bs4(html, "html.parser"),
    "bs4(lxml)": lambda html: parse_listings_bs4(html, "lxml"),
}


def measure_parse(html_pages: list[str]) -> dict:
    """Return rows, pages and each parser's median rows/s over RUNS runs; raise if they disagree."""
    results: dict = {"pages": len(html_pages), "runs": RUNS}
    reference: list | None = None
    for name, parse in PARSERS.items():
        timings = []
        for _ in range(RUNS):
            began = time.process_time()
            parsed = [parse(html) for html in html_pages]
            timings.append(time.process_time() - began)
        if reference is None:
            reference = parsed
            results["rows"] = sum(len(listings) for listings, _ in parsed)
        elif parsed != reference:
            raise AssertionError(f"{name} read the pages differently from lxml")
        results[f"{name} rows/s"] = round(results["rows"] / statistics.median(timings))
    return results


# --- a small generator of realistic pages (independent of storesim.store) ------------------

TITLES = [
    "Counter-Strike 2", "Marvel’s Spider-Man Remastered", "暖雪 Warm Snow", "Dead Cells",
    "Sid Meier’s Civilization® VI", "Tom &amp; Jerry: Chase", "Ведьмак 3: Дикая Охота",
]  # fmt: skip
CURRENCIES = [
    ("$", "", "."), ("¥ ", "", "."), ("", "zł", ","), ("", " pуб.", ","), ("", "€", ","),
    ("S$", "", "."),
]  # fmt: skip
IDS = {
    "app": 'data-ds-appid="{n}" data-ds-itemkey="App_{n}"',
    "sub": 'data-ds-packageid="{n}" data-ds-appid="{n},{n1},{n2}" data-ds-itemkey="Sub_{n}"',
    "bundle": 'data-ds-bundleid="{n}" data-ds-itemkey="Bundle_{n}"',
}
ROW_OPEN = """<a href="https://store.steampowered.com/{kind}/{n}/x/?snr=1_7_7_7000_150_1"
   {ids} data-ds-tagids="[1671,19,1695,4182,21,3993,4106]"
   onmouseover="GameHover( this, event, 'global_hover', {hover} );"
   onmouseout="HideGameHover( this, event, 'global_hover' )" class="{css}"
   data-search-page="1" data-gpnav="item">
  <div class="col search_capsule"><img src="https://cdn/apps/{n}/capsule_sm_120.jpg"
    srcset="https://cdn/apps/{n}/capsule_sm_120.jpg 1x, https://cdn/apps/{n}/c.jpg 2x"></div>
"""
SEARCH_ROW = """  <div class="responsive_search_name_combined">
    <div class="col search_name ellipsis"><span class="title">{title}</span>
      <div><span class="platform_img win"></span><span class="platform_img mac"></span></div></div>
    <div class="col search_released responsive_secondrow">12 Aug, 2022</div>
    <div class="col search_reviewscore responsive_secondrow">
      <span class="search_review_summary positive"
        data-tooltip-html="Very Positive&lt;br&gt;88% of the 8,560 user reviews are positive.">
      </span></div>
    <div class="col search_price_discount_combined responsive_secondrow" data-price-final="{final}">
      {price}
    </div>
  </div>
  <div style="clear: left;"></div>
</a>
"""
OLD_PRICE = """<div class="col search_discount responsive_secondrow">{pct}</div>
      <div class="col search_price {discounted}responsive_secondrow">
        {struck}{text}
      </div>"""
STRUCK = '<span style="color: #888888;"><strike>{original}</strike></span><br>'
DISCOUNT_BLOCK = """<div class="discount_block {css}" data-price-final="{final}"
 data-bundlediscount="0" data-discount="{pct}" role="link" aria-label="{text}">{pct_div}
 <div class="discount_prices">{original}<div class="discount_final_price">{text}</div>
 </div></div>"""
TAB_ITEM = """  {block}
  <div class="tab_item_content"><div class="tab_item_name">{title}</div>
    <div class="tab_item_details"><span class="platform_img win"></span>
      <div class="tab_item_top_tags"><span class="top_tag">Relaxing</span>
        <span class="top_tag">, Casual</span></div>
    </div></div>
  <div style="clear: both;"></div>
</a>
"""


def money(cents: int, currency: tuple[str, str, str]) -> str:
    """Return cents written the way the store writes that currency."""
    prefix, suffix, mark = currency
    return f"{prefix}{cents // 100}{mark}{cents % 100:02d}{suffix}"


def price_parts(rng: random.Random) -> tuple[int, str, str | None, int]:
    """Return (data-price-final, visible final, visible original or None, pct)."""
    currency = rng.choice(CURRENCIES)
    base = rng.choice([499, 999, 1999, 2999, 5999, 37900])
    roll = rng.random()
    if roll < 0.1:
        return 0, rng.choice(["Free to Play", "Free", "Бесплатно"]), None, 0
    if roll < 0.45:
        pct = rng.choice([10, 25, 50, 75, 85])
        final = base * (100 - pct) // 100
        return final, money(final, currency), money(base, currency), pct
    return base, money(base, currency), None, 0


def row_open(n: int, kind: str, css: str) -> str:
    """Return a row's opening tag (with the store's usual attributes) and capsule."""
    hover = f"{{&quot;type&quot;:&quot;{kind}&quot;,&quot;id&quot;:{n},&quot;public&quot;:1}}"
    ids = IDS[kind].format(n=n, n1=n + 1, n2=n + 2)
    return ROW_OPEN.format(kind=kind, n=n, ids=ids, hover=hover, css=css)


def discount_block(rng: random.Random, css: str) -> tuple[int, str]:
    """Return (data-price-final, a 2023+ discount_block)."""
    final, text, original, pct = price_parts(rng)
    pct_div = f'<div class="discount_pct">-{pct}%</div>' if pct else ""
    orig = f'<div class="discount_original_price">{original}</div>' if original else ""
    return final, DISCOUNT_BLOCK.format(
        css=css, final=final, pct=pct, text=text, pct_div=pct_div, original=orig
    )


def old_row(rng: random.Random, n: int, kind: str) -> str:
    """Return a 2015-2022 search row."""
    final, text, original, pct = price_parts(rng)
    price = OLD_PRICE.format(
        pct=f"<span>-{pct}%</span>" if pct else "",
        discounted="discounted " if original else "",
        struck=STRUCK.format(original=original) if original else "",
        text=text,
    )
    body = SEARCH_ROW.format(title=rng.choice(TITLES), final=final, price=price)
    return row_open(n, kind, "search_result_row ds_collapse_flag ") + body


def new_row(rng: random.Random, n: int, kind: str) -> str:
    """Return a 2023+ search row: the combined block wraps a discount_block."""
    final, block = discount_block(rng, "search_discount_block")
    body = SEARCH_ROW.format(title=rng.choice(TITLES), final=final, price=block)
    return row_open(n, kind, "search_result_row ds_collapse_flag") + body


def tab_item(rng: random.Random, n: int, kind: str) -> str:
    """Return a tab item (title in .tab_item_name, 2023+ discount_block)."""
    _, block = discount_block(rng, "tab_item_discount")
    body = TAB_ITEM.format(block=block, title=rng.choice(TITLES))
    return row_open(n, kind, "tab_item   app_impression_tracked") + body


def generate_pages(count: int, seed: int = 1) -> list[str]:
    """Return count pages of ROWS_PER_PAGE rows mixing both layouts, tab items and all kinds."""
    rng = random.Random(seed)
    pages = []
    for p in range(count):
        rows = [
            rng.choice([old_row, old_row, new_row, tab_item])(
                rng, 10_000 + p * ROWS_PER_PAGE + i, rng.choice(["app", "app", "sub", "bundle"])
            )
            for i in range(ROWS_PER_PAGE)
        ]
        pages.append('<div id="search_resultsRows">\n' + "".join(rows) + "</div>\n")
    return pages


def main() -> None:
    """Generate pages, measure every parser and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20, help="pages of 100 rows (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pages = generate_pages(args.pages, args.seed)
    kib = sum(len(p.encode("utf-8")) for p in pages) / 1024 / len(pages)
    result = measure_parse(pages)
    print(f"{result['pages']} pages x {ROWS_PER_PAGE} rows ({kib:.0f} KiB/page), "
          f"median of {RUNS} runs, one process, CPU time")  # fmt: skip
    print(f"{'parser':<18} {'rows/s':>10}")
    for name in PARSERS:
        print(f"{name:<18} {result[f'{name} rows/s']:>10,}")


if __name__ == "__main__":
    main()
