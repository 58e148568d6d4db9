"""Steam community profile pages and the Web API's GetWishlist, served by the simulated store.

  GET /id/<name>/?xml=1      -> <profile><steamID64>...</steamID64><privacyState>...</profile>, or
                                <response><error><![CDATA[The specified profile could not be
                                found.]]></error></response> for a name nobody has (HTTP 200)
  GET /profiles/<id>/?xml=1  -> the same for a SteamID64
  GET /IWishlistService/GetWishlist/v1/?steamid=<id>
      -> {"response": {"items": [{"appid": N, "priority": N, "date_added": unix}, ...]}};
         {"response": {}} for a private or empty wishlist, or an id nobody has
A private profile's page still holds its steamID64 (and privacyState private), as Steam's does.

Profiles: PRESETS, and those POST /_sim/control {"profiles": [...]} adds or replaces (by
steamid); {"reset": true} brings back the presets alone. One profile:
  {"steamid": "76561198000000010", "name": "ann_w", "private": false,
   "apps": 40, "appids": [1005, 1042], "missing": 3}
apps: the first N apps of the current catalogue (rows App_<id> of the search pages), so an
import finds them after a scrape; appids: these ids as given; missing: N ids the catalogue does
not have as apps (they are listed after the others). Faults: endpoint "profile" or "wishlist".
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from storesim.data import static_game
from storesim.faults import Fault

if TYPE_CHECKING:
    from storesim.store import SimStore

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
WISHLIST_PATH = "/IWishlistService/GetWishlist/v1/"
FIRST_DATE = 1_700_000_000
NOT_FOUND = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><response><error>'
    "<![CDATA[The specified profile could not be found.]]></error></response>"
)
_PROFILE_PATH = re.compile(r"/(id|profiles)/([^/]+)/?")
_FIELDS = {"steamid", "name", "private", "apps", "appids", "missing"}


@dataclass(frozen=True)
class Profile:
    """One simulated Steam account and what its wishlist holds."""

    steamid: int
    name: str | None = None
    private: bool = False
    apps: int = 0
    appids: tuple[int, ...] = ()
    missing: int = 0


PRESETS = (
    Profile(76561198000000001, "wishlister", apps=30, missing=3),
    Profile(76561198000000002, "private_wisher", private=True, apps=10),
    Profile(76561198000000003, "empty_wisher"),
)


def parse_profile(spec: Any) -> Profile:
    """Return a Profile from its JSON form; raises ValueError with one line when malformed."""
    if not isinstance(spec, dict) or set(spec) - _FIELDS or "steamid" not in spec:
        raise ValueError(f"profile must be an object with steamid and keys from {sorted(_FIELDS)}")
    steamid, name = str(spec["steamid"]), spec.get("name")
    if not (steamid.isdigit() and len(steamid) == 17):
        raise ValueError(f"profile steamid {steamid!r}: must be 17 digits")
    if name is not None and not (isinstance(name, str) and re.fullmatch(r"[\w-]{3,32}", name)):
        raise ValueError(f"profile name {name!r}: must be 3-32 letters, digits, _ or -")
    counts = [spec.get(key, 0) for key in ("apps", "missing")]
    appids = spec.get("appids", [])
    numbers = [*counts, *appids] if isinstance(appids, list) else [None]
    if any(isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 2**32 for n in numbers):
        raise ValueError("profile apps, missing and appids must be whole numbers below 2**32")
    return Profile(
        int(steamid), name, bool(spec.get("private")), counts[0], tuple(appids), counts[1]
    )


class ProfileBook:
    """The simulated accounts, by SteamID64 and by custom URL name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Keep the presets alone."""
        with self._lock:
            self._by_id = {profile.steamid: profile for profile in PRESETS}

    def add(self, profiles: list[Profile]) -> None:
        """Add profiles, replacing any with the same steamid."""
        with self._lock:
            self._by_id.update({profile.steamid: profile for profile in profiles})

    def find(self, kind: str, key: str) -> Profile | None:
        """Return the profile /id/<key> (kind "id") or /profiles/<key> names, or None."""
        with self._lock:
            if kind == "profiles":
                return self._by_id.get(int(key)) if key.isdigit() else None
            folded = key.lower()  # custom URL names are not case-sensitive on Steam
            for profile in self._by_id.values():
                if profile.name is not None and profile.name.lower() == folded:
                    return profile
        return None


def wishlist_appids(profile: Profile, games: int, seed: int) -> list[int]:
    """Return the app ids on profile's wishlist in a catalogue of `games` games from seed."""
    apps: list[int] = []
    absent: list[int] = []
    for index in range(games):
        is_app = static_game(index, seed).row_kind == "app"
        if is_app and len(apps) < profile.apps:
            apps.append(1000 + index)
        elif not is_app and len(absent) < profile.missing:
            absent.append(1000 + index)  # that id is a package or bundle row: no such app
        if len(apps) >= profile.apps and len(absent) >= profile.missing:
            break
    return [*apps, *profile.appids, *absent]


