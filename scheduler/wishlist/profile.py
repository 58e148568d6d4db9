"""What a person types to name their Steam profile: a SteamID64, a profile URL or a custom name.

Accepted: a SteamID64 (17 digits, an individual account: universe 1, type 1, instance 1, an
account number above 0), https://steamcommunity.com/profiles/<SteamID64>[/],
https://steamcommunity.com/id/<name>[/], the store's wishlist address
(https://store.steampowered.com/wishlist/profiles/<id>/ or /wishlist/id/<name>/) and a bare
custom name (3 to 32 of A-Z a-z 0-9 _ -). Only a URL's path is read, never its host contacted:
the request goes to STEAM_COMMUNITY_URL. Anything else raises ProfileError with one line, and an
input of digits only is an id, never a name, so a mistyped id is never looked up as a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_PROFILE = 200
STEAMID_DIGITS = 17
_INDIVIDUAL = (1, 1, 1)  # universe Public, type Individual, instance Desktop
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_NAME = re.compile(r"[A-Za-z0-9_-]{3,32}", re.ASCII)
_COMMUNITY_HOSTS = {"steamcommunity.com", "www.steamcommunity.com"}
_STORE_HOSTS = {"store.steampowered.com"}
_PATH = re.compile(r"/(?:wishlist/)?(profiles|id)/([^/]*)/?", re.ASCII)
_URL_HINT = "use https://steamcommunity.com/id/<name> or https://steamcommunity.com/profiles/<id>"


class ProfileError(ValueError):
    """Not a Steam profile we can read; str() is one line for the person."""


@dataclass(frozen=True)
class ProfileRef:
    """A Steam profile named by its SteamID64 or by its custom URL name (exactly one is set)."""

    steamid: int | None = None
    name: str | None = None

    @property
    def canonical(self) -> str:
        """Return the profile's path under steamcommunity.com: profiles/<id> or id/<name>."""
        return f"profiles/{self.steamid}" if self.steamid is not None else f"id/{self.name}"


def is_individual(steamid: int) -> bool:
    """Return whether steamid is a SteamID64 of an individual account (a person's profile)."""
    parts = (steamid >> 56, (steamid >> 52) & 0xF, (steamid >> 32) & 0xFFFFF)
    return 0 < steamid < 1 << 64 and parts == _INDIVIDUAL and steamid & 0xFFFFFFFF != 0


def _shown(text: str) -> str:
    """Return text as a message quotes it: printable (repr), at most about 60 characters."""
    quoted = repr(text[:MAX_PROFILE])
    return quoted if len(quoted) <= 60 else quoted[:56] + "…" + quoted[0]


def _steamid(digits: str) -> ProfileRef:
    if len(digits) != STEAMID_DIGITS:
        raise ProfileError(
            f"not a SteamID64: {_shown(digits)} has {len(digits)} digits, a SteamID64 has 17 "
            "(it starts with 7656119)"
        )
    steamid = int(digits)
    if not is_individual(steamid):
        raise ProfileError(f"not the SteamID64 of a Steam account: {digits}")
    return ProfileRef(steamid=steamid)


def _name(name: str) -> ProfileRef:
    if not _NAME.fullmatch(name):
        raise ProfileError(
            f"not a Steam custom URL name {_shown(name)}: use 3 to 32 letters, digits, _ or -"
        )
    return ProfileRef(name=name)


def _from_url(text: str) -> ProfileRef:
    raw = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(raw)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:  # urlsplit's own refusals, e.g. a lone "[" in the host
        raise ProfileError(f"not a Steam profile address {_shown(text)}: {_URL_HINT}") from None
    if parts.scheme not in ("http", "https") or host not in _COMMUNITY_HOSTS | _STORE_HOSTS:
        raise ProfileError(f"not a Steam profile address {_shown(text)}: {_URL_HINT}")
    match = _PATH.fullmatch(parts.path)
    wishlist_path = parts.path.startswith("/wishlist/")
    if match is None or wishlist_path != (host in _STORE_HOSTS):
        raise ProfileError(f"not a Steam profile address {_shown(text)}: {_URL_HINT}")
    kind, value = match.groups()
    if kind == "profiles":
        if not _DIGITS.fullmatch(value):
            raise ProfileError(f"not a SteamID64 in {_shown(text)}: {_URL_HINT}")
        return _steamid(value)
    return _name(value)


def read_profile(text: str) -> ProfileRef:
    """Return the profile text names (see the module docstring); raises ProfileError."""
    raw = text.strip()
    if not raw:
        raise ProfileError("enter your SteamID64 or your Steam profile's address")
    if len(raw) > MAX_PROFILE:
        raise ProfileError(f"a Steam profile's address has at most {MAX_PROFILE} characters")
    if _DIGITS.fullmatch(raw):
        return _steamid(raw)
    if "/" in raw or ":" in raw:
        return _from_url(raw)
    return _name(raw)
