"""Markup of the simulated store: search rows in the 2015 and 2023 layouts, pages and bodies."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from html import escape

from storesim.data import GameTruth, Sale, game_truth, static_game

LAYOUTS = ("2015", "2023")
MAX_COUNT = 100  # the real store answers at most 100 rows per request
_STORE = "https://store.steampowered.com"
_CDN = "https://shared.akamai.steamstatic.com/store_item_assets/steam"

_ROW = """<a href="{store}/{kind}/{sid}/{slug}/?snr=1_7_7_7000_150_1"
   {ids}data-ds-itemkey="{itemkey}" data-ds-tagids="[19,21,492]"
   onmouseover="GameHover( this, event, 'global_hover', {{&quot;type&quot;:&quot;{kind}&quot;,\
&quot;id&quot;:{sid},&quot;public&quot;:1,&quot;v6&quot;:1}} );"
   onmouseout="HideGameHover( this, event, 'global_hover' )" class="search_result_row \
ds_collapse_flag " data-search-page="{page}" data-gpnav="item">
    <div class="col search_capsule"><img src="{cdn}/{kind}s/{sid}/capsule_sm_120.jpg?t=1700000000\
"></div>
    <div class="responsive_search_name_combined">
        <div class="col search_name ellipsis">
            <span class="title">{title}</span>
            <div><span class="platform_img win"></span></div>
        </div>
        <div class="col search_released responsive_secondrow">{released}</div>
        <div class="col search_reviewscore responsive_secondrow">
        </div>
{price}
    </div>
    <div style="clear: left;"></div>
