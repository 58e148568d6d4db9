"""Admin input for watchlists: email addresses, store items, prices and rules.

Every parser raises a WatchError subclass whose str() is one line for the user.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email


class WatchError(ValueError):
    """Bad input for a watchlist operation; str() is one line for the user."""


class UnknownItemError(WatchError):
    """The item is not a store item we know (bad syntax or not in the catalogue)."""


class UnknownSubscriberError(WatchError):
    """No subscriber has this address."""


def normalize_email(email: str, *, smtputf8: bool = True) -> str:
    """Return the address as stored: lowercased, an IDN domain as punycode; raises WatchError.

    smtputf8=False also refuses what only an SMTPUTF8 relay can deliver: a non-ASCII name
    before the @ (smtplib cannot send it otherwise). Lookups keep the default, so an address
    stored before is still found.
    """
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise WatchError(f"not a valid email address {email!r}: {exc}") from None
    if checked.ascii_email is None and not smtputf8:
        raise WatchError(
            f"cannot deliver to {email.strip()!r}: the part before the @ is not ASCII and the "
            "mail relay is not set up for SMTPUTF8 (MAIL_SMTPUTF8)"
        )
    return (checked.ascii_email or checked.normalized).lower()


_ITEM = re.compile(r"(?i)(?:(app|sub|bundle)[_/])?(\d{1,12})/?")
_STORE_PATH = re.compile(r"(?i)^/(app|sub|bundle)/(\d{1,12})(?:/.*)?$")


def parse_item(text: str) -> tuple[str, int]:
    """Return (kind, steam_id) for App_440, app/440, 440 or a store URL; raises UnknownItemError."""
    raw = text.strip()
    match = _ITEM.fullmatch(raw)
    if match is None and raw.lower().startswith(("http://", "https://")):
        match = _STORE_PATH.match(urlsplit(raw).path)
    if match is None:
        raise UnknownItemError(
            f"not a store item {text!r}: use App_440, app/440, 440 or a store URL"
        )
    return (match.group(1) or "app").lower(), int(match.group(2))


def parse_rule(
    below_cents: int | None, min_discount: int | None, new_low: bool
) -> tuple[str, int | None, int | None]:
    """Return (rule, target_cents, min_discount_pct); raises WatchError unless exactly one is ok."""
    given = [below_cents is not None, min_discount is not None, new_low]
    if sum(given) != 1:
        raise WatchError("give exactly one rule: a price to go below, a discount, or new low")
    if below_cents is not None and below_cents <= 0:
        raise WatchError("the target price must be above zero")
    if min_discount is not None and not 1 <= min_discount <= 100:
        raise WatchError(f"the discount must be 1 to 100 percent, not {min_discount}")
    if below_cents is not None:
        return "below", below_cents, None
    if min_discount is not None:
        return "discount", None, min_discount
    return "new_low", None, None


_PRICE = re.compile(r"(\d{1,9})(?:[.,](\d{1,2}))?")
_SYMBOLS = "$€£¥₩₽₹ "


def parse_price(text: str, currency: str) -> int:
    """Return a positive amount in major units ("19.99", "19,99", "$19.99") as cents."""
    raw = text.strip()
    code = currency.upper()
    if raw.upper().startswith(code) or raw.upper().endswith(code):
        raw = raw[3:] if raw.upper().startswith(code) else raw[:-3]
    raw = raw.strip(_SYMBOLS)
    if raw.startswith("-"):
        raise WatchError(f"the price must be above zero, not {text.strip()!r}")
    match = _PRICE.fullmatch(raw)
    if match is None:
        raise WatchError(f"not a price {text.strip()!r}: give an amount in {code} like 19.99")
    cents = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if cents == 0:
        raise WatchError("the price must be above zero (a target of 0 would only match free games)")
    return cents


RULES = ("below", "discount", "new_low")
_PERCENT = re.compile(r"[+-]?[0-9]{1,30}")


def parse_percent(text: str) -> int:
    """Return a whole percentage ("50", "50%") as an int; raises WatchError."""
    raw = text.strip().rstrip("%").strip()
    if not _PERCENT.fullmatch(raw):
        raise WatchError(f"the discount must be a whole number, not {text.strip()[:24]!r}")
    return int(raw)


def read_rule(rule: str, value: str, currency: str) -> tuple[str, int | None, int | None]:
    """Return (rule, target_cents, min_discount_pct) from a rule name and the text typed for it.

    The one reading of a rule for every front end (`scout watch add --below 4.99`, the web's
    rule and value fields): raises WatchError with one line.
    """
    if rule == "below":
        return parse_rule(parse_price(value, currency), None, False)
    if rule == "discount":
        return parse_rule(None, parse_percent(value), False)
    if rule == "new_low":
        return parse_rule(None, None, True)
    raise WatchError(f"unknown rule {rule[:24]!r}: use {', '.join(RULES)}")
