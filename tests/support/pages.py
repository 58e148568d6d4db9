"""Synthetic search rows and answers in the store's real layouts (2015-2022 and 2023+)."""

from __future__ import annotations

import json


def row_attrs(itemkey: str | None, appid: str | None = None, extra: str = "") -> str:
    """Return the opening attributes of a row the way the store writes them."""
    attrs = ['href="https://store.steampowered.com/x/?snr=1_7_7"']
    if appid is not None:
        attrs.append(f'data-ds-appid="{appid}"')
    if itemkey is not None:
        attrs.append(f'data-ds-itemkey="{itemkey}"')
    return " ".join(attrs) + (" " + extra if extra else "")


def old_row(
    itemkey: str | None = "App_10",
    title: str = "Game",
    price_final: str | None = "1999",
    price: str = "$19.99",
    original: str | None = None,
    pct: str = "",
    appid: str | None = None,
    extra: str = "",
    price_class: str = "",
) -> str:
    """Return a 2015-2022 search row (search_price_discount_combined, <strike> original)."""
    data = "" if price_final is None else f' data-price-final="{price_final}"'
    struck = (
        f'<span style="color: #888888;"><strike>{original}</strike></span><br>'
        if original is not None
        else ""
    )
    return f"""
    <a {row_attrs(itemkey, appid, extra)} class="search_result_row ds_collapse_flag ">
      <div class="col search_capsule"><img src="https://cdn/x.jpg"></div>
      <div class="responsive_search_name_combined">
        <div class="col search_name ellipsis"><span class="title">{title}</span>
          <div><span class="platform_img win"></span></div></div>
        <div class="col search_released responsive_secondrow">12 Aug, 2022</div>
        <div class="col search_price_discount_combined responsive_secondrow"{data}>
          <div class="col search_discount responsive_secondrow">
            {f"<span>{pct}</span>" if pct else ""}
          </div>
          <div class="col search_price {price_class} responsive_secondrow">
            {struck}{price}
          </div>
        </div>
      </div>
      <div style="clear: left;"></div>
    </a>"""


def discount_block(
    price_final: str | None = "1999",
    price: str = "$19.99",
    original: str | None = None,
    discount: str | None = "0",
    pct_text: str | None = None,
    extra_class: str = "",
    final_class: str = "",
) -> str:
    """Return a 2023+ discount_block."""
    attrs = "" if price_final is None else f' data-price-final="{price_final}"'
    attrs += "" if discount is None else f' data-discount="{discount}"'
    pct_div = f'<div class="discount_pct">{pct_text}</div>' if pct_text is not None else ""
    orig = f'<div class="discount_original_price">{original}</div>' if original else ""
    final = f'<div class="discount_final_price {final_class}">{price}</div>' if price else ""
    return (
        f'<div class="discount_block {extra_class}"{attrs} data-bundlediscount="0">'
        f'{pct_div}<div class="discount_prices">{orig}{final}</div></div>'
    )


def new_row(itemkey: str = "App_20", title: str = "New Game", block: str | None = None) -> str:
    """Return a 2023+ search row: the combined block wraps a discount_block."""
    block = discount_block() if block is None else block
    return f"""
    <a {row_attrs(itemkey)} class="search_result_row ds_collapse_flag">
      <div class="responsive_search_name_combined">
        <div class="col search_name ellipsis"><span class="title">{title}</span></div>
        <div class="col search_price_discount_combined responsive_secondrow"
             data-price-final="{block.split('data-price-final="')[-1].split('"')[0]}">
          {block}
        </div>
      </div>
    </a>"""


def tab_item(itemkey: str = "App_30", title: str = "Tab Game", block: str | None = None) -> str:
    """Return a tab item (new releases / specials tab): title in .tab_item_name."""
    block = discount_block() if block is None else block
    return f"""
    <a {row_attrs(itemkey)} class="tab_item   app_impression_tracked">
      <div class="tab_item_cap"><img class="tab_item_cap_img" src="x.jpg"></div>
      {block}
      <div class="tab_item_content"><div class="tab_item_name">{title}</div>
        <div class="tab_item_details"><div class="tab_item_top_tags">
          <span class="top_tag">Casual</span></div></div></div>
    </a>"""


def page(*rows: str) -> str:
    """Return a results page holding rows."""
    return '<div id="search_resultsRows">' + "".join(rows) + "\n</div>\n"


def response(html: str, total: int = 9624, start: int = 0) -> str:
    """Return the search API's JSON answer wrapping html."""
    return json.dumps({"success": 1, "results_html": html, "total_count": total, "start": start})
