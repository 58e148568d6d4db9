"""Pages anyone can use: keyboard alone with visible focus, and error pages with a way home."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import Browser
from tests.support.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_missing_page_says_so_in_one_line_with_a_way_home(browser: Browser) -> None:
    b = browser
    b.open("/games-that-do-not-exist")
    assert b.heading() == "Not found"
    assert "There is no such page." in b.text("main")
    assert b.find("main a").text == "Go to the home page"
    b.snap("error")


def test_keyboard_alone_signs_in_and_focus_is_visible(browser: Browser, stack: Stack) -> None:
    b, email = browser, "grace.hopper@example.com"
    b.open("/")
    field = b.field("Email address")
    unfocused = outline(b, field)
    first = tab_to(b, "Skip to content")
    assert first == 1, "the first TAB reaches the skip link"
    assert b.driver.switch_to.active_element.rect["x"] >= 0, "the focused skip link shows"
    tab_to(b, "Email address")
    assert visible_focus(unfocused, outline(b, field))
    b.driver.switch_to.active_element.send_keys(email)
    b.follow(lambda: b.driver.switch_to.active_element.send_keys(keys().ENTER))
    assert b.heading() == "Check your inbox"
    b.open(stack.sign_in_link(email))
    button = b.button("Sign in")
    unfocused = outline(b, button)
    tab_to(b, "Sign in", tag="button")
    assert visible_focus(unfocused, outline(b, button))
    b.follow(lambda: b.driver.switch_to.active_element.send_keys(keys().ENTER))
    assert b.path == "/watchlist" and b.signed_in()


def keys() -> Any:
    from selenium.webdriver.common.keys import Keys

    return Keys


def outline(b: Browser, element: Any) -> dict[str, str]:
    """The element's computed outline: what shows where the keyboard is."""
    style: dict[str, str] = b.driver.execute_script(
        "const s = getComputedStyle(arguments[0]);"
        "return {style: s.outlineStyle, width: s.outlineWidth, color: s.outlineColor};",
        element,
    )
    return style


def visible_focus(unfocused: dict[str, str], focused: dict[str, str]) -> bool:
    """Whether focus draws an outline of at least 2 px that was not there before."""
    assert focused != unfocused and focused["style"] != "none", (unfocused, focused)
    assert float(focused["width"].removesuffix("px")) >= 2, focused
    return True


def tab_to(b: Browser, name: str, tag: str = "", most: int = 20) -> int:
    """Press TAB until the focused element (a tag one, if given) is named name; return the count."""
    from selenium.webdriver.common.action_chains import ActionChains

    for presses in range(1, most + 1):
        ActionChains(b.driver).send_keys(keys().TAB).perform()
        focused = b.driver.switch_to.active_element
        if accessible_name(b, focused) == name and tag in ("", focused.tag_name):
            return presses
    raise AssertionError(f"{most} TABs never reached {name!r} on {b.path}")


def accessible_name(b: Browser, element: Any) -> str:
    """The name a screen reader gives element: its label's text, else its own text."""
    name: str = b.driver.execute_script(
        "const el = arguments[0];"
        "const label = el.labels && el.labels.length ? el.labels[0] : el;"
        "return label.textContent.replace(/\\s+/g, ' ').trim();",
        element,
    )
    return name
