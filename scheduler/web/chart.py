"""A game's price history as an SVG step chart, and as rows of a table: pure, no Flask.

The SVG has a viewBox and no width or height, so it takes its container's width (360 px on a
phone too) and keeps its proportions. It is drawn on the server, with no script and no `style`
attribute or element (a CSP of `default-src 'self'` blocks those; Chromium confirmed it, and
draws this chart under that CSP), only presentation attributes (stroke, fill, font-size...),
which CSP does not govern, and classes for the stylesheet to override. A price holds from its
change until the next one, so the line is one <path> of horizontal and vertical steps, the last
step running on to now. A missing price (none shown by the store) leaves a gap; a free period
is drawn at zero; neither is ever the low. Every string is escaped, and characters XML cannot
carry at all (NUL, lone surrogates...) are replaced, so the SVG always parses.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from scheduler.alerts.render import format_money

# Small enough that its labels stay legible when a phone scales it to 360 px.
WIDTH, HEIGHT = 480, 240
LEFT, RIGHT, TOP, BOTTOM = 84, 14, 22, 34  # room for the price and date labels
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NO_PRICE = "No price recorded yet"
_CHART_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


class Change(Protocol):
    """A price from `at` on (scheduler.catalogue.history.PricePoint is one)."""

    @property
    def at(self) -> datetime: ...
    @property
    def final_cents(self) -> int | None: ...
    @property
    def discount_pct(self) -> int: ...
    @property
    def is_free(self) -> bool: ...


class Low(Protocol):
    """A lowest price and when it was most recently reached (history.LowestPrice is one)."""

    @property
    def cents(self) -> int: ...
    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One row of the table of changes beneath the chart, as text."""

    date: str
    price: str
    discount: str  # "-50%", or "" without a discount
    change: str  # "down", "up", "" (the first, or the same price) or "gap" (no price)


def _esc(text: str) -> str:
    return html.escape(_NOT_XML.sub("\ufffd", text), quote=True)


def _date(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def _price(cents: int | None, is_free: bool, currency: str) -> str:
    if is_free:
        return "free"
    return "no price" if cents is None else format_money(cents, currency)


def _cents(change: Change) -> int | None:
    return 0 if change.is_free else change.final_cents


def lowest_of(changes: Sequence[Change]) -> tuple[int, datetime] | None:
    """Return the lowest paid price of changes and the latest time it was reached, or None."""
    paid = [(c.final_cents, c.at) for c in changes if c.final_cents is not None and not c.is_free]
    if not paid:
        return None
    low = min(cents for cents, _ in paid)
    return low, max(at for cents, at in paid if cents == low)


def _tick_step(top: int) -> int:
    """Return a 1-2-5 step in cents that divides 0..top into at most five intervals."""
    raw = max(1.0, top / 5)
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


class _Scale:
    """Maps times and cents to SVG coordinates inside the plot area."""

    def __init__(self, start: datetime, end: datetime, top: int) -> None:
        self.start, self.seconds = start, max((end - start).total_seconds(), 1.0)
        self.top = top

    def x(self, at: datetime) -> float:
        share = min(max((at - self.start).total_seconds() / self.seconds, 0.0), 1.0)
        return LEFT + share * PLOT_W

    def y(self, cents: int) -> float:
        return TOP + PLOT_H - cents / self.top * PLOT_H


def _step_path(points: list[tuple[datetime, int | None]], end: datetime, scale: _Scale) -> str:
    """Return the path data of the steps; None prices leave gaps."""
    parts: list[str] = []
    drawing, last_y = False, -1.0
    for i, (at, cents) in enumerate(points):
        until = points[i + 1][0] if i + 1 < len(points) else end
        if cents is None:
            drawing = False
            continue
        x, y = scale.x(at), scale.y(cents)
        if not drawing:
            parts.append(f"M{x:.1f} {y:.1f}")
        elif y != last_y:
            parts.append(f"V{y:.1f}")
        parts.append(f"H{scale.x(until):.1f}")
        drawing, last_y = True, y
    return "".join(parts)


def _axes(scale: _Scale, step: int, currency: str, start: datetime, end: datetime) -> list[str]:
    """Return the grid lines, price labels and the first and last dates."""
    out = ['<g class="axes" fill="currentColor" font-size="13" font-family="sans-serif">']
    for cents in range(0, scale.top + 1, step):
        y = scale.y(cents)
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="currentColor" stroke-opacity="0.2"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_esc(format_money(cents, currency))}</text>"
        )
    base = TOP + PLOT_H + 20
    out.append(f'<text x="{LEFT}" y="{base}" text-anchor="start">{_date(start)}</text>')
    out.append(f'<text x="{LEFT + PLOT_W}" y="{base}" text-anchor="end">{_date(end)}</text>')
    out.append("</g>")
    return out


