"""Every setting of the service, read from the environment with local defaults.

This is the only module that reads ``os.environ``. A bad value raises ConfigError with one line
naming the variable and what is wrong; entry points print that line and exit.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent
# Local files (the default SQLite database): instance/ in a checkout; for an installed wheel,
# Flask's rule for an installed package, <prefix>/var/<name>-instance, not site-packages.
if (PROJECT_ROOT / "pyproject.toml").is_file():
    INSTANCE_DIR = PROJECT_ROOT / "instance"
else:
    INSTANCE_DIR = Path(sys.prefix) / "var" / "scout-instance"

# Steam's store currency by country code; STORE_CURRENCY overrides it for anything not listed.
CURRENCY_BY_COUNTRY = {
    "us": "USD",
    "gb": "GBP",
    "ca": "CAD",
    "au": "AUD",
    "nz": "NZD",
    "cn": "CNY",
    "jp": "JPY",
    "kr": "KRW",
    "ru": "RUB",
    "ua": "UAH",
    "pl": "PLN",
    "br": "BRL",
    "mx": "MXN",
    "sg": "SGD",
    "in": "INR",
    "id": "IDR",
    "my": "MYR",
    "ph": "PHP",
    "th": "THB",
    "vn": "VND",
    "tr": "USD",
    "ch": "CHF",
    "no": "NOK",
    "il": "ILS",
    "za": "ZAR",
    "ae": "AED",
    "sa": "SAR",
    "tw": "TWD",
    "hk": "HKD",
    "cl": "CLP",
    "co": "COP",
    "pe": "PEN",
    "cr": "CRC",
    "uy": "UYU",
    "kz": "KZT",
    "qa": "QAR",
    "kw": "KWD",
    "de": "EUR",
    "fr": "EUR",
    "es": "EUR",
    "it": "EUR",
    "nl": "EUR",
    "be": "EUR",
    "at": "EUR",
    "fi": "EUR",
    "ie": "EUR",
    "pt": "EUR",
    "gr": "EUR",
    "sk": "EUR",
    "si": "EUR",
    "ee": "EUR",
    "lv": "EUR",
    "lt": "EUR",
    "lu": "EUR",
    "mt": "EUR",
    "cy": "EUR",
}


class ConfigError(Exception):
    """A setting is missing or malformed; str() is one line naming the variable."""


@dataclass(frozen=True)
class Config:
    database_url: str
    redis_url: str
    redis_ssl_cert_reqs: str | None
    store_url: str
    store_country: str
    store_language: str
    store_currency: str
    store_page_size: int
    store_rate_limit: str
    store_appdetails_rate_limit: str
    store_appdetails_batch: int
    price_refresh_requests: int
    price_refresh_sale_weight: int
    price_stale_after: int
    store_connect_timeout: float
    store_read_timeout: float
    store_max_retries: int
    store_backoff_base: float
    store_backoff_max: float
    store_user_agent: str
    scrape_pages_per_task: int
    scrape_stalled_after: int
    timezone: str
    public_url: str
    mail_server: str
    mail_port: int
    mail_use_tls: bool
    mail_use_ssl: bool
    mail_username: str | None
    mail_password: str | None = field(repr=False)
    mail_default_sender: str
    mail_timeout: float
    mail_batch_size: int
    alert_stuck_after: int
    alert_max_attempts: int
    beat_lock_ttl: int
    beat_max_loop_interval: float
    log_level: str
    broker_visibility_timeout: int
    mail_smtputf8: bool = False
    price_refresh_db_retries: int = 5
    mail_ca_file: str | None = None
    mail_retry_backoff: float = 30.0
    mail_retry_backoff_max: float = 300.0
    alert_db_retries: int = 5
    alert_db_backoff: float = 1.0
    secret_key: str | None = field(default=None, repr=False)
    web_trusted_proxies: int = 0
    sign_in_email_limit: str = "5/hour"
    web_form_limit: str = "30/hour"
    steam_api_url: str = "https://api.steampowered.com"
    steam_community_url: str = "https://steamcommunity.com"
    steam_api_rate_limit: str = "1/second"
    admin_emails: frozenset[str] = frozenset()
    flower_url: str | None = None

    @property
    def mail_domain(self) -> str:
        """The domain of the sender address, used for Message-IDs."""
        address = self.mail_default_sender.rsplit("<", 1)[-1].rstrip(">").strip()
        return address.rsplit("@", 1)[-1] or "localhost"


# Query parameters that carry a secret: libpq's password and sslpassword, redis-py's password.
SECRET_PARAMS = frozenset({"password", "sslpassword"})


def redact_url(value: str) -> str:
    """Return value for a message: a URL's password, and any secret query parameter, as ***."""
    if value.startswith(("postgres", "sqlite")):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)  # the reading create_engine makes of it
        except (ArgumentError, ValueError):
            url = None
        # An unencoded @ in the password makes SQLAlchemy read part of it as the host.
        if url is not None and "@" not in (url.host or ""):
            secret = {key: "***" for key in url.query if key.lower() in SECRET_PARAMS}
            return url.update_query_dict(secret).render_as_string(hide_password=True)
    return _redact_split(value)


