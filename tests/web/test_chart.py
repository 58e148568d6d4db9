"""The SVG price chart, read back with an XML parser: steps, low, labels and escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.catalogue.history import LowestPrice, PricePoint
from scheduler.web.chart import (
    LEFT,
    PLOT_H,
    PLOT_W,
    TOP,
    ChangeRow,
    change_rows,
    price_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
RIGHT_EDGE = LEFT + PLOT_W
BOTTOM_EDGE = TOP + PLOT_H


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def point(at: datetime, cents: int | None, *, free: bool = False, pct: int = 0) -> PricePoint:
    return PricePoint(at, 0 if free else cents, cents, pct, free)


def chart(changes, **options) -> ET.Element:
    options = {"currency": "USD", "now": day(10), "title": "Portal 2", **options}
    return ET.fromstring(price_chart(changes, **options))


def steps(root: ET.Element) -> list[tuple[str, list[float]]]:
    """Return the price path's commands and their numbers; fails unless there is one path."""
    (path,) = root.iter(f"{SVG}path")
    return [
        (command, [float(n) for n in numbers.split()])
        for command, numbers in re.findall(r"([MHV])([-\d. ]+)", path.get("d", ""))
    ]


def low_mark(root: ET.Element) -> tuple[float, float, float, str]:
    """Return the low's dashed line height, its dot's x and y, and its label."""
    (group,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == "lowest"]
    line, dot, label = (
        group.find(f"{SVG}line"),
        group.find(f"{SVG}circle"),
        group.find(f"{SVG}text"),
    )
    assert line.get("stroke-dasharray") and line.get("y1") == line.get("y2")
    assert float(line.get("x1")) == LEFT and float(line.get("x2")) == RIGHT_EDGE
    return float(line.get("y1")), float(dot.get("cx")), float(dot.get("cy")), label.text


def y_of(cents: int, top: int) -> float:
    return round(TOP + PLOT_H - cents / top * PLOT_H, 1)


NOW = T0 + timedelta(days=10)


def x_of(at: datetime, start: datetime = T0, end: datetime = NOW) -> float:
    return round(LEFT + (at - start) / (end - start) * PLOT_W, 1)


def test_the_steps_hold_each_price_until_the_next_and_run_on_to_now():
    changes = [point(day(0), 1000), point(day(2), 500), point(day(5), 750)]

    root = chart(changes)

    # top of the axis: 1000 (steps of 200)
    assert steps(root) == [
        ("M", [LEFT, y_of(1000, 1000)]),
        ("H", [x_of(day(2))]),
        ("V", [y_of(500, 1000)]),
        ("H", [x_of(day(5))]),
        ("V", [y_of(750, 1000)]),
        ("H", [RIGHT_EDGE]),
    ]


def test_the_low_is_a_dashed_line_with_a_dot_where_it_was_last_reached_and_its_date():
    changes = [point(day(0), 1999), point(day(1), 999), point(day(3), 1999), point(day(6), 999)]
    changes.append(point(day(8), 1499))

    line_y, dot_x, dot_y, label = low_mark(chart(changes))

    assert line_y == dot_y == y_of(999, 2000)
    assert dot_x == x_of(day(6))
    assert label == "Lowest $9.99 on 2026-11-07"


def test_a_low_given_by_the_history_wins_over_the_changes_drawn():
    changes = [point(day(5), 1999), point(day(6), 1499)]
    lowest = LowestPrice(499, "USD", day(1))  # before the first change read

    root = chart(changes, lowest=lowest)

    line_y, dot_x, _, label = low_mark(root)
    assert line_y == y_of(499, 2000) and dot_x == LEFT  # the dot waits at the left edge
    assert label == "Lowest $4.99 on 2026-11-02"


def test_the_price_axis_is_labelled_in_the_games_currency():
    root = chart([point(day(0), 2500)], currency="EUR")
    labels = [t.text for t in root.iter(f"{SVG}text")]

    assert labels[:6] == ["€0.00", "€5.00", "€10.00", "€15.00", "€20.00", "€25.00"]
    assert "2026-11-01" in labels and "2026-11-11" in labels
    assert "10.00 JPY" in [t.text for t in chart([point(day(0), 999)], currency="JPY").iter()]


def test_a_hostile_title_is_escaped_and_the_chart_still_parses():
    title = 'Evil</title><script>alert(1)</script> & "q" ]]> \x00\x1b\ud800 <!-- x'
    text = price_chart([point(day(0), 100)], currency="USD<b>", now=day(1), title=title)

    root = ET.fromstring(text)

    assert root.find(f"{SVG}title").text == (
        'Price history of Evil</title><script>alert(1)</script> & "q" ]]> \ufffd\ufffd\ufffd <!-- x'
    )
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert "<script>" not in text and "<b>" not in text


