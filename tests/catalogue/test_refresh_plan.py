"""The refresh order: stalest first, sales weighted ahead, and nobody starved by a big sale."""

from __future__ import annotations

from datetime import timedelta

from scheduler.catalogue.refresh import Watched, plan_refresh
from tests.support.catalogue import at

NOW = at(24 * 10)


def app(steam_id: int, age_min: float, discount: int = 0, sale_days: float = 1) -> Watched:
    checked = NOW - timedelta(minutes=age_min)
    return Watched(steam_id, checked, checked, discount, NOW - timedelta(days=sale_days))


def test_the_stalest_price_goes_first() -> None:
    apps = [app(1, 5), app(2, 30), app(3, 10)]
    assert plan_refresh(apps, now=NOW, sale_weight=2) == [2, 3, 1]


def test_the_later_of_refresh_and_scrape_is_the_price_s_age() -> None:
    scraped_just_now = Watched(1, NOW - timedelta(hours=5), NOW, 0, None)
    never_refreshed = Watched(2, None, NOW - timedelta(hours=1), 0, None)
    assert plan_refresh([scraped_just_now, never_refreshed], now=NOW, sale_weight=2) == [2, 1]


def test_an_app_on_sale_ages_faster_and_one_about_to_end_faster_still() -> None:
    apps = [app(1, 12), app(2, 7, discount=50), app(3, 4, discount=50, sale_days=7)]
    # Weighted ages: 12, 14 and 16 minutes.
    assert plan_refresh(apps, now=NOW, sale_weight=2) == [3, 2, 1]
    assert plan_refresh(apps, now=NOW, sale_weight=1) == [1, 2, 3]  # a weight of 1: no favour


def test_a_big_sale_does_not_starve_the_apps_at_full_price() -> None:
    on_sale = [app(i, 1, discount=50) for i in range(100)]
    assert plan_refresh([*on_sale, app(999, 3)], now=NOW, sale_weight=2)[0] == 999
