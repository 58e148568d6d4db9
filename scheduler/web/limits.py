"""Limits against abuse, held in Redis so every web process counts together.

The `limits` library's moving window (the same library parses the store's rate): per client
address (werkzeug's ProxyFix makes request.remote_addr the real one behind WEB_TRUSTED_PROXIES
proxies) for forms a signed-out visitor posts, and per recipient for sign-in emails, the address
normalised for the limit only (lower case, no dots, no +tag), so a+1@x and a.b@x share one.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from config import Config
from scheduler.catalogue.limiter import redis_py_url

REDIS_TIMEOUT = 2.0  # seconds: a hung Redis fails the request with a 503, it never hangs it


def limit_key(address: str) -> str:
    """Return the address as the per-recipient limit counts it: lower case, no dots, no +tag."""
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{domain}"


@dataclass
class WebLimits:
    """The web's limits; each check counts one hit and says whether it was allowed."""

    limiter: MovingWindowRateLimiter
    form_rates: list[RateLimitItem]
    email_rates: list[RateLimitItem]

    @classmethod
    def from_config(cls, config: Config) -> WebLimits:
        """Return the limits of config, on its Redis."""
        storage = RedisStorage(
            redis_py_url(config.redis_url),
            key_prefix="scout-web",
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
        )
        return cls(
            MovingWindowRateLimiter(storage),
            parse_many(config.web_form_limit),
            parse_many(config.sign_in_email_limit),
        )

    def _hit(self, items: list[RateLimitItem], *identifiers: str) -> bool:
        return all([self.limiter.hit(item, *identifiers) for item in items])

    def form_post(self, client: str) -> bool:
        """Count a form a signed-out client posted; False when it is over WEB_FORM_LIMIT."""
        return self._hit(self.form_rates, "form", client)

    def sign_in_email(self, address: str) -> bool:
        """Count a sign-in email to address; False when it is over SIGN_IN_EMAIL_LIMIT."""
        return self._hit(self.email_rates, "sign-in", limit_key(address))
