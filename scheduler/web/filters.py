"""Jinja filters of the web pages: prices in their currency, dates, rules in words."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from scheduler.alerts.render import format_money


def money(cents: int | None, currency: str, is_free: bool = False) -> str:
    """Return a price for people ('$4.99', '1980.00 JPY'), 'Free', or '–' when there is none."""
    if is_free:
        return "Free"
    if cents is None:
        return "–"
    return format_money(cents, currency)


def day(value: datetime | None) -> str:
    """Return a date as YYYY-MM-DD (UTC), or '–'."""
    return "–" if value is None else f"{value:%Y-%m-%d}"


def rule_text(rule: str, target_cents: int | None, min_discount: int | None, currency: str) -> str:
    """Return a watch's rule in words."""
    if rule == "below":
        return f"a price at or below {money(target_cents, currency)}"
    if rule == "discount":
        return f"{min_discount}% off or more"
    return "a new lowest price"


def rule_value(rule: str, target_cents: int | None, min_discount: int | None) -> str:
    """Return what the rule's value field shows when editing: '4.99', '50' or ''."""
    if rule == "below" and target_cents is not None:
        return f"{target_cents // 100}.{target_cents % 100:02d}"
    if rule == "discount" and min_discount is not None:
        return str(min_discount)
    return ""


def init_app(app: Flask) -> None:
    """Register the filters on app, and the rules' choices every rule form shows."""
    from scheduler.web.forms import RULE_CHOICES

    for function in (money, day, rule_text, rule_value):
        app.add_template_filter(function)
    app.jinja_env.globals["rule_choices"] = RULE_CHOICES
