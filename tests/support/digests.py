"""Digests and rendered emails for tests, with a title that tries every trick."""

from __future__ import annotations

from scheduler.alerts.render import Digest, DigestItem, RenderedEmail, render_digest

NASTY = '<script>alert("x")</script> Tom & Jerry'
SENDER = "SteamScout <alerts@scout.test>"


def item(
    alert_id: int = 1,
    title: str = "Portal 2",
    new: int = 499,
    old: int | None = 1999,
    lowest: int | None = 899,
    currency: str = "USD",
    itemkey: str | None = None,
) -> DigestItem:
    """One drop as the email shows it."""
    return DigestItem(
        alert_id=alert_id,
        title=title,
        new_cents=new,
        old_cents=old,
        currency=currency,
        lowest_before_cents=lowest,
        store_url=f"https://store.example/app/{alert_id}/",
        itemkey=itemkey,
    )


def digest(*items: DigestItem) -> Digest:
    """A digest for subscriber 7."""
    return Digest(
        subscriber_id=7, email="ann@example.com", unsubscribe_token="tok-123", items=list(items)
    )


def render(*items: DigestItem) -> RenderedEmail:
    """Render a digest of items for subscriber 7."""
    return render_digest(digest(*items), public_url="https://scout.example", domain="scout.example")