def _redact_split(value: str) -> str:
    # urllib's reading, as redis-py's and kombu's: the userinfo ends at the last @, so every
    # character any parser could take for the password is masked.
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed [ of an IPv6 host
        return value.split("@")[-1] if "@" in value else value
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    secret = any(key.lower() in SECRET_PARAMS for key, _ in pairs)
    if parts.password is None and not secret:
        return value  # shown as given: other text is not re-encoded
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
    if secret:
        masked = [(key, "***" if key.lower() in SECRET_PARAMS else item) for key, item in pairs]
        parts = parts._replace(query=urlencode(masked, safe="*"))
    return urlunsplit(parts._replace(netloc=netloc))


def _fail(name: str, value: str, why: str) -> ConfigError:
    shown = redact_url(value)
    if len(shown) > 200:  # one line, even for a pasted file
        shown = shown[:200] + "..."
    return ConfigError(f"{name}={shown!r}: {why}")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _fail(name, raw, "must be a whole number") from None
    if not low <= value <= high:
        raise _fail(name, raw, f"must be between {low} and {high}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _fail(name, raw, "must be a number") from None
    if not low <= value <= high:
        raise _fail(name, raw, f"must be between {low:g} and {high:g}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise _fail(name, raw, "must be true or false")


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


PORT_RANGE = "a whole number from 1 to 65535"


def normalize_database_url(raw: str, name: str = "DATABASE_URL") -> str:
    """Return a SQLAlchemy URL: Heroku's postgres:// becomes postgresql+psycopg://."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme, sep, rest = raw.partition("://")
    if not sep or not rest:
        raise _fail(name, raw, "must look like sqlite:///path or postgresql://user@host/db")
    if scheme in {"postgres", "postgresql"}:
        url = f"postgresql+psycopg://{rest}"
    elif scheme.startswith("postgresql+") or scheme.startswith("sqlite"):
        url = raw
    else:
        raise _fail(name, raw, f"unsupported database {scheme!r} (use sqlite or postgresql)")
    try:
        parsed = make_url(url)  # SQLAlchemy's reading, which the engine will use
    except ArgumentError:
        raise _fail(name, raw, "is not a URL SQLAlchemy can read") from None
    except ValueError:  # int() of an empty or lettered port
        raise _fail(name, raw, f"has a bad port ({PORT_RANGE})") from None
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise _fail(name, raw, f"has a bad port ({PORT_RANGE})")
    if "@" in (parsed.host or ""):
        raise _fail(name, raw, "has an @ in its password: write it as %40")
    return url


# The query options Celery's broker (kombu) and result backend and redis-py all take alike:
# kombu fails on any other with a TypeError at start (even on ?password=, which redis-py reads),
# and Celery's backend refuses these on redis://. ?username= and ?password= go before the host.
_REDIS_QUERY = ("ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile")


def normalize_redis_url(raw: str, cert_reqs: str | None, name: str = "REDIS_URL") -> str:
    """Return a Redis URL Celery, kombu and redis-py all read alike; raises ConfigError."""
    parts = urlsplit(raw)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise _fail(name, raw, "must look like redis://host:6379/0 or rediss://...")
    try:
        port = parts.port  # urlsplit checks the port only when asked
    except ValueError:
        raise _fail(name, raw, f"has a bad port ({PORT_RANGE})") from None
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        raise _fail(name, raw, f"has a bad port ({PORT_RANGE})")
    db = parts.path.lstrip("/")
    if db and not db.isdigit():
        raise _fail(name, raw, "database number after the host must be a whole number")
    query = dict(parse_qsl(parts.query))
    allowed = _REDIS_QUERY if parts.scheme == "rediss" else ()
    extra = next((key for key in query if key not in {*allowed, "username", "password"}), None)
    if extra is not None:  # its value is not shown: it may be a token
        masked = urlencode({key: "***" for key in query}, safe="*")
        shown = urlunsplit(parts._replace(query=masked))
        only = f"only {', '.join(_REDIS_QUERY)} with rediss://"
        raise _fail(name, shown, f"has ?{extra}=, which Celery cannot take ({only})")
    if "password" in query or "username" in query:
        parts = _credentials_before_host(parts, query, name, raw)
    if parts.scheme == "rediss" and "ssl_cert_reqs" not in query:
        query["ssl_cert_reqs"] = cert_reqs or "none"
    return urlunsplit(parts._replace(query=urlencode(query)))


def _credentials_before_host(parts: Any, query: dict[str, str], name: str, raw: str) -> Any:
    """Move ?username= and ?password= (redis-py reads them, kombu fails) before the host."""
    if "@" in parts.netloc:
        raise _fail(name, raw, "has a user or password both before the host and in the query")
    user = quote(query.pop("username", ""), safe="")
    password = quote(query.pop("password", ""), safe="")
    userinfo = f"{user}:{password}" if password else user
    return parts._replace(netloc=f"{userinfo}@{parts.netloc}")


def _choice(
    env: Mapping[str, str], name: str, default: str, check: Callable[[str], bool], why: str
) -> str:
    value = _str(env, name, default)
    if not check(value):
        raise _fail(name, value, why)
    return value


# The longest window a rate may have. The limiter's Redis script counts its windows in
# microseconds: one of 10**10 days overflowed it ("value is not an integer or out of range"),
# and no rate for a store needs more than a year (limits' year: 360 days).
MAX_RATE_PERIOD = 366 * 86400


def _rate_limit(value: str) -> bool:
    from limits import parse_many

    try:
        items = parse_many(value)
    except ValueError:
        return False
    return bool(items) and all(
        item.amount >= 1 and 1 <= item.get_expiry() <= MAX_RATE_PERIOD for item in items
    )


def _timezone(value: str) -> bool:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_cached: Config | None = None


def get_config() -> Config:
    """Return the process-wide Config, loaded from os.environ on first use (entry points only)."""
    global _cached
    if _cached is None:
        _cached = load_config()
    return _cached


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Build the Config from the environment; raises ConfigError naming the bad variable."""
    env = os.environ if environ is None else environ
    fields: dict[str, Any] = {}
    readers = (_services, _store, _prices, _web, _mail, _alerts, _beat, _accounts, _steam, _admin)
    for reader in readers:
        fields.update(reader(env))
    _check_flower_auth(env)
    return Config(**fields)


def _check_flower_auth(env: Mapping[str, str]) -> None:
    """FLOWER_BASIC_AUTH (Flower reads it): raise ConfigError unless each pair is user:password."""
    raw = env.get("FLOWER_BASIC_AUTH", "")
    # Flower splits it on commas and lets in whoever sends one pair exactly: "admin:" would
    # take an empty password. The error shows the users, every password as ***.
    pairs = [pair.partition(":") for pair in raw.split(",")] if raw else []
    if all(colon and user.strip() and password.strip() for user, colon, password in pairs):
        return
    shown = ",".join(user + colon + ("***" if password else "") for user, colon, password in pairs)
    raise _fail(
        "FLOWER_BASIC_AUTH",
        shown,
        "must be user:password (pairs joined by commas), neither the user nor the password empty",
    )


def _services(env: Mapping[str, str]) -> dict[str, Any]:
    """DATABASE_URL, REDIS_URL and how the broker treats unacknowledged work."""
    # Lower-case values: Celery, kombu and redis-py (used directly by beat's lock and the
    # rate limiter) all accept these; redis-py rejects the CERT_* spellings.
    cert_reqs = _choice(
        env,
        "REDIS_SSL_CERT_REQS",
        "none",
        lambda v: v.lower() in {"none", "optional", "required"},
        "must be none, optional or required",
    ).lower()
    default_db = f"sqlite:///{INSTANCE_DIR / 'scout.db'}"
    return {
        "database_url": normalize_database_url(_str(env, "DATABASE_URL", default_db)),
        "redis_url": normalize_redis_url(
            _str(env, "REDIS_URL", "redis://localhost:6379/0"), cert_reqs
        ),
        "redis_ssl_cert_reqs": cert_reqs,
        "broker_visibility_timeout": _int(env, "BROKER_VISIBILITY_TIMEOUT", 7200, 5, 86400),
        "log_level": _choice(
            env,
            "LOG_LEVEL",
            "INFO",
            lambda v: v.upper() in {"DEBUG", "INFO", "WARNING", "ERROR"},
            "must be DEBUG, INFO, WARNING or ERROR",
        ).upper(),
    }


def _http_url(value: str) -> bool:
    parts = urlsplit(value)
    try:
        _ = parts.port
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _store(env: Mapping[str, str]) -> dict[str, Any]:
    """Where the store is, how it is asked, and how politely."""
    country = _choice(
        env,
        "STORE_COUNTRY",
        "us",
        lambda v: len(v) == 2 and v.isascii() and v.isalpha(),
        "must be a two-letter country code",
    ).lower()
    currency = env.get("STORE_CURRENCY", "").strip().upper() or CURRENCY_BY_COUNTRY.get(country)
    if not currency:
        raise _fail("STORE_COUNTRY", country, "has no known currency; set STORE_CURRENCY too")
    if len(currency) != 3 or not (currency.isascii() and currency.isalpha()):
        raise _fail("STORE_CURRENCY", currency, "must be a three-letter ISO 4217 code")
    store_url = _choice(
        env,
        "STORE_URL",
        "https://store.steampowered.com",
        _http_url,
        "must be an http(s) URL such as https://store.steampowered.com",
    )
    return {
        "store_url": store_url.rstrip("/"),
        "store_country": country,
        "store_language": _choice(
            env,
            "STORE_LANGUAGE",
            "english",
            lambda v: v.isascii() and v.replace("_", "").isalpha(),
            "must be a Steam language name such as english",
        ),
        "store_currency": currency,
        "store_page_size": _int(env, "STORE_PAGE_SIZE", 100, 1, 100),
        "store_rate_limit": _choice(
            env,
            "STORE_RATE_LIMIT",
            "1/second",
            _rate_limit,
            "must be a rate of at least 1 per period of at most a year, "
            "such as 1/second or 200/5minutes",
        ),
        "store_connect_timeout": _float(env, "STORE_CONNECT_TIMEOUT", 5.0, 0.1, 120),
        "store_read_timeout": _float(env, "STORE_READ_TIMEOUT", 20.0, 0.1, 600),
        "store_max_retries": _int(env, "STORE_MAX_RETRIES", 5, 0, 20),
        "store_backoff_base": _float(env, "STORE_BACKOFF_BASE", 1.0, 0.0, 60),
        "store_backoff_max": _float(env, "STORE_BACKOFF_MAX", 60.0, 0.0, 3600),
        "store_user_agent": _str(
            env, "STORE_USER_AGENT", "SteamScout/0.1 (price watch; +https://github.com/steamscout)"
        ),
        "scrape_pages_per_task": _int(env, "SCRAPE_PAGES_PER_TASK", 5, 1, 100),
        "scrape_stalled_after": _int(env, "SCRAPE_STALLED_AFTER", 300, 5, 86400),
    }


def _prices(env: Mapping[str, str]) -> dict[str, Any]:
    """The appdetails budget and how the watched-prices refresh spends it."""
    return {
        "store_appdetails_rate_limit": _choice(
            env,
            "STORE_APPDETAILS_RATE_LIMIT",
            "200/5minutes",
            _rate_limit,
            "must be a rate of at least 1 per period of at most a year, such as 200/5minutes",
        ),
        "store_appdetails_batch": _int(env, "STORE_APPDETAILS_BATCH", 100, 1, 1000),
        "price_refresh_requests": _int(env, "PRICE_REFRESH_REQUESTS", 80, 1, 100_000),
        "price_refresh_sale_weight": _int(env, "PRICE_REFRESH_SALE_WEIGHT", 2, 1, 10),
        "price_stale_after": _int(env, "PRICE_STALE_AFTER", 3600, 60, 86400 * 30),
        "price_refresh_db_retries": _int(env, "PRICE_REFRESH_DB_RETRIES", 5, 0, 20),
    }


def _web(env: Mapping[str, str]) -> dict[str, Any]:
    """The schedule's time zone and the public address links in emails point at."""
    return {
        "timezone": _choice(
            env, "TIMEZONE", "UTC", _timezone, "must be an IANA time zone such as Europe/Berlin"
        ),
        "public_url": _choice(
            env, "PUBLIC_URL", "http://localhost:5000", _http_url, "must be an http(s) URL"
        ).rstrip("/"),
    }


def _mail(env: Mapping[str, str]) -> dict[str, Any]:
    """Flask-Mail's settings, plus the SMTP timeout and the batch size."""
    return {
        "mail_server": _choice(
            env,
            "MAIL_SERVER",
            "localhost",
            lambda v: v.isascii() and " " not in v and "/" not in v,
            "must be a host name or address",
        ),
        "mail_port": _int(env, "MAIL_PORT", 25, 1, 65535),
        "mail_use_tls": _bool(env, "MAIL_USE_TLS", False),
        "mail_use_ssl": _bool(env, "MAIL_USE_SSL", False),
        "mail_username": env.get("MAIL_USERNAME") or None,
        "mail_password": env.get("MAIL_PASSWORD") or None,
        "mail_default_sender": _choice(
            env,
            "MAIL_DEFAULT_SENDER",
            "SteamScout <alerts@localhost>",
            lambda v: "@" in v and "\n" not in v and "\r" not in v,
            "must be an email address",
        ),
        "mail_timeout": _float(env, "MAIL_TIMEOUT", 30.0, 0.1, 600),
        "mail_batch_size": _int(env, "MAIL_BATCH_SIZE", 100, 1, 10000),
        "mail_smtputf8": _bool(env, "MAIL_SMTPUTF8", False),
        "mail_ca_file": _ca_file(env),
        "mail_retry_backoff": _float(env, "MAIL_RETRY_BACKOFF", 30.0, 0.0, 3600),
        "mail_retry_backoff_max": _float(env, "MAIL_RETRY_BACKOFF_MAX", 300.0, 0.0, 86400),
    }


def _ca_file(env: Mapping[str, str]) -> str | None:
    """MAIL_CA_FILE: the CA bundle a relay's certificate is checked against (default: system)."""
    path = _str(env, "MAIL_CA_FILE", "")
    if path and not Path(path).is_file():
        raise _fail("MAIL_CA_FILE", path, "must be a readable PEM file")
    return path or None


def _alerts(env: Mapping[str, str]) -> dict[str, Any]:
    """When a stuck alert is sent again, and how often an alert is tried."""
    return {
        "alert_stuck_after": _int(env, "ALERT_STUCK_AFTER", 180, 10, 86400 * 7),
        "alert_max_attempts": _int(env, "ALERT_MAX_ATTEMPTS", 5, 1, 100),
        "alert_db_retries": _int(env, "ALERT_DB_RETRIES", 5, 0, 20),
        "alert_db_backoff": _float(env, "ALERT_DB_BACKOFF", 1.0, 0.0, 60),
    }


def _beat(env: Mapping[str, str]) -> dict[str, Any]:
    """How long beat's lock lives and how often beat wakes."""
    return {
        "beat_lock_ttl": _int(env, "BEAT_LOCK_TTL", 10, 2, 600),
        "beat_max_loop_interval": _float(env, "BEAT_MAX_LOOP_INTERVAL", 1.0, 0.05, 300),
    }


# Shorter keys are guessable offline from one signed link; app.json generates 64 characters.
MIN_SECRET_KEY = 24


def _secret_key(env: Mapping[str, str]) -> str | None:
    """SECRET_KEY: signs sessions and sign-in links; never shown in a message, even when bad."""
    value = env.get("SECRET_KEY", "").strip()
    if not value:
        return None
    if len(value) < MIN_SECRET_KEY:
        raise ConfigError(
            f"SECRET_KEY=(hidden, {len(value)} characters): too short; use at least "
            f"{MIN_SECRET_KEY} random characters, e.g. python -c 'import secrets; "
            "print(secrets.token_hex(32))'"
        )
    return value


def _accounts(env: Mapping[str, str]) -> dict[str, Any]:
    """Sign-in: the signing key, the proxies in front of the web process, and the abuse limits."""
    return {
        "secret_key": _secret_key(env),
        "web_trusted_proxies": _int(env, "WEB_TRUSTED_PROXIES", 0, 0, 5),
        "sign_in_email_limit": _choice(
            env,
            "SIGN_IN_EMAIL_LIMIT",
            "5/hour",
            _rate_limit,
            "must be a rate of at least 1 per period, such as 5/hour",
        ),
        "web_form_limit": _choice(
            env,
            "WEB_FORM_LIMIT",
            "30/hour",
            _rate_limit,
            "must be a rate of at least 1 per period, such as 30/hour",
        ),
    }


def _steam(env: Mapping[str, str]) -> dict[str, Any]:
    """Steam's Web API and community site (the wishlist import), and their shared budget."""
    return {
        "steam_api_url": _choice(
            env,
            "STEAM_API_URL",
            "https://api.steampowered.com",
            _http_url,
            "must be an http(s) URL such as https://api.steampowered.com",
        ).rstrip("/"),
        "steam_community_url": _choice(
            env,
            "STEAM_COMMUNITY_URL",
            "https://steamcommunity.com",
            _http_url,
            "must be an http(s) URL such as https://steamcommunity.com",
        ).rstrip("/"),
        "steam_api_rate_limit": _choice(
            env,
            "STEAM_API_RATE_LIMIT",
            "1/second",
            _rate_limit,
            "must be a rate of at least 1 per period, such as 1/second or 100/5minutes",
        ),
    }


# The schedule's edit log keeps who made an edit in 120 characters (schedule_edits.by).
MAX_ADMIN_EMAIL = 120


def _admin_email(raw: str, position: int, count: int) -> str:
    """Return one ADMIN_EMAILS entry as scheduler.alerts.inputs.normalize_email stores addresses.

    config imports nothing of ours, so the rule is repeated here; tests/test_config.py checks
    that both give the same address. Only the bad entry is ever shown, never the others.
    """
    from email_validator import EmailNotValidError, validate_email

    where = f"entry {position} of {count}"
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise _fail("ADMIN_EMAILS", raw, f"{where} is not a valid email address: {exc}") from None
    address = (checked.ascii_email or checked.normalized).lower()
    if len(address) > MAX_ADMIN_EMAIL:
        raise _fail(
            "ADMIN_EMAILS",
            raw,
            f"{where} is longer than {MAX_ADMIN_EMAIL} characters, the most the schedule's "
            "edit log keeps of who made an edit",
        )
    return address


def _flower_url(value: str) -> bool:
    parts = urlsplit(value)
    return _http_url(value) and parts.username is None and parts.password is None


def _admin(env: Mapping[str, str]) -> dict[str, Any]:
    """Who may open /admin (ADMIN_EMAILS, comma-separated), and where Flower is (FLOWER_URL)."""
    entries = [part.strip() for part in env.get("ADMIN_EMAILS", "").split(",")]
    entries = [entry for entry in entries if entry]  # "a@x.org, b@x.org," is two admins
    flower = _str(env, "FLOWER_URL", "")
    if flower and not _flower_url(flower):
        raise _fail(
            "FLOWER_URL",
            flower,
            "must be an http(s) URL without a user or password (Flower asks for them itself)",
        )
    return {
        "admin_emails": frozenset(
            _admin_email(entry, number, len(entries)) for number, entry in enumerate(entries, 1)
        ),
        "flower_url": flower.rstrip("/") or None,
    }
