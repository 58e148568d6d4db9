"""Parse an appdetails answer (filters=price_overview) into prices; no database code here.

The answer is an object keyed by app id, each {"success": bool, "data": ...}. Every hostile or
odd case ends up in one bucket, never in an exception for one id:
  prices   a readable price_overview in the expected currency
  no_price success but no price_overview: a free app, an unreleased one, or data [] (the
           real store's empty PHP array). Nothing here says which, so the stored price stays.
  unknown  success false: an unknown or delisted id (or a package id sent by mistake)
  bad      a malformed entry or another currency; reason per id
  missing  an id we asked for that the answer does not mention
A whole answer that is not such an object (null, an HTML error page, cut JSON) raises
ParseError, so the caller keeps every price of the request and tries again later.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scheduler.catalogue.parse import Listing, ParseError


@dataclass(frozen=True, slots=True)
class AppPrice:
    """One app's price in minor units; original_cents only when discounted, as search rows."""

    final_cents: int
    original_cents: int | None
    discount_pct: int


@dataclass
class PriceAnswer:
    """What one appdetails answer says about each id asked (see the module docstring)."""

    prices: dict[int, AppPrice] = field(default_factory=dict)
    no_price: set[int] = field(default_factory=set)
    unknown: set[int] = field(default_factory=set)
    bad: dict[int, str] = field(default_factory=dict)
    missing: set[int] = field(default_factory=set)

    @property
    def answered(self) -> set[int]:
        """Return the ids the store gave a usable answer for (priced, unpriced or unknown)."""
        return set(self.prices) | self.no_price | self.unknown


def _minor_units(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**12:
        raise ValueError(f"{name} {str(value)[:40]!r} is not an amount in minor units")
    return value


def read_price(price: Any, currency: str) -> AppPrice:
    """Return the AppPrice of a price_overview object; raises ValueError when it is malformed."""
    if not isinstance(price, dict):
        raise ValueError("price_overview is not an object")
    got = price.get("currency")
    if got != currency:
        raise ValueError(f"currency {str(got)[:10]!r}, expected {currency}")
    final = _minor_units(price.get("final"), "final")
    initial = _minor_units(price.get("initial", final), "initial")
    pct = price.get("discount_percent", 0)
    if isinstance(pct, bool) or not isinstance(pct, int) or not 0 <= pct <= 100:
        raise ValueError(f"discount_percent {str(pct)[:20]!r} is not 0-100")
    discounted = pct > 0 and initial > final
    return AppPrice(final, initial if discounted else None, pct if discounted else 0)


def _classify(answer: PriceAnswer, appid: int, entry: Any, currency: str) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("success"), bool):
        answer.bad[appid] = "entry is not {success, data}"
    elif not entry["success"]:
        answer.unknown.add(appid)
    elif not isinstance(entry.get("data"), dict | list | None):
        answer.bad[appid] = "data is not an object"
    elif not isinstance(entry.get("data"), dict) or "price_overview" not in entry["data"]:
        answer.no_price.add(appid)
    else:
        try:
            answer.prices[appid] = read_price(entry["data"]["price_overview"], currency)
        except ValueError as exc:
            answer.bad[appid] = str(exc)


def parse_appdetails(body: str, appids: Iterable[int], currency: str) -> PriceAnswer:
    """Return what the answer says about each of appids; raises ParseError for a whole bad one."""
    try:
        data = json.loads(body)
    except ValueError:
        start = " ".join(body[:60].split())
        raise ParseError(f"appdetails answer is not JSON: {start!r}") from None
    if not isinstance(data, dict):
        raise ParseError(f"appdetails answer is {type(data).__name__}, not an object by app id")
    answer = PriceAnswer()
    for appid in appids:
        entry = data.get(str(appid), _MISSING)
        if entry is _MISSING:
            answer.missing.add(appid)
        else:
            _classify(answer, appid, entry, currency)
    return answer


_MISSING = object()


def to_listings(answer: PriceAnswer, titles: Mapping[int, str]) -> list[Listing]:
    """Return Listings of the priced apps that have a title, for the catalogue's upsert."""
    return [
        Listing(
            itemkey=f"App_{appid}",
            kind="app",
            steam_id=appid,
            appids=(appid,),
            title=titles[appid],
            final_cents=price.final_cents,
            original_cents=price.original_cents,
            discount_pct=price.discount_pct,
            is_free=False,
            price_text="",
        )
        for appid, price in sorted(answer.prices.items())
        if appid in titles
    ]


def answer_to_plain(answer: PriceAnswer) -> dict[str, Any]:
    """Return the answer as JSON-able plain values (for a task retry's arguments)."""
    return {
        "prices": [
            [i, p.final_cents, p.original_cents, p.discount_pct] for i, p in answer.prices.items()
        ],
        "no_price": sorted(answer.no_price),
        "unknown": sorted(answer.unknown),
        "bad": [[i, reason] for i, reason in answer.bad.items()],
        "missing": sorted(answer.missing),
    }


def answer_from_plain(plain: Mapping[str, Any]) -> PriceAnswer:
    """Return the PriceAnswer answer_to_plain gave plain; raises ValueError if it is not one."""
    try:
        return PriceAnswer(
            prices={
                int(i): AppPrice(int(f), None if o is None else int(o), int(d))
                for i, f, o, d in plain["prices"]
            },
            no_price={int(i) for i in plain["no_price"]},
            unknown={int(i) for i in plain["unknown"]},
            bad={int(i): str(reason) for i, reason in plain["bad"]},
            missing={int(i) for i in plain["missing"]},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a stored appdetails answer: {exc}") from None
