"""Read a store row's texts ("¥ 379.00", "1.299,00€", "Бесплатно", "Sub_54029") into values.

Part of the parser: imports nothing of ours. Amounts come back in minor units the way the store
counts them (data-price-final is always major x 100, even for yen and won), never as floats.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Casefolded fragments of the store's "free" labels in its languages; a label containing one
# of these marks the item as free whatever data-price-final says.
FREE_WORDS = (
    "free",  # Free, Free to Play, Free To Play, Free Demo, Play for Free!
    "бесплатн",  # ru: Бесплатно, Бесплатная игра
    "безкоштовн",  # uk
    "безплатн",  # bg
    "gratuit",  # es/pt/it Gratuito, Gratuita; fr Gratuit
    "gratis",  # nl/sv/da/no/es
    "grátis",  # pt-BR
    "kostenlos",  # de
    "免费",  # zh-cn
    "免費",  # zh-tw
    "無料",  # ja
    "무료",  # ko
    "darmow",  # pl Darmowe
    "zdarma",  # cs
    "zadarmo",  # sk
    "ücretsiz",  # tr
    "ingyenes",  # hu
    "ilmainen",  # fi
    "miễn phí",  # vi
    "ฟรี",  # th
    "δωρεάν",  # el
    "gratuită",  # ro
)

# Bounds past which a figure is a broken or hostile page, not a price or an id: no item costs a
# billion units of any currency (the dearest, in dong or rupiah, cost a few hundred million
# minor units); Steam's app, package and bundle ids are unsigned 32-bit; a percentage is 0-100.
MAX_CENTS = 10**11
MAX_ID = 2**32 - 1
_MAX_DIGITS = 20  # int() of a longer string is absurd here, and past 4300 digits it raises
# One number: digits, possibly grouped by spaces/apostrophes/dots/commas, ending in a digit.
_NUMBER = re.compile(r"\d(?:[\d.,'’\s]*\d)?")
_FREE = re.compile("|".join(re.escape(word) for word in FREE_WORDS))
_DIGIT = re.compile(r"\d")
_GROUPING = re.compile(r"['’\s]")
_ITEMKEY = re.compile(r"(App|Sub|Bundle)_(\d+)")
_PERCENT = re.compile(r"^[-−–]?\s*(\d{1,3})\s*%$")


# Terminal escape sequences (ECMA-48): CSI "ESC [ ... m" (and its 8-bit form), OSC "ESC ] ...
# BEL" (sets a window title, writes the clipboard), DCS/SOS/PM/APC strings and two-byte escapes.
# Removed whole: dropping only the ESC would leave "[31m" in the title. A lone 8-bit string
# opener (U+009D...) is dropped alone, with the C1 controls below: mojibake such as "â€\x9d" (a
# misdecoded quote) must not swallow the rest of a title.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# What is left of C0, DEL and C1, and the bidi embeddings, overrides and isolates, which
# reorder what a terminal or mail client shows ("Trojan Source").
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def collapse(text: str | None) -> str:
    """Return text with every run of whitespace (nbsp included) turned into one space, stripped."""
    return " ".join(text.split()) if text else ""


def clean_title(text: str | None) -> str:
    """Return a store title without escape sequences or control characters, whitespace collapsed."""
    text = collapse(text)  # first: tabs and newlines are whitespace, not controls to drop
    if _CONTROLS.search(text) is None:  # the common title: one scan, no substitution
        return text
    return collapse(_CONTROLS.sub("", _ESCAPES.sub("", text)))


def is_free_text(text: str) -> bool:
    """Return True when a visible price label says the item is free, in any store language."""
    return _FREE.search(text.casefold()) is not None


def parse_price_text(text: str) -> int | None:
    """Return the one amount in a price label in minor units (x100), else None; never raises."""
    # A lone mark before exactly three digits groups thousands ("₩ 21,500", "165.000₫"); before
    # one or two it is the decimal mark ("659,67 pуб.", "$19.99"). With both marks present the
    # last one is the decimal mark ("1.299,00€", "$1,299.99"). Anything else is ambiguous: None.
    numbers = _NUMBER.findall(text)
    if len(numbers) != 1:
        return None
    digits = _GROUPING.sub("", numbers[0])
    if len(digits) > _MAX_DIGITS + 2:
        return None
    mark_at = max(digits.rfind("."), digits.rfind(","))
    if mark_at == -1:
        return int(digits) * 100
    mark, head, tail = digits[mark_at], digits[:mark_at], digits[mark_at + 1 :]
    other = "," if mark == "." else "."
    if other in head or (mark not in head and len(tail) in (1, 2)):
        return _decimal_amount(head, tail, mark, other)
    return _grouped_amount(digits, mark, other)


def _decimal_amount(head: str, tail: str, mark: str, other: str) -> int | None:
    if mark in head or len(tail) not in (1, 2):
        return None
    groups = head.split(other)
    if any(len(g) != 3 for g in groups[1:]) or not groups[0]:
        return None
    return int("".join(groups)) * 100 + int(tail.ljust(2, "0"))


def _grouped_amount(digits: str, mark: str, other: str) -> int | None:
    groups = digits.split(mark)
    if other in digits or not groups[0] or any(len(g) != 3 for g in groups[1:]):
        return None
    return int("".join(groups)) * 100


def parse_percent(text: str) -> int | None:
    """Return the percentage in a discount label ("-85%" -> 85), 0 for none, None if unreadable."""
    text = collapse(text)
    if not text:
        return 0
    match = _PERCENT.match(text)
    return int(match.group(1)) if match else None


def parse_int(value: str | None) -> int | None:
    """Return a non-negative decimal integer attribute value, or None when absent or not one."""
    if value is None:
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > _MAX_DIGITS:
        return None
    return int(value)


class Price(NamedTuple):
    """A row's price fields as Listing holds them."""

    final_cents: int | None
    original_cents: int | None
    discount_pct: int
    is_free: bool
    price_text: str
    price_ok: bool


