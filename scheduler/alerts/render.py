"""Render a subscriber's price-drop digest: subject, text and HTML parts, headers. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Currencies written with a leading symbol; every other one as "4.99 CAD" so none is ambiguous.
SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€"}
MAX_SUBJECT_TITLE = 80

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


@dataclass(frozen=True)
class DigestItem:
    """One price drop as shown in an email; prices in minor units of `currency`."""

    alert_id: int
    title: str
    new_cents: int
    old_cents: int | None
    currency: str
    lowest_before_cents: int | None
    store_url: str
    itemkey: str | None = None  # e.g. App_440: the game's page on this site, when known
    also_alert_ids: tuple[int, ...] = ()  # earlier drops of the same game this item stands for


@dataclass(frozen=True)
class Digest:
    """Everything one email to one subscriber needs."""

    subscriber_id: int
    email: str
    unsubscribe_token: str
    items: Sequence[DigestItem]

    @property
    def alert_ids(self) -> list[int]:
        """Return the ids of the alerts this email carries, ascending."""
        return sorted(i for item in self.items for i in (item.alert_id, *item.also_alert_ids))


@dataclass(frozen=True)
class RenderedEmail:
    """A rendered email, ready to hand to an SMTP connection."""

    recipient: str
    subject: str
    text: str
    html: str
    message_id: str
    headers: dict[str, str] = field(default_factory=dict)


def format_money(cents: int, currency: str) -> str:
    """Return a price for people, e.g. '$4.99', '€12.50' or '1980.00 JPY'."""
    amount = f"{cents // 100}.{cents % 100:02d}"
    symbol = SYMBOLS.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"


def discount_pct(old_cents: int | None, new_cents: int) -> int | None:
    """Return the whole-percent drop from old to new, or None when there was no drop."""
    if not old_cents or old_cents <= new_cents:
        return None
    return round(100 * (old_cents - new_cents) / old_cents)


def _one_line(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def subject_for(items: Sequence[DigestItem]) -> str:
    """Return the subject: the game and its new price for one drop, else how many games dropped."""
    if len(items) == 1:
        item = items[0]
        title = _one_line(item.title, MAX_SUBJECT_TITLE)
        return f"{title} is now {format_money(item.new_cents, item.currency)}"
    return f"{len(items)} games you watch dropped in price"


def message_id_for(subscriber_id: int, alert_ids: Sequence[int], domain: str) -> str:
    """Return a Message-ID that is the same each time these alerts go to this subscriber."""
    return f"<alerts-{subscriber_id}-{min(alert_ids)}-{max(alert_ids)}@{domain}>"


def unsubscribe_url(public_url: str, token: str) -> str:
    """Return the one-click unsubscribe address for a token."""
    return f"{public_url.rstrip('/')}/unsubscribe/{token}"


def watchlist_url(public_url: str) -> str:
    """Return the address of the watchlist page."""
    return f"{public_url.rstrip('/')}/watchlist"


def game_url(public_url: str, itemkey: str) -> str:
    """Return the address of a game's page on this site."""
    return f"{public_url.rstrip('/')}/games/{itemkey}"


def _view(item: DigestItem, public_url: str) -> SimpleNamespace:
    # An object, not a dict: Jinja's item.title tries getattr first, and a dict's failed
    # getattr raises an AttributeError for every field of every item.
    lowest = item.lowest_before_cents
    return SimpleNamespace(
        title=item.title,
        new_price=format_money(item.new_cents, item.currency),
        old_price=None if item.old_cents is None else format_money(item.old_cents, item.currency),
        discount_pct=discount_pct(item.old_cents, item.new_cents),
        lowest_before=None if lowest is None else format_money(lowest, item.currency),
        new_low=lowest is None or item.new_cents < lowest,
        store_url=item.store_url,
        page_url=game_url(public_url, item.itemkey) if item.itemkey else None,
    )


def render_digest(digest: Digest, *, public_url: str, domain: str) -> RenderedEmail:
    """Return the email for a digest; raises ValueError when it has no items."""
    if not digest.items:
        raise ValueError(f"digest for subscriber {digest.subscriber_id} has no items")
    link = unsubscribe_url(public_url, digest.unsubscribe_token)
    context = {
        "items": [_view(item, public_url) for item in digest.items],
        "unsubscribe_url": link,
        "watchlist_url": watchlist_url(public_url),
        "count": len(digest.items),
    }
    return RenderedEmail(
        recipient=digest.email,
        subject=subject_for(digest.items),
        text=_env.get_template("email/digest.txt").render(context),
        html=_env.get_template("email/digest.html").render(context),
        message_id=message_id_for(digest.subscriber_id, digest.alert_ids, domain),
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
