"""Admin input for watchlists: email addresses, store items, prices and rules.

Every parser raises a WatchError subclass whose str() is one line for the user.
"""

from __future__ import annotations

import re
import unicodedata
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


# How the store writes each currency (Steam's own marks: "CDN$ 19.99", "19,99€", "659 pуб.",
# "R$ 19,99"), plus the common sign where Steam writes another, so a price copied from a store
# page, or typed as usual, reads as the amount it says. A mark several currencies share ("$",
# "¥") is taken in each of them. Keys are ISO 4217 codes.
STORE_MARKS: dict[str, tuple[str, ...]] = {
    "USD": ("$", "US$"),
    "EUR": ("€",),
    "GBP": ("£",),
    "CHF": ("CHF", "Fr."),
    "RUB": ("₽", "pуб.", "руб."),  # Steam writes pуб. with a Latin p
    "PLN": ("zł",),
    "BRL": ("R$",),
    "JPY": ("¥", "円"),
    "CNY": ("¥", "元"),
    "NOK": ("kr",),
    "IDR": ("Rp",),
    "MYR": ("RM",),
    "PHP": ("₱", "P"),
    "SGD": ("$", "S$"),
    "THB": ("฿",),
    "VND": ("₫",),
    "KRW": ("₩",),
    "TRY": ("₺", "TL"),
    "UAH": ("₴",),
    "MXN": ("$", "Mex$"),
    "CAD": ("$", "CDN$", "CA$", "C$"),
    "AUD": ("$", "A$", "AU$"),
    "NZD": ("$", "NZ$"),
    "INR": ("₹",),
    "CLP": ("$", "CLP$"),
    "PEN": ("S/.", "S/"),
    "COP": ("$", "COL$"),
    "ZAR": ("R",),
    "HKD": ("$", "HK$"),
    "TWD": ("$", "NT$"),
    "SAR": ("SR",),
    "ILS": ("₪",),
    "KZT": ("₸",),
    "KWD": ("KD",),
    "QAR": ("QR",),
    "CRC": ("₡",),
    "UYU": ("$U",),
}
_ANY_MARK = {mark.casefold() for marks in STORE_MARKS.values() for mark in marks}
# A price as typed: a mark, an amount in ASCII digits, a mark; either mark may be empty.
_PRICE_TEXT = re.compile(r"(?P<before>[^0-9]*?)(?P<amount>[0-9][0-9.,]*)(?P<after>[^0-9]*)")
_AMOUNT = re.compile(r"([0-9]{1,9})(?:[.,]([0-9]{1,2}))?")
_MINUS = ("-", "\u2212")


def parse_price(text: str, currency: str) -> int:
    """Return a positive amount in major units ("19.99", "19,99", "$19.99") as cents.

    Raises WatchError, one line, for anything else: a currency mark or code that is not the
    store's currency ("€5" in a USD store), a sign, more than two decimals.
    """
    code = currency.upper()
    match = _PRICE_TEXT.fullmatch(text.strip())
    if match is None:
        raise WatchError(f"not a price {_shown(text)}: give an amount in {code} like 19.99")
    for mark in (match["before"], match["after"]):
        _check_mark(mark, code, text)
    if any(minus in match["before"] + match["after"] for minus in _MINUS):
        raise WatchError(f"the price must be above zero, not {_shown(text)}")
    amount = _AMOUNT.fullmatch(match["amount"])
    if amount is None:
        raise WatchError(f"not a price {_shown(text)}: give an amount in {code} like 19.99")
    cents = int(amount.group(1)) * 100 + int((amount.group(2) or "0").ljust(2, "0"))
    if cents == 0:
        raise WatchError("the price must be above zero (a target of 0 would only match free games)")
    return cents


def _check_mark(mark: str, code: str, text: str) -> None:
    """Raise WatchError unless mark (beside the amount) is nothing or the store currency's."""
    mark = mark.strip().strip("".join(_MINUS)).strip().casefold()
    if not mark or mark == code.casefold():
        return
    if mark in {own.casefold() for own in STORE_MARKS.get(code, ())}:
        return
    foreign = mark in _ANY_MARK or (len(mark) == 3 and mark.isascii() and mark.isalpha())
    if foreign or any(unicodedata.category(char) == "Sc" for char in mark):
        raise WatchError(
            f"{_shown(text)} is not in {code}, the store's currency: give an amount in {code} "
            "like 19.99"
        )
    raise WatchError(f"not a price {_shown(text)}: give an amount in {code} like 19.99")


def _shown(text: str) -> str:
    """Return text quoted for a one-line message, cut when long."""
    text = text.strip()
    return repr(text) if len(text) <= 40 else f"{text[:40]!r}..."


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
