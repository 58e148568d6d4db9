"""Read Steam's answers for the wishlist import; no database code, no network.

A profile page (steamcommunity.com/id/<name>/?xml=1) is XML: <profile><steamID64>...
</steamID64><privacyState>public|friendsonly|private</privacyState>...</profile>, or, for a name
nobody has, <response><error>The specified profile could not be found.</error></response>.
It is parsed by lxml with no entity expansion, no network and no huge trees, and a document
type declaration is refused: Steam sends none, so one is somebody else's answer.

GetWishlist answers {"response": {"items": [{"appid", "priority", "date_added"}, ...]}}; a
private or an empty wishlist answers {"response": {}} and nothing tells the two apart. An item
without a whole positive app id makes the whole answer unreadable (GarbageAnswer) rather than
silently dropping that item.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lxml import etree

from scheduler.wishlist.profile import is_individual

MAX_ITEMS = 100_000  # far above any wishlist Steam keeps; more is not a wishlist
MAX_APPID = 2**32 - 1


class GarbageAnswer(Exception):
    """Steam's answer is not what the endpoint sends; str() is one line saying what is wrong."""


class ProfileNotFound(Exception):
    """Steam has no profile with that custom URL name; str() is Steam's own line."""


@dataclass(frozen=True)
class ProfileAnswer:
    """What a profile page says: the account's SteamID64, and whether the profile is private."""

    steamid: int
    private: bool


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    load_dtd=False,
    remove_comments=True,
    encoding="utf-8",
)


def _xml_root(body: str) -> Any:
    try:
        root = etree.fromstring(body.encode("utf-8"), _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise GarbageAnswer(f"the profile page is not XML ({str(exc)[:80]})") from None
    tree: Any = root.getroottree() if root is not None else None
    if tree is None or tree.docinfo.doctype:
        raise GarbageAnswer("the profile page is not Steam's XML")
    return root


def _text(element: Any, tag: str) -> str:
    found = element.find(tag)
    return "" if found is None or found.text is None else " ".join(found.text.split())


def parse_profile(body: str) -> ProfileAnswer:
    """Return the profile's SteamID64 and privacy; raises ProfileNotFound or GarbageAnswer."""
    root = _xml_root(body)
    if root.tag == "response" and root.find("error") is not None:
        message = _text(root, "error") or "The specified profile could not be found."
        raise ProfileNotFound(message[:200])
    if root.tag != "profile":
        raise GarbageAnswer(f"the profile page holds <{str(root.tag)[:20]}>, not <profile>")
    raw = _text(root, "steamID64")
    if not (raw.isascii() and raw.isdigit() and len(raw) == 17 and is_individual(int(raw))):
        raise GarbageAnswer(f"the profile page's steamID64 {raw[:20]!r} is not a SteamID64")
    return ProfileAnswer(int(raw), _text(root, "privacyState").lower() == "private")


def _appid(item: Any, position: int) -> int:
    appid = item.get("appid") if isinstance(item, dict) else None
    if isinstance(appid, bool) or not isinstance(appid, int) or not 0 < appid <= MAX_APPID:
        raise GarbageAnswer(f"wishlist item {position} has no app id ({str(item)[:60]})")
    return appid


def parse_wishlist(body: str) -> list[int]:
    """Return the wishlist's app ids, each once, in the answer's order ([] when private or
    empty); raises GarbageAnswer when the answer is not a GetWishlist answer."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        raise GarbageAnswer(f"the wishlist answer is not JSON ({body[:40]!r})") from None
    response = answer.get("response") if isinstance(answer, dict) else None
    if not isinstance(response, dict):
        raise GarbageAnswer(f"the wishlist answer has no response object ({body[:40]!r})")
    items = response.get("items", [])
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise GarbageAnswer("the wishlist answer's items are not a list of apps")
    return list(dict.fromkeys(_appid(item, n) for n, item in enumerate(items, 1)))
