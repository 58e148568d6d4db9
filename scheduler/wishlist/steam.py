"""The Steam client of the wishlist import: a profile's SteamID64, a wishlist's app ids.

Two requests at most per import, both with the store client's care (scheduler.catalogue.polite:
timeouts, backoff with jitter, Retry-After) and one rate shared by every worker, a budget of its
own (STEAM_API_RATE_LIMIT). Names and prices never come from here: the catalogue has them.
A Retry-After above RETRY_AFTER_MAX fails the import at once rather than holding a worker, so a
person waits at most a few minutes for the report. Imports nothing of ours that touches a
database.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from config import Config
from scheduler.catalogue.limiter import SharedRateLimit
from scheduler.catalogue.polite import FetchError, PoliteClient, per_process
from scheduler.wishlist.answers import (
    GarbageAnswer,
    ProfileAnswer,
    ProfileNotFound,
    parse_profile,
    parse_wishlist,
)
from scheduler.wishlist.profile import ProfileRef

RETRY_AFTER_MAX = 60.0
WISHLIST_PATH = "/IWishlistService/GetWishlist/v1/"


class SteamClient(PoliteClient):
    """Asks Steam's community site and Web API politely; one per process (see steam_client)."""

    def __init__(
        self,
        api_url: str,
        community_url: str,
        *,
        rate_limit: str = "1/second",
        redis_url: str = "redis://localhost:6379/0",
        **polite: float | int | str,
    ) -> None:
        super().__init__(retry_after_max=RETRY_AFTER_MAX, **polite)  # type: ignore[arg-type]
        self.api_url = api_url.rstrip("/")
        self.community_url = community_url.rstrip("/")
        key = f"steam:{urlsplit(self.api_url).netloc}"
        self.rate = SharedRateLimit(rate_limit, redis_url, key=key, lease=self.lease)

    def resolve(self, name: str) -> ProfileAnswer:
        """Return the SteamID64 (and privacy) behind a custom URL name.

        Raises ProfileNotFound, GarbageAnswer, or FetchError when retries run out.
        """
        url = f"{self.community_url}/id/{quote(name, safe='')}/"
        body = self._fetch(url, {"xml": 1}, 0, f"Steam profile {name}", self.rate.acquire)
        return parse_profile(body)

    def wishlist(self, steamid: int) -> list[int]:
        """Return the app ids on a profile's wishlist ([] when private or empty).

        Raises GarbageAnswer, or FetchError when retries run out.
        """
        url = f"{self.api_url}{WISHLIST_PATH}"
        what = f"Steam wishlist of {steamid}"
        return parse_wishlist(self._fetch(url, {"steamid": steamid}, 0, what, self.rate.acquire))

    def close(self) -> None:
        """Close the session's connections and the limiter's."""
        super().close()
        self.rate.close()


@dataclass(frozen=True)
class Wishlist:
    """A profile's wishlist as Steam gave it: whose, and its app ids ([] private or empty)."""

    steamid: int
    profile_private: bool
    appids: list[int]


def read_wishlist(client: SteamClient, profile: ProfileRef) -> Wishlist:
    """Return the wishlist of profile, resolving a custom URL name first.

    Raises ProfileNotFound, GarbageAnswer, or FetchError when Steam does not answer.
    """
    private = False
    steamid = profile.steamid
    if steamid is None:
        answer = client.resolve(profile.name or "")
        steamid, private = answer.steamid, answer.private
    return Wishlist(steamid, private, client.wishlist(steamid))


def failure_reason(exc: Exception, profile: ProfileRef) -> str:
    """Return one line for the report saying why an import failed with exc."""
    if isinstance(exc, ProfileNotFound):
        return f"profile not found: Steam has no profile steamcommunity.com/{profile.canonical}"
    if isinstance(exc, GarbageAnswer):
        return f"Steam's answer could not be read ({exc}); nothing was imported"
    if isinstance(exc, FetchError):
        return (
            f"Steam unreachable: no answer after {exc.attempts} attempts ({exc.reason}); "
            "try again later"
        )
    return "Steam took too long to answer; try again later"


def steam_client(config: Config) -> SteamClient:
    """Return this process's Steam client for config (a forked child builds its own)."""
    return per_process(
        SteamClient,
        api_url=config.steam_api_url,
        community_url=config.steam_community_url,
        rate_limit=config.steam_api_rate_limit,
        redis_url=config.redis_url,
        connect_timeout=config.store_connect_timeout,
        read_timeout=config.store_read_timeout,
        max_retries=config.store_max_retries,
        backoff_base=config.store_backoff_base,
        backoff_max=config.store_backoff_max,
        user_agent=config.store_user_agent,
    )
