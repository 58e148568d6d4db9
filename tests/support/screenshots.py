"""Screenshots of the page a browser shows, at a phone's and a desktop's width, full height."""

from __future__ import annotations

from typing import Any

from config import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "instance" / "screenshots"
PHONE, DESKTOP = 360, 1280
MAX_HEIGHT = 6000  # a taller page is cut: a screenshot, not a scroll test


def page_size(driver: Any) -> dict[str, int]:
    """Return the viewport's and the document's sizes, in CSS pixels."""
    size: dict[str, int] = driver.execute_script(
        "const d = document.scrollingElement;"
        "return {inner: window.innerWidth, innerHeight: window.innerHeight,"
        " outerHeight: window.outerHeight, scrollWidth: d.scrollWidth,"
        " scrollHeight: d.scrollHeight};"
    )
    return size


def set_viewport(driver: Any, width: int, height: int) -> dict[str, int]:
    """Make the page's viewport width x height (the window's frame added); return page_size."""
    driver.set_window_size(width, height)
    size = page_size(driver)
    frame = size["outerHeight"] - size["innerHeight"]
    driver.set_window_size(width, height + frame)
    return page_size(driver)


def save_screenshots(driver: Any, step: str) -> dict[int, dict[str, int]]:
    """Save the page at 360 and 1280 px, full height, as instance/screenshots/<step>-<width>.png.

    Returns each width's page_size, measured at full height (no vertical scrollbar then, so
    the layout gets the whole width a phone would give it).
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for width in (PHONE, DESKTOP):
        tall = set_viewport(driver, width, 800)["scrollHeight"]
        sizes[width] = set_viewport(driver, width, min(tall, MAX_HEIGHT))
        driver.save_screenshot(str(SCREENSHOTS / f"{step}-{width}.png"))
    set_viewport(driver, DESKTOP, 800)
    return sizes