def read_price(
    price_final: str | None,
    discount: str | None,
    pct_text: str,
    final_text: str,
    original_text: str,
    free_class: bool,
) -> Price:
    """Return a row's Price from its price block's attributes and visible texts; never raises."""
    # The visible label decides free (whatever data-price-final says) and no-price; a paid price
    # is data-price-final, or the label's amount without one. A label that is no amount, or a paid
    # label over data-price-final="0", is unreadable: price_ok False and no prices, so
    # persistence keeps the last good price rather than store a guess.
    final_text, original_text = collapse(final_text), collapse(original_text)
    pct = parse_int(discount)
    if pct is None:
        pct = parse_percent(pct_text)
    if pct is not None and pct > 100:
        pct = None
    original = _sane(parse_price_text(original_text)) if original_text else None
    if free_class or is_free_text(final_text):
        return Price(0, original, pct or 0, True, final_text, True)
    if not final_text and not original_text:
        return Price(None, None, 0, False, "", True)
    shown = _sane(parse_price_text(final_text))
    final = _sane(parse_int(price_final))  # an absurd attribute is junk like any other
    if final is None:
        final = shown
    readable = _DIGIT.search(final_text) is not None and (original is not None or not original_text)
    if final is None or pct is None or not readable or (final == 0 and shown != 0):
        return Price(None, None, 0, False, final_text, False)
    return Price(final, original, pct, False, final_text, True)


def _sane(cents: int | None) -> int | None:
    return cents if cents is not None and cents <= MAX_CENTS else None


class ItemKey(NamedTuple):
    """A row's identity: "Sub_54029" is kind "sub", steam_id 54029."""

    itemkey: str
    kind: str
    steam_id: int


def read_itemkey(
    itemkey: str | None, bundleid: str | None, packageid: str | None, appid: str | None
) -> ItemKey | None:
    """Return the row's ItemKey (from its ids on rows older than itemkeys), or None if unusable."""
    if itemkey is None:
        fallbacks = (("Bundle", bundleid), ("Sub", packageid), ("App", appid))
        itemkey = next(
            (
                f"{p}_{v.strip()}"
                for p, v in fallbacks
                if v is not None and parse_int(v) is not None
            ),
            "",
        )
    match = _ITEMKEY.fullmatch(itemkey.strip())
    steam_id = None if match is None else parse_int(match.group(2))
    if match is None or steam_id is None or steam_id > MAX_ID:
        return None
    return ItemKey(match.group(0), match.group(1).lower(), steam_id)


def read_ids(raw: str | None) -> tuple[int, ...]:
    """Return the ids in a comma-separated data-ds-appid ("35140,200260"), skipping junk."""
    values = (parse_int(v) for v in (raw or "").split(","))
    return tuple(v for v in values if v is not None and v <= MAX_ID)