</a>"""


def json_text(text: str) -> str:
    """Return text as the inside of a JSON string, escaped like the real store (\\u, \\/)."""
    return json.dumps(text)[1:-1].replace("/", "\\/")


# The row template escaped for JSON once; its fields are escaped once per game.
_JSON_ROW = (
    json_text(_ROW)
    .replace("{store}", _STORE.replace("/", "\\/"))
    .replace("{cdn}", _CDN.replace("/", "\\/"))
)


def _attr(game: GameTruth) -> str:
    return "" if game.price_attr is None else f' data-price-final="{game.price_attr}"'


def price_2015(game: GameTruth) -> str:
    """Return the 2015-2022 price block: combined[data-price-final], discount span, strike."""
    pct = f"<span>-{game.discount_pct}%</span>" if game.discount_pct else ""
    text = escape(game.price_text)
    cls = "search_price"
    if game.discount_pct:
        cls = "search_price discounted"
        text = (
            f'<span style="color: #888888;"><strike>{escape(game.original_text)}</strike>'
            f"</span><br>{text}"
        )
    return (
        f'        <div class="col search_price_discount_combined responsive_secondrow"'
        f"{_attr(game)}>\n"
        f'            <div class="col search_discount responsive_secondrow">\n'
        f"                {pct}\n            </div>\n"
        f'            <div class="col {cls}  responsive_secondrow">\n'
        f"                {text}\n            </div>\n        </div>"
    )


def price_2023(game: GameTruth) -> str:
    """Return the 2023+ price block: discount_block[data-price-final][data-discount]."""
    if game.price_attr is None and not game.price_text:
        block = (
            '<div class="discount_block search_discount_block empty">'
            '<div class="discount_prices"></div></div>'
        )
    else:
        pct = game.discount_pct
        label = ""
        inner = ""
        if pct:
            label = (
                f' role="link" aria-label="{pct}% off. {escape(game.original_text)} normally,'
                f' discounted to {escape(game.price_text)}"'
            )
            inner = (
                f'<div class="discount_pct">-{pct}%</div><div class="discount_prices">'
                f'<div class="discount_original_price">{escape(game.original_text)}</div>'
            )
        else:
            inner = '<div class="discount_prices">'
        free = " free" if game.is_free else ""
        inner += f'<div class="discount_final_price{free}">{escape(game.price_text)}</div></div>'
        no_discount = "" if pct else " no_discount"
        block = (
            f'<div class="discount_block search_discount_block{no_discount}"'
            f'{_attr(game)} data-bundlediscount="0"'
            f' data-discount="{pct}"{label}>{inner}</div>'
        )
    return (
        '        <div class="col search_price_discount_combined responsive_secondrow">\n'
        f'            <div class="search_discount_and_price responsive_secondrow">{block}'
        "</div>\n        </div>"
    )


def _fields(index: int, seed: int) -> dict[str, str | int]:
    """Return the parts of a row that no epoch changes, as HTML."""
    game = static_game(index, seed)
    if game.row_kind == "sub":
        appids = ",".join(map(str, game.appids))
        ids = f'data-ds-packageid="{game.steam_id}" data-ds-appid="{appids}" '
    elif game.row_kind == "bundle":
        ids = f'data-ds-bundleid="{game.steam_id}"\n   '
    else:
        ids = f'data-ds-appid="{game.steam_id}" '
    title = escape(game.title, quote=False)
    if index % 11 == 3:
        title = title.replace(" ", "  \n   ", 1)  # the parser must collapse whitespace
    released = f"{1 + index % 28} Aug, 20{10 + index % 15}"
    return {
        "kind": game.row_kind,
        "sid": game.steam_id,
        "ids": ids,
        "itemkey": game.itemkey,
        "slug": re.sub(r"[^A-Za-z0-9]+", "_", game.title).strip("_") or "_",
        "page": 1 + index // 50,
        "title": title,
        "released": "" if game.row_kind == "bundle" else released,
    }


@lru_cache(maxsize=1 << 18)
def _json_fields(index: int, seed: int) -> dict[str, str | int]:
    """Return _fields escaped for the inside of a JSON string (cached, a few hundred bytes)."""
    fields = _fields(index, seed)
    return {
        **fields,
        "ids": json_text(str(fields["ids"])),
        "title": json_text(str(fields["title"])),
    }


def render_row(game: GameTruth, layout: str, seed: int = 0) -> str:
    """Return one search result row (an <a class="search_result_row">) in the given layout."""
    price = price_2023(game) if layout == "2023" else price_2015(game)
    return _ROW.format(store=_STORE, cdn=_CDN, price=price, **_fields(game.index, seed))


def _rows(
    games: int,
    seed: int,
    epoch: int,
    sale: Sale | None,
    cc: str,
    language: str,
    start: int,
    count: int,
) -> Iterator[GameTruth]:
    stop = min(games, start + min(max(count, 0), MAX_COUNT))
    for i in range(max(start, 0), stop):
        yield game_truth(i, seed=seed, epoch=epoch, sale=sale, cc=cc, language=language)


@lru_cache(maxsize=64)
def page_rows(
    games: int,
    seed: int,
    epoch: int,
    sale: Sale | None,
    layout: str,
    cc: str,
    language: str,
    start: int,
    count: int,
) -> str:
    """Return the rows of one page as HTML (at most MAX_COUNT rows)."""
    rows = _rows(games, seed, epoch, sale, cc, language, start, count)
    return "\n".join(render_row(game, layout, seed) for game in rows)


@lru_cache(maxsize=4096)
def _json_price(layout: str, attr: int | None, pct: int, free: bool, text: str, orig: str) -> str:
    # Few distinct price blocks exist (tiers x discounts), so most rows hit this cache.
    game = GameTruth(0, "app", 0, (), "", "", None, None, pct, free, text, "", attr, orig)
    return json_text(price_2023(game) if layout == "2023" else price_2015(game))


@lru_cache(maxsize=1024)
def json_body(
    games: int,
    seed: int,
    epoch: int,
    sale: Sale | None,
    layout: str,
    cc: str,
    language: str,
    start: int,
    count: int,
) -> bytes:
    """Return the infinite-scroll JSON answer (cached: the catalogue is deterministic)."""
    parts = []
    for game in _rows(games, seed, epoch, sale, cc, language, start, count):
        price = _json_price(
            layout,
            game.price_attr,
            game.discount_pct,
            game.is_free,
            game.price_text,
            game.original_text,
        )
        parts.append(_JSON_ROW.format(price=price, **_json_fields(game.index, seed)))
    html = "\\n".join(parts)
    if html:
        html = f"\\n<!-- List Items -->\\n{html}\\n<!-- End List Items -->\\n"
    body = f'{{"success":1,"results_html":"{html}","total_count":{games},"start":{start}}}'
    return body.encode("ascii")


def html_page(games: int, rows: str) -> bytes:
    """Return a plain search page (the answer without infinite=1)."""
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Search</title></head>'
        f'<body><div class="search_results_count">{games:,} results match your search.</div>'
        f'<div id="search_resultsRows">\n{rows}\n</div></body></html>'
    ).encode()


def prewarm(games: int, seed: int, stop: Callable[[], bool] = lambda: False) -> None:
    """Build the cached per-game row fields up front (the slow part of a cold page)."""
    for index in range(min(games, _json_fields.cache_info().maxsize or 0)):
        if index % 1000 == 0 and stop():
            return
        _json_fields(index, seed)