def test_the_chart_is_an_image_named_by_its_title_and_description_with_no_style_attribute():
    root = chart([point(day(0), 1999), point(day(4), 999)], chart_id="game-440")

    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "game-440-title game-440-desc"
    assert root.find(f"{SVG}title").get("id") == "game-440-title"
    desc = root.find(f"{SVG}desc")
    assert desc.get("id") == "game-440-desc"
    assert desc.text == (
        "2 price changes from 2026-11-01 to 2026-11-05; now $9.99. Lowest $9.99 on 2026-11-05."
    )
    assert all("style" not in element.attrib for element in root.iter())
    assert not [e for e in root.iter() if e.tag in (f"{SVG}style", f"{SVG}script")]
    with pytest.raises(ValueError, match="chart_id"):
        price_chart([], currency="USD", now=T0, title="x", chart_id='a" onload="x')


def test_no_changes_draw_no_line_and_say_so():
    root = chart([])

    assert list(root.iter(f"{SVG}path")) == []
    assert "No price recorded yet" in [t.text for t in root.iter(f"{SVG}text")]
    assert root.find(f"{SVG}desc").text == "No price recorded yet."


def test_one_change_is_one_step_from_the_left_edge_to_now():
    assert steps(chart([point(day(3), 1499)])) == [
        ("M", [LEFT, y_of(1499, 1500)]),
        ("H", [RIGHT_EDGE]),
    ]


def test_a_change_seen_now_or_after_now_still_gets_a_day_of_width():
    root = chart([point(day(3), 1499)], now=day(2))

    assert steps(root) == [("M", [LEFT, y_of(1499, 1500)]), ("H", [RIGHT_EDGE])]


def test_equal_prices_draw_one_flat_line_with_the_low_on_it():
    changes = [point(day(n), 1999, pct=n % 2) for n in range(5)]

    root = chart(changes)

    commands = steps(root)
    assert [c for c, _ in commands] == ["M", "H", "H", "H", "H", "H"]
    assert {numbers[1] for c, numbers in commands if c == "M"} == {low_mark(root)[0]}


def test_a_missing_price_leaves_a_gap_and_a_free_spell_is_drawn_at_zero_but_is_no_low():
    changes = [point(day(0), 1000), point(day(2), None), point(day(4), 0, free=True)]
    changes.append(point(day(6), 800))

    root = chart(changes)

    commands = steps(root)
    assert [c for c, _ in commands] == ["M", "H", "M", "H", "V", "H"]
    assert commands[2] == ("M", [x_of(day(4)), BOTTOM_EDGE])  # free: zero, after the gap
    assert low_mark(root)[3] == "Lowest $8.00 on 2026-11-07"


def test_only_free_and_missing_prices_draw_no_low():
    root = chart([point(day(0), None), point(day(1), 0, free=True)])

    assert not [g for g in root.iter(f"{SVG}g") if g.get("class") == "lowest"]
    assert steps(root) == [("M", [x_of(day(1)), BOTTOM_EDGE]), ("H", [RIGHT_EDGE])]


def test_a_thousand_changes_make_one_path_of_steps_in_time_order():
    changes = [point(day(n / 100), 500 + (n * 37) % 1500) for n in range(1000)]

    root = chart(list(reversed(changes)), now=day(12))

    commands = steps(root)
    xs = [numbers[0] for c, numbers in commands if c == "H"]
    assert xs == sorted(xs) and xs[-1] == RIGHT_EDGE
    assert len(commands) <= 2 * len(changes)
    assert all(c == "H" for c, _ in commands[1::2]) and all(c == "V" for c, _ in commands[2::2])


def test_the_table_of_changes_says_each_price_its_discount_and_which_way_it_went():
    changes = [point(day(0), 1999), point(day(1), 999, pct=50), point(day(2), None)]
    changes += [point(day(3), 0, free=True), point(day(4), 1999), point(day(5), 1999)]

    assert change_rows(changes, "GBP") == [
        ChangeRow("2026-11-01 12:00 UTC", "£19.99", "", ""),
        ChangeRow("2026-11-02 12:00 UTC", "£9.99", "-50%", "down"),
        ChangeRow("2026-11-03 12:00 UTC", "no price", "", "gap"),
        ChangeRow("2026-11-04 12:00 UTC", "free", "", ""),
        ChangeRow("2026-11-05 12:00 UTC", "£19.99", "", "up"),
        ChangeRow("2026-11-06 12:00 UTC", "£19.99", "", ""),
    ]


PRICES = st.one_of(st.none(), st.integers(0, 10**9), st.just(-1))  # -1: free


@given(
    prices=st.lists(st.tuples(st.integers(0, 10**6), PRICES), max_size=30),
    title=st.text(st.characters(codec=None, exclude_categories=[]), max_size=80),
    now_offset=st.integers(-(10**6), 10**6),
)
def test_any_history_and_title_give_a_chart_that_parses_and_stays_in_its_box(
    prices, title, now_offset
):
    changes = [
        point(T0 + timedelta(minutes=minutes), None if cents == -1 else cents, free=cents == -1)
        for minutes, cents in prices
    ]

    root = chart(changes, title=title, now=T0 + timedelta(minutes=now_offset))

    paths = list(root.iter(f"{SVG}path"))
    assert len(paths) <= 1
    for command, numbers in steps(root) if paths else []:
        assert all(LEFT <= n <= RIGHT_EDGE for n in numbers[:1] if command in "MH")
        assert all(TOP <= n <= BOTTOM_EDGE for n in numbers[-1:] if command in "MV")
