"""Sales of the simulated store: every n-th game, or chosen apps, from a chosen moment."""

from __future__ import annotations

from typing import Any

from storesim.appdetails import FIRST_APPID
from storesim.data import Sale


def whole(spec: dict[str, Any], name: str, low: int, high: int) -> int:
    value = spec[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name}={value!r}: must be a whole number between {low} and {high}")
    return value


def parse_sale(spec: Any) -> Sale | None:
    """Return a Sale from {"every", "pct", "offset"} or {"appids", "pct"} (or None).

    Raises ValueError when malformed; an "at" key is allowed and read by sale_start.
    """
    if spec is None:
        return None
    if "appids" in spec if isinstance(spec, dict) else False:
        return _appids_sale(spec)
    if not isinstance(spec, dict) or set(spec) - {"every", "pct", "offset", "at"}:
        raise ValueError(f"sale {spec!r}: must look like {{'every': 3, 'pct': 50, 'offset': 0}}")
    return Sale(
        every=whole(spec, "every", 1, 10**9),
        pct=whole(spec, "pct", 0, 99),
        offset=whole({"offset": spec.get("offset", 0)}, "offset", 0, 10**9),
    )


def _appids_sale(spec: dict[str, Any]) -> Sale:
    ids = spec["appids"]
    if set(spec) - {"appids", "pct", "at"} or not isinstance(ids, list):
        raise ValueError("sale on apps: must look like {'appids': [1005], 'pct': 50, 'at': ...}")
    for appid in ids:
        whole({"appid": appid}, "appid", FIRST_APPID, 2**31)
    items = frozenset(appid - FIRST_APPID for appid in ids)
    return Sale(every=0, pct=whole(spec, "pct", 0, 99), items=items)


def sale_start(spec: Any) -> float | None:
    """Return the Unix time a sale spec starts at, or None for at once."""
    at = spec.get("at") if isinstance(spec, dict) else None
    if at is None:
        return None
    if isinstance(at, bool) or not isinstance(at, int | float) or at < 0:
        raise ValueError(f"sale at={at!r}: must be a Unix time in seconds")
    return float(at)


def describe_sale(sale: Sale | None) -> dict[str, Any] | None:
    if sale is None:
        return None
    if sale.items is not None:
        return {"appids": sorted(i + FIRST_APPID for i in sale.items), "pct": sale.pct}
    return {"every": sale.every, "pct": sale.pct, "offset": sale.offset}