def _low_mark(low: tuple[int, datetime], scale: _Scale, currency: str) -> list[str]:
    """Return the dashed line at the low, its dot, and its label with the date."""
    cents, at = low
    x, y = scale.x(at), scale.y(cents)
    anchor, dx = ("start", 8) if x < LEFT + PLOT_W / 2 else ("end", -8)
    label = f"Lowest {format_money(cents, currency)} on {_date(at)}"
    return [
        f'<g class="lowest" stroke="#b3261e" fill="#b3261e">'
        f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" '
        'stroke-width="1.5" stroke-dasharray="6 4"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5"/>'
        f'<text x="{x + dx:.1f}" y="{max(y - 8, TOP + 10):.1f}" text-anchor="{anchor}" '
        'stroke="#fff" stroke-width="4" paint-order="stroke" font-size="13" '
        f'font-family="sans-serif">{_esc(label)}</text></g>'
    ]


def _summary(changes: Sequence[Change], low: tuple[int, datetime] | None, currency: str) -> str:
    if not changes:
        return f"{NO_PRICE}."
    last = changes[-1]
    text = (
        f"{len(changes)} price change{'s' * (len(changes) != 1)} from {_date(changes[0].at)}"
        f" to {_date(last.at)}; now {_price(last.final_cents, last.is_free, currency)}."
    )
    if low is not None:
        text += f" Lowest {format_money(low[0], currency)} on {_date(low[1])}."
    return text


def price_chart(
    changes: Sequence[Change],
    *,
    currency: str,
    now: datetime,
    title: str,
    lowest: Low | None = None,
    chart_id: str = "price-chart",
) -> str:
    """Return the SVG of changes up to now; lowest defaults to the lowest of changes.

    Safe to put in a page as is (mark it safe: everything in it is escaped here). Raises
    ValueError for a chart_id that is not a plain identifier (it prefixes the ids of its title).
    """
    if not _CHART_ID.fullmatch(chart_id):
        raise ValueError(f"chart_id must be a plain identifier, not {chart_id!r}")
    ordered = sorted(changes, key=lambda change: change.at)
    low = (lowest.cents, lowest.at) if lowest is not None else lowest_of(ordered)
    start = ordered[0].at if ordered else now
    end = max(now, ordered[-1].at) if ordered else now
    if end <= start:
        end = start + timedelta(days=1)
    prices = [cents for cents in map(_cents, ordered) if cents is not None]
    top = max([*prices, low[0] if low else 0, 1])
    step = _tick_step(top)
    scale = _Scale(start, end, step * math.ceil(top / step))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="price-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">Price history of {_esc(title)}</title>',
        f'<desc id="{chart_id}-desc">{_esc(_summary(ordered, low, currency))}</desc>',
    ]
    if ordered:
        out += _axes(scale, step, currency, start, end)
    steps = _step_path([(c.at, _cents(c)) for c in ordered], end, scale)
    if steps:
        out.append(
            f'<path class="price" d="{steps}" fill="none" stroke="currentColor" '
            'stroke-width="2" stroke-linejoin="round"/>'
        )
    else:
        out.append(
            f'<text x="{LEFT + PLOT_W / 2:.0f}" y="{TOP + PLOT_H / 2:.0f}" text-anchor="middle" '
            f'fill="currentColor" font-size="14" font-family="sans-serif">{NO_PRICE}</text>'
        )
    if low is not None:
        out += _low_mark(low, scale, currency)
    out.append("</svg>")
    return "".join(out)


def change_rows(changes: Sequence[Change], currency: str) -> list[ChangeRow]:
    """Return the table of changes beneath the chart, oldest first, as text for a template."""
    rows: list[ChangeRow] = []
    before: int | None = None
    for change in sorted(changes, key=lambda change: change.at):
        cents = _cents(change)
        if cents is None:
            direction = "gap"
        elif before is None or cents == before:
            direction = ""
        else:
            direction = "down" if cents < before else "up"
        date = change.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        price = _price(change.final_cents, change.is_free, currency)
        discount = f"-{change.discount_pct}%" if change.discount_pct else ""
        rows.append(ChangeRow(date, price, discount, direction))
        before = cents
    return rows
