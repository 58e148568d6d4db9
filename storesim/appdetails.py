"""How the simulated store answers GET /api/appdetails, in the real store's shape, faults included.

  /api/appdetails?appids=1005,1007&filters=price_overview&cc=us&l=english
  -> {"1005": {"success": true, "data": {"price_overview": {"currency": "USD", "initial": 1999,
      "final": 999, "discount_percent": 50, "initial_formatted": "$19.99",
      "final_formatted": "$9.99"}}}, "1007": {"success": true, "data": []}}

Only apps answer (search rows App_<id>: paid, free and unpriced ones); packages, bundles and
unknown ids answer {"success": false}. A free or unpriced app has no price_overview, so under
filters=price_overview its data is an empty list, as the real store's PHP serialises it. The
price is the one the search page shows for the same game at the same moment. Several ids
without filters=price_overview answer null, as the real store does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from storesim.data import currency_for, game_truth, static_game
from storesim.faults import Fault

if TYPE_CHECKING:
    from storesim.store import SimStore

JSON_TYPE = "application/json; charset=utf-8"
FIRST_APPID = 1000  # game i's app id is 1000 + i (storesim.data)
MAX_IDS = 1000
_GARBLED = b"<html><head><title>Access Denied</title></head><body>\xff\xfe Reference #18</body>"


def app_entry(
    key: tuple[Any, ...], appid: int, cc: str, language: str, filters: set[str]
) -> dict[str, Any]:
    """Return one id's {"success": ..., "data": ...} for the catalogue snapshot key."""
    games, seed, epoch, sale = key[:4]
    index = appid - FIRST_APPID
    if not 0 <= index < games or static_game(index, seed).row_kind != "app":
        return {"success": False}
    truth = game_truth(index, seed=seed, epoch=epoch, sale=sale, cc=cc, language=language)
    full: dict[str, Any] = {
        "type": "game",
        "name": truth.title,
        "steam_appid": appid,
        "is_free": truth.is_free,
    }
    if truth.final_cents is not None and not truth.is_free:
        money = currency_for(cc)
        initial = truth.original_cents or truth.final_cents
        full["price_overview"] = {
            "currency": money.code,
            "initial": initial,
            "final": truth.final_cents,
            "discount_percent": truth.discount_pct,
            "initial_formatted": money.render(initial) if truth.discount_pct else "",
            "final_formatted": money.render(truth.final_cents),
        }
    data = {k: v for k, v in full.items() if k in filters} if filters else full
    return {"success": True, "data": data or []}


def _appids(query: dict[str, list[str]]) -> list[int]:
    raw = (query.get("appids") or [""])[0]
    ids = [int(part) for part in raw.split(",") if part.strip()]
    if not ids or len(ids) > MAX_IDS or min(ids) < 0:
        raise ValueError(f"appids must list 1 to {MAX_IDS} ids")
    return ids


def answer_appdetails(handler: Any, sim: SimStore) -> None:
    """Answer GET /api/appdetails on handler: the ids' entries, or the fault that matches."""
    query = parse_qs(urlsplit(handler.path).query, keep_blank_values=True)
    try:
        appids = _appids(query)
    except ValueError as exc:
        sim.stats_book.record_status("400")
        handler.send_body(400, f"bad request: {exc}".encode(), "text/plain")
        return
    sim.stats_book.record_appdetails(appids)
    fault = sim.faults.pick(None, "appdetails")
    if fault is not None and fault.kind != "slow":
        sim.stats_book.record_status(fault.kind)
        _answer_fault(handler, fault)
        return
    sim.stats_book.record_status("200" if fault is None else "slow")
    if fault is not None and sim.stopping.wait(fault.delay):
        return
    filters = {f for f in (query.get("filters") or [""])[0].split(",") if f}
    if len(appids) > 1 and "price_overview" not in filters:
        handler.send_body(200, b"null", JSON_TYPE)
        return
    key = sim.catalogue_key()
    cc = (query.get("cc") or ["us"])[0].lower() or "us"
    language = (query.get("l") or ["english"])[0].lower() or "english"
    answer = {str(i): app_entry(key, i, cc, language, filters) for i in appids}
    handler.send_body(200, json.dumps(answer).encode(), JSON_TYPE)


def _answer_fault(handler: Any, fault: Fault) -> None:
    if fault.status is not None:
        after = fault.retry_after_header()
        headers = {"Retry-After": after} if after is not None else {}
        body = f"<html><body><h1>{fault.status}</h1></body></html>".encode()
        handler.send_body(fault.status, body, "text/html", headers)
    elif fault.kind == "down":
        handler.reset_connection()
    elif fault.kind in ("cut", "truncated"):
        body = b'{"1000": {"success": true, "data": {"price_overview": {"currency": "USD"}}}}'
        handler.send_body(200, body, JSON_TYPE, send_bytes=len(body) // 2)
        handler.close_connection = True
    elif fault.kind == "garbled":
        handler.send_body(200, _GARBLED, "text/html; charset=utf-8")
    elif fault.kind == "json_error":
        handler.send_body(200, b'[{"success": 2}]', JSON_TYPE)
    elif fault.kind == "empty":
        handler.send_body(200, b"{}", JSON_TYPE)
    elif fault.kind == "null":
        handler.send_body(200, b"null", JSON_TYPE)