def profile_xml(profile: Profile) -> str:
    """Return the ?xml=1 page of a profile, in the shape of Steam's."""
    state = "private" if profile.private else "public"
    name = escape(profile.name or f"user{profile.steamid % 100000}")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><profile>\n'
        f"\t<steamID64>{profile.steamid}</steamID64>\n"
        f"\t<steamID><![CDATA[{name}]]></steamID>\n"
        "\t<onlineState>offline</onlineState>\n"
        f"\t<privacyState>{state}</privacyState>\n"
        f"\t<visibilityState>{1 if profile.private else 3}</visibilityState>\n"
        "\t<vacBanned>0</vacBanned>\n\t<isLimitedAccount>0</isLimitedAccount>\n"
        + (f"\t<customURL><![CDATA[{name}]]></customURL>\n" if profile.name else "")
        + "</profile>"
    )


def wishlist_json(profile: Profile | None, games: int, seed: int) -> bytes:
    """Return GetWishlist's answer for profile (None: nobody has that id)."""
    if profile is None or profile.private:
        return b'{"response":{}}'
    ids = wishlist_appids(profile, games, seed)
    if not ids:
        return b'{"response":{}}'
    items = [
        {"appid": appid, "priority": n, "date_added": FIRST_DATE + n * 86400}
        for n, appid in enumerate(ids)
    ]
    return json.dumps({"response": {"items": items}}, separators=(",", ":")).encode()


def answer_steam(handler: Any, sim: SimStore, path: str) -> bool:
    """Answer a profile page or GetWishlist on handler; return False for any other path."""
    query = parse_qs(urlsplit(handler.path).query, keep_blank_values=True)
    match = _PROFILE_PATH.fullmatch(path)
    if match is not None:
        endpoint, answer = "profile", lambda: _profile_page(sim, *match.groups())
    elif path.rstrip("/") == WISHLIST_PATH.rstrip("/"):
        steamid = (query.get("steamid") or [""])[0]
        endpoint, answer = "wishlist", lambda: _wishlist(sim, steamid)
    else:
        return False
    sim.stats_book.record_steam(endpoint)
    fault = sim.faults.pick(None, endpoint)
    if fault is not None and fault.kind != "slow":
        sim.stats_book.record_status(fault.kind)
        _answer_fault(handler, fault, endpoint)
        return True
    sim.stats_book.record_status("200" if fault is None else "slow")
    if fault is not None and sim.stopping.wait(fault.delay):
        return True
    body, ctype = answer()
    handler.send_body(200, body, ctype)
    return True


def _profile_page(sim: SimStore, kind: str, key: str) -> tuple[bytes, str]:
    profile = sim.profiles.find(kind, key)
    return (NOT_FOUND if profile is None else profile_xml(profile)).encode(), XML_TYPE


def _wishlist(sim: SimStore, steamid: str) -> tuple[bytes, str]:
    games, seed, *_ = sim.catalogue_key()
    profile = sim.profiles.find("profiles", steamid)
    return wishlist_json(profile, games, seed), JSON_TYPE


_GARBLED = b"<html><head><title>Access Denied</title></head><body>\xff\xfe Reference #18</body>"
_BROKEN = {
    "profile": b"<profile><steamID64>not-an-id</steamID64></profile>",
    "wishlist": b'{"response":{"items":[{"appid":"440","priority":0}]}}',
}
_WHOLE = {
    "profile": profile_xml(PRESETS[0]).encode(),
    "wishlist": b'{"response":{"items":[{"appid":1001,"priority":0,"date_added":1700000000}]}}',
}


def _answer_fault(handler: Any, fault: Fault, endpoint: str) -> None:
    if fault.status is not None:
        after = fault.retry_after_header()
        headers = {"Retry-After": after} if after is not None else {}
        body = f"<html><body><h1>{fault.status}</h1></body></html>".encode()
        handler.send_body(fault.status, body, "text/html", headers)
    elif fault.kind == "down":
        handler.reset_connection()
    elif fault.kind in ("cut", "truncated"):
        body = _WHOLE[endpoint]
        handler.send_body(200, body, JSON_TYPE, send_bytes=len(body) // 2)
        handler.close_connection = True
    elif fault.kind == "garbled":
        handler.send_body(200, _GARBLED, "text/html; charset=utf-8")
    elif fault.kind == "json_error":
        handler.send_body(200, _BROKEN[endpoint], JSON_TYPE)
    elif fault.kind == "empty":
        handler.send_body(200, b"", JSON_TYPE)
    elif fault.kind == "null":
        handler.send_body(200, b"null", JSON_TYPE)
