"""Parse the store's search results into Listings (imports nothing of ours)."""

from __future__ import annotations

from dataclasses import dataclass


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
